"""The compose file (no image can be built here, so it is checked as a document) and the Dockerfile's
agreement with it."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from boxoffice.core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"\bBOXOFFICE_([A-Z0-9_]+)")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(compose["services"])


def _command(service: dict[str, Any]) -> list[str]:
    return list(service.get("command", []))


def test_the_stack_has_its_services(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert {"postgres", "redis", "migrate", "worker", "proxy", "mailpit"} <= services.keys()
    api = [name for name, service in services.items() if _command(service)[:1] == ["serve"]]
    assert len(api) == 2
    assert [name for name, service in services.items() if _command(service) == ["worker"]] == ["worker"]
    assert _command(services["migrate"]) == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    proxy = " ".join(_command(services["proxy"]))
    assert all(f"{name}:8000" in proxy for name in api)


def test_every_process_of_boxoffice_shares_one_database_and_redis_and_runs_no_worker_inside(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    ours = {name: s for name, s in services.items() if s.get("image") == "boxoffice:latest"}
    assert ours.keys() == {"migrate", "api-1", "api-2", "worker"}
    environments = [s["environment"] for s in ours.values()]
    assert all(e == environments[0] for e in environments)
    environment = environments[0]
    assert environment["BOXOFFICE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["BOXOFFICE_DATABASE_URL"].split("@")[1].startswith("postgres:")
    assert environment["BOXOFFICE_REDIS_URL"].startswith("redis://redis:")
    assert environment["BOXOFFICE_RUN_WORKER"] == "false"
    assert environment["BOXOFFICE_SMTP_HOST"] == "mailpit"
    for name in ("api-1", "api-2", "worker"):
        assert "--no-migrate" in _command(ours[name]) or name == "worker"
        assert ours[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_every_long_running_service_has_a_health_check_or_says_why_not(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        check = service.get("healthcheck")
        assert check is not None, name
        if check.get("disable"):
            assert name in {"migrate", "worker"}, name
            continue
        assert check["test"][0] == "CMD", name
    for name in ("api-1", "api-2", "proxy"):
        assert "/healthz" in " ".join(_services(compose)[name]["healthcheck"]["test"])


def test_every_setting_the_deployment_files_name_exists() -> None:
    known = {name.upper() for name in Settings.model_fields}
    for path in ("compose.yaml", "Dockerfile", "docs/deployment.md"):
        used = set(SETTING.findall((ROOT / path).read_text(encoding="utf-8")))
        # BOXOFFICE_TEST_* are the test suite's settings (conftest.py), not the service's.
        unknown = {name for name in used - known if not name.startswith("TEST_")}
        assert not unknown, f"{path}: no such settings: {sorted(unknown)}"


def test_the_image_serves_as_the_compose_file_runs_it() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["boxoffice"]' in dockerfile
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]' in dockerfile
    assert re.search(r"^USER \d+$", dockerfile, re.MULTILINE)
    assert "/healthz" in dockerfile.split("HEALTHCHECK", 1)[1]
    assert "uv.lock" in dockerfile
    assert dockerfile.count("\nFROM ") + dockerfile.startswith("FROM ") >= 2
