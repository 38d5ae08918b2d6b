"""./dev serve, run as a person runs it: stopping ./dev (Ctrl-C or SIGTERM) stops the server it started."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.processes import STARTUP_TIMEOUT_SECONDS, free_port

DEV = Path(__file__).resolve().parents[1] / "dev"

pytestmark = pytest.mark.slow


@contextmanager
def dev_serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``./dev serve`` on a free port in its own session (as a terminal gives a foreground job)."""
    port = free_port()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'boxoffice.db'}",
        "BOXOFFICE_SECRET_KEY_FILE": str(tmp_path / "secret"),
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [str(DEV), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _answers(base):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "./dev serve did not come up"
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _assert_nothing_left(process: subprocess.Popen[str], base: str) -> None:
    process.communicate(timeout=30)
    assert not _answers(base)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # no process of the group it started is left


def test_sigterm_to_dev_stops_the_server(tmp_path: Path) -> None:
    with dev_serve(tmp_path) as (process, base):
        os.kill(process.pid, signal.SIGTERM)  # to ./dev alone, as a process manager does
        _assert_nothing_left(process, base)


def test_ctrl_c_stops_the_server(tmp_path: Path) -> None:
    with dev_serve(tmp_path) as (process, base):
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
        _assert_nothing_left(process, base)
        assert process.returncode == 0
