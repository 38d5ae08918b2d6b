"""X-Forwarded-For counts only from a trusted proxy (BOXOFFICE_TRUSTED_PROXIES, none by default)."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from boxoffice.core.config import Settings
from boxoffice.core.proxies import client_address
from tests.conftest import make_settings
from tests.factories import assert_problem

BODY = {"email": "nobody@example.com", "password": "whatever-123"}


def _app(database_url: str, tmp_path: Path, **overrides: Any) -> FastAPI:
    return create_app(
        make_settings(database_url, tmp_path, rate_limits_enabled=True, rate_limit_auth="2/hour", **overrides)
    )


def _client(app: FastAPI, peer: str) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app, client=(peer, 5000)), base_url="http://t")


async def _login(client: AsyncClient, forwarded_for: str) -> int:
    response = await client.post("/api/v1/auth/login", json=BODY, headers={"X-Forwarded-For": forwarded_for})
    return response.status_code


async def test_by_default_a_rotated_forwarded_for_header_does_not_bypass_the_login_limit(
    database_url: str, tmp_path: Path
) -> None:
    app = _app(database_url, tmp_path)
    async with app.router.lifespan_context(app), _client(app, "127.0.0.1") as client:
        assert [await _login(client, f"198.51.100.{i}") for i in range(2)] == [401, 401]
        response = await client.post(
            "/api/v1/auth/login", json=BODY, headers={"X-Forwarded-For": "198.51.100.99"}
        )
        assert_problem(response, 429, "rate_limited")


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    database_url: str, tmp_path: Path
) -> None:
    app = _app(database_url, tmp_path, trusted_proxies="10.0.0.0/8")
    async with app.router.lifespan_context(app), _client(app, "10.1.2.3") as balancer:
        assert [await _login(balancer, "198.51.100.1") for _ in range(2)] == [401, 401]
        assert await _login(balancer, "198.51.100.1") == 429
        # Another client behind the same balancer is not in the first one's budget.
        assert await _login(balancer, "198.51.100.2") == 401
        # A client cannot pose as someone else by prepending an address: the balancer appends the real one.
        assert await _login(balancer, "198.51.100.77, 198.51.100.1") == 429


async def test_a_peer_that_is_not_a_trusted_proxy_cannot_forward(database_url: str, tmp_path: Path) -> None:
    app = _app(database_url, tmp_path, trusted_proxies="10.0.0.0/8")
    async with app.router.lifespan_context(app), _client(app, "203.0.113.5") as direct:
        assert [await _login(direct, f"198.51.100.{i}") for i in range(2)] == [401, 401]
        assert await _login(direct, "198.51.100.50") == 429


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("127.0.0.1", "1.2.3.4", "127.0.0.1"),  # not trusted: header ignored
        ("10.0.0.1", "1.2.3.4", "1.2.3.4"),
        ("10.0.0.1", "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the rightmost untrusted hop
        ("10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),  # through two trusted proxies
        ("10.0.0.1", "not-an-ip, 10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_address_is_the_rightmost_untrusted_hop(peer: str, header: str, expected: str) -> None:
    networks = Settings(_env_file=None, trusted_proxies="10.0.0.0/8").trusted_proxies  # type: ignore[call-arg]
    assert client_address(peer, header, networks) == expected


def test_the_default_trusts_no_proxy() -> None:
    assert Settings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]
