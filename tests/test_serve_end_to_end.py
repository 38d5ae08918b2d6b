"""The real `boxoffice serve` process, over a real socket."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import boxoffice_serve


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    with boxoffice_serve(database_url, tmp_path) as process:
        yield process.base
    assert f"docs at {process.base}/docs" in process.output


@pytest.mark.slow
def test_a_served_boxoffice_registers_logs_in_and_knows_the_user(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        email = f"e2e-{time.time_ns()}@example.com"
        registered = http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "end-to-end-pw", "full_name": "End To End"},
        )
        assert registered.status_code == 201, registered.text
        tokens = http.post("/api/v1/auth/login", data={"username": email, "password": "end-to-end-pw"})
        assert tokens.status_code == 200, tokens.text
        me = http.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        )
        assert me.status_code == 200
        assert me.json()["email"] == email
        assert me.headers["X-Request-ID"]
        assert http.get("/readyz").status_code == 200


@pytest.mark.slow
def test_with_json_logs_uvicorns_own_lines_are_json_too(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'boxoffice.db'}"
    with boxoffice_serve(url, tmp_path, log_format="json", log_level="INFO") as process:
        assert httpx.get(f"{process.base}/healthz", timeout=10).status_code == 200
    logged = [line for line in process.output.splitlines() if line.strip()]
    lines = [json.loads(line) for line in logged if line.startswith("{")]
    events = {line["event"] for line in lines}
    assert any("Application startup complete" in event for event in events), process.output
    assert any("Uvicorn running on" in event for event in events), process.output
    assert all(line["level"] for line in lines)
    assert not [line for line in logged if line.startswith(("INFO:", "WARNING:", "ERROR:"))], process.output
