"""Real ``boxoffice`` processes for the tests that need more than the in-process app."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """A running ``boxoffice`` process (``base`` is its address when it serves HTTP) and, once it has
    stopped, everything it printed."""

    base: str
    process: subprocess.Popen[str] | None = None
    output: str = field(default="")
    killed: bool = False

    def kill(self) -> None:
        """``kill -9``: no shutdown, no cleanup; wait until it is gone."""
        assert self.process is not None
        self.killed = True
        self.process.kill()
        self.process.wait(timeout=30)


def _environment(database_url: str, workdir: Path, settings: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY_FILE": str(workdir / "secret"),
        "BOXOFFICE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "BOXOFFICE_PASSWORD_HASH_TIME_COST": "1",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        **{f"BOXOFFICE_{name.upper()}": value for name, value in settings.items()},
    }


@contextmanager
def _running(
    command: list[str], database_url: str, workdir: Path, settings: dict[str, str]
) -> Iterator[Served]:
    workdir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "boxoffice", *command],
        env=_environment(database_url, workdir, settings),
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served("", process)
    try:
        yield served
    finally:
        if not served.killed:
            process.terminate()
        served.output, _ = process.communicate(timeout=30)
        # uvicorn and the worker shut down gracefully, then re-raise the SIGTERM they caught.
        expected = (-signal.SIGKILL,) if served.killed else (0, -signal.SIGTERM)
        assert process.returncode in expected, served.output


@contextmanager
def boxoffice_serve(database_url: str, workdir: Path, **settings: str) -> Iterator[Served]:
    """Run ``boxoffice serve`` on a free port against ``database_url`` until the block ends, then stop
    it with SIGTERM and insist it stopped cleanly (unless the test killed it). ``settings`` are extra
    ``BOXOFFICE_`` variables."""
    port = free_port()
    with _running(["serve", "--port", str(port)], database_url, workdir, settings) as served:
        served.base = f"http://127.0.0.1:{port}"
        assert served.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert served.process.poll() is None, (
                served.process.stdout.read() if served.process.stdout else ""
            )
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "boxoffice serve did not come up"
            time.sleep(0.2)
        yield served


@contextmanager
def boxoffice_worker(database_url: str, workdir: Path, **settings: str) -> Iterator[Served]:
    """Run ``boxoffice worker`` against ``database_url`` until the block ends, as ``boxoffice_serve``."""
    with _running(["worker"], database_url, workdir, settings) as served:
        yield served
