"""The real `boxoffice serve` process, over a real socket."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY_FILE": str(tmp_path / "secret"),
        "BOXOFFICE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "BOXOFFICE_PASSWORD_HASH_TIME_COST": "1",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "boxoffice", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "boxoffice serve did not come up"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught.
        assert process.returncode in (0, -signal.SIGTERM), output
        assert f"docs at {base}/docs" in output


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
