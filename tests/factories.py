"""Small builders for test scenarios, through the API wherever the API can do it."""

import itertools
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from boxoffice.accounts import service as accounts_service
from boxoffice.core.security import Passwords
from boxoffice.models import Role

DEFAULT_PASSWORD = "s3cret-passw0rd"
_sequence = itertools.count(1)


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_sequence)}@example.com"


async def register(client: AsyncClient, **overrides: Any) -> Response:
    body = {
        "email": unique_email(),
        "password": DEFAULT_PASSWORD,
        "full_name": "Test Person",
        **overrides,
    }
    return await client.post("/api/v1/auth/register", json=body)


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def create_account(
    client: AsyncClient, role: str = "attendee", password: str = DEFAULT_PASSWORD
) -> Account:
    """Register through the API and log in."""
    registered = await register(client, role=role, password=password)
    assert registered.status_code == 201, registered.text
    user = registered.json()
    tokens = (await login(client, user["email"], password)).json()
    return Account(user["id"], user["email"], password, tokens["access_token"], tokens["refresh_token"])


async def create_admin(app: FastAPI, client: AsyncClient) -> Account:
    """Admins cannot register over HTTP; make one the way `boxoffice create-admin` does."""
    email = unique_email("admin")
    async with app.state.database.unit_of_work() as session:
        user = await accounts_service.create_user(
            session,
            Passwords(app.state.settings),
            email=email,
            password=DEFAULT_PASSWORD,
            full_name="Admin",
            role=Role.ADMIN,
        )
    tokens = (await login(client, email)).json()
    return Account(str(user.id), email, DEFAULT_PASSWORD, tokens["access_token"], tokens["refresh_token"])


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body
