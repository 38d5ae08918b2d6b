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
    """A running ``boxoffice serve``: its address and, once it has stopped, everything it printed."""

    base: str
    output: str = field(default="")


@contextmanager
def boxoffice_serve(database_url: str, workdir: Path, **settings: str) -> Iterator[Served]:
    """Run ``boxoffice serve`` on a free port against ``database_url`` until the block ends, then stop
    it with SIGTERM and insist it stopped cleanly. ``settings`` are extra ``BOXOFFICE_`` variables."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY_FILE": str(workdir / "secret"),
        "BOXOFFICE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "BOXOFFICE_PASSWORD_HASH_TIME_COST": "1",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        **{f"BOXOFFICE_{name.upper()}": value for name, value in settings.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "boxoffice", "serve", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "boxoffice serve did not come up"
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        served.output, _ = process.communicate(timeout=30)
        # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught.
        assert process.returncode in (0, -signal.SIGTERM), served.output
