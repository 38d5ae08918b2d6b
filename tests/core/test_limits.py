"""Rate limits (429 with Retry-After, per IP or per user, shared through Redis) and body size.

Budgets here are per hour, not per minute: the limiter's sliding window weighs the previous window's
count, so requests that straddle a window's start may be counted a little short; an hour makes a
test run across that moment sixty times less likely than a minute would."""

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.factories import DEFAULT_PASSWORD, assert_problem, create_account, register, unique_email


def _limited_app(database_url: str, tmp_path: Path, **overrides: Any) -> FastAPI:
    return create_app(make_settings(database_url, tmp_path, rate_limits_enabled=True, **overrides))


def _client(app: FastAPI, ip: str = "203.0.113.7") -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=(ip, 4242)), base_url="http://test")


async def test_logins_beyond_the_limit_answer_429_with_retry_after(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_auth="3/hour")
    async with app.router.lifespan_context(app), _client(app) as client:
        body = {"email": "nobody@example.com", "password": "whatever-123"}
        statuses = [(await client.post("/api/v1/auth/login", json=body)).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        response = await client.post("/api/v1/auth/login", json=body)
        assert_problem(response, 429, "rate_limited")
        assert 1 <= int(response.headers["Retry-After"]) <= 3600


async def test_anonymous_limits_are_per_client_address(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_auth="2/hour")
    async with app.router.lifespan_context(app):
        async with _client(app, "198.51.100.1") as first:
            for _ in range(2):
                await first.post("/api/v1/auth/password/forgot", json={"email": "a@example.com"})
            limited = await first.post("/api/v1/auth/password/forgot", json={"email": "a@example.com"})
            assert_problem(limited, 429, "rate_limited")
        async with _client(app, "198.51.100.2") as second:
            response = await second.post("/api/v1/auth/password/forgot", json={"email": "a@example.com"})
            assert response.status_code == 202


async def test_each_auth_route_has_its_own_counter(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_auth="1/hour")
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await register(client)).status_code == 201
        assert_problem(await register(client), 429, "rate_limited")
        login = await client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "x" * 8})
        assert login.status_code == 401


async def test_authenticated_limits_are_per_user(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_default="5/hour")
    async with app.router.lifespan_context(app), _client(app) as client:
        alice = await create_account(client)  # register + login: two anonymous requests from this address
        bob = await create_account(client)
        for _ in range(5):
            assert (await client.get("/api/v1/users/me", headers=alice.headers)).status_code == 200
        assert_problem(await client.get("/api/v1/users/me", headers=alice.headers), 429, "rate_limited")
        assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_booking_writes_have_their_own_budget(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_booking_writes="2/hour")
    async with app.router.lifespan_context(app), _client(app) as client:
        user = await create_account(client)
        unknown = {"event_id": str(uuid.uuid4())}
        for _ in range(2):
            assert (
                await client.post("/api/v1/bookings", json=unknown, headers=user.headers)
            ).status_code == 404
        assert_problem(
            await client.post("/api/v1/bookings", json=unknown, headers=user.headers), 429, "rate_limited"
        )
        assert (await client.get("/api/v1/bookings", headers=user.headers)).status_code == 200


async def test_health_endpoints_are_never_rate_limited(database_url: str, tmp_path: Path) -> None:
    app = _limited_app(database_url, tmp_path, rate_limit_default="1/hour")
    async with app.router.lifespan_context(app), _client(app) as client:
        statuses = [(await client.get("/healthz")).status_code for _ in range(5)]
        assert statuses == [200] * 5


@pytest.mark.skipif(
    not REDIS_URL,
    reason="needs Redis: set BOXOFFICE_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15; CI sets it)",
)
async def test_limits_are_shared_between_processes_through_redis(database_url: str, tmp_path: Path) -> None:
    shared = {
        "redis_url": REDIS_URL,
        "redis_key_prefix": f"test-{uuid.uuid4().hex}",
        "rate_limit_auth": "3/hour",
    }
    first, second = (_limited_app(database_url, tmp_path, **shared) for _ in range(2))
    body = {"email": unique_email(), "password": DEFAULT_PASSWORD}
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
        _client(first) as one,
        _client(second) as two,
    ):
        assert (await one.post("/api/v1/auth/login", json=body)).status_code == 401
        assert (await two.post("/api/v1/auth/login", json=body)).status_code == 401
        assert (await one.post("/api/v1/auth/login", json=body)).status_code == 401
        assert_problem(await two.post("/api/v1/auth/login", json=body), 429, "rate_limited")
        ready = (await one.get("/readyz")).json()
        assert ready["checks"]["redis"] == "ok"


async def test_an_unreachable_redis_leaves_the_process_ready_but_degraded(
    database_url: str, tmp_path: Path
) -> None:
    app = _limited_app(database_url, tmp_path, redis_url="redis://127.0.0.1:9/0")
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await register(client)).status_code == 201
        response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


async def test_a_body_over_one_mebibyte_is_refused(client: AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024 + 1) + b'"}'
    response = await client.post(
        "/api/v1/auth/register", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_a_streamed_body_over_the_limit_is_refused(client: AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536

    response = await client.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


def test_ci_runs_the_redis_tests() -> None:
    if os.environ.get("CI", "").lower() == "true":
        assert REDIS_URL, "CI must set BOXOFFICE_TEST_REDIS_URL"
