"""A Redis that accepts connections and never answers: rate limiting must not take the service down.

The server here is real TCP (an asyncio server that accepts and then stays silent), not a mock."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from boxoffice.app import create_app
from boxoffice.core.breaker import CircuitBreaker
from tests.conftest import make_settings
from tests.factories import assert_problem


@pytest.fixture
async def silent_redis() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    accepted: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # and never write a byte

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0", accepted
    for writer in accepted:
        writer.close()
    server.close()
    await server.wait_closed()


def _opened() -> float:
    return REGISTRY.get_sample_value("boxoffice_breaker_opened_total", {"name": "redis"}) or 0.0


async def test_a_silent_redis_opens_the_breaker_once_and_requests_go_through(
    database_url: str,
    tmp_path: Path,
    silent_redis: tuple[str, list[asyncio.StreamWriter]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, accepted = silent_redis
    app = create_app(
        make_settings(
            database_url,
            tmp_path,
            rate_limits_enabled=True,
            redis_url=url,
            redis_timeout_seconds=0.2,
            redis_breaker_seconds=3600,
        )
    )
    opened_before = _opened()
    transport = ASGITransport(app=app, client=("203.0.113.9", 4242))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        body = {"email": "nobody@example.com", "password": "whatever-123"}
        for _ in range(10):
            assert_problem(await client.post("/api/v1/auth/login", json=body), 401, "invalid_credentials")
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}
    # One call reached the silent server and timed out; the breaker kept every later one away.
    assert len(accepted) == 1
    assert _opened() == opened_before + 1
    logged = capsys.readouterr().err
    assert logged.count('"dependency_down"') == 1
    assert "Traceback" not in logged


def test_the_breaker_closes_after_a_success_and_says_so_once() -> None:
    breaker = CircuitBreaker("probe-test", open_seconds=0.0)
    with capture_logs() as logs:
        breaker.failed(ConnectionError("down"))
        breaker.failed(ConnectionError("still down"))
        assert breaker.is_open
        assert breaker.allows_call()  # the period (0 s) is over: one probe goes through
        breaker.succeeded()
        breaker.succeeded()
    assert not breaker.is_open
    assert [entry["event"] for entry in logs] == ["dependency_down", "dependency_recovered"]
