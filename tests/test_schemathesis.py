"""Schemathesis against a served boxoffice, as an attendee, an organizer, an admin and anonymously,
with every check: no server error, and no answer the OpenAPI document does not describe.

Each run makes ``BOXOFFICE_TEST_SCHEMATHESIS_EXAMPLES`` examples per operation and phase (default 3,
enough for CI); set it higher (50, 500) for a deeper search. The examples come from a fixed seed, so a
run finds the same things every time; ``BOXOFFICE_TEST_SCHEMATHESIS_SEED`` picks another seed (``random``
for a new one each run). A failure prints Schemathesis' report, with the seed and a curl command to
replay each finding.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Served, boxoffice_serve

pytestmark = pytest.mark.slow

EXAMPLES = os.environ.get("BOXOFFICE_TEST_SCHEMATHESIS_EXAMPLES", "3")
SEED = os.environ.get("BOXOFFICE_TEST_SCHEMATHESIS_SEED", "20261202")
CONFIG = Path(__file__).with_name("schemathesis.toml")
PASSWORD = "correct horse battery"
SERVER_SETTINGS = {"rate_limits_enabled": "false", "access_token_ttl_seconds": "7200"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite+aiosqlite:///{workdir / 'boxoffice.db'}"
    with boxoffice_serve(url, workdir, **SERVER_SETTINGS) as process:
        yield process, workdir


def _token(base: str, email: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _signed_in(served: tuple[Served, Path], role: str) -> str:
    """An access token of a new account with ``role``, with an event and a booking to find."""
    process, workdir = served
    base, email = process.base, f"{role}-{time.time_ns()}@example.com"
    if role == "admin":
        subprocess.run(
            [sys.executable, "-m", "boxoffice", "create-admin", "--email", email, "--password", PASSWORD],
            env={
                **os.environ,
                "BOXOFFICE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'boxoffice.db'}",
                "BOXOFFICE_SECRET_KEY_FILE": str(workdir / "secret"),
            },
            check=True,
            capture_output=True,
        )
    else:
        body = {"email": email, "password": PASSWORD, "full_name": role.title(), "role": role}
        assert httpx.post(f"{base}/api/v1/auth/register", json=body, timeout=10).status_code == 201
    return _token(base, email)


@pytest.mark.parametrize("role", ["anonymous", "attendee", "organizer", "admin"])
def test_the_api_matches_its_document(served: tuple[Served, Path], role: str, tmp_path: Path) -> None:
    process, _ = served
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{process.base}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        EXAMPLES,
        "--generation-database",
        "none",
        "--no-color",
    ]
    if SEED != "random":
        command += ["--seed", SEED]
    if role != "anonymous":
        command += ["--header", f"Authorization: Bearer {_signed_in(served, role)}"]
        # Logging out ends the very session the run uses; the anonymous run covers it.
        command += ["--exclude-path", "/api/v1/auth/logout"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
