"""Only admins reach /admin: other users get 403 forbidden, anonymous callers 401 not_authenticated."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.admin.helpers import AUDIT_LOG, STATS, USERS, admin_user, audit_entries
from tests.factories import assert_problem, create_account, create_admin

ENDPOINTS = [
    ("GET", USERS, None),
    ("GET", USERS + "/{user_id}", None),
    ("PATCH", USERS + "/{user_id}", {"role": "admin"}),
    ("GET", STATS, None),
    ("GET", AUDIT_LOG, None),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize("role", ["attendee", "organizer"])
async def test_a_non_admin_is_forbidden(
    app: FastAPI, client: AsyncClient, role: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    caller = await create_account(client, role=role)
    url = path.format(user_id=caller.id)
    response = await client.request(method, url, json=body, headers=caller.headers)
    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
async def test_an_anonymous_caller_is_not_authenticated(
    app: FastAPI, client: AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    target = await create_account(client)
    response = await client.request(method, path.format(user_id=target.id), json=body)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=ENDPOINT_IDS)
async def test_a_garbage_token_is_not_authenticated(
    app: FastAPI, client: AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    target = await create_account(client)
    headers = {"Authorization": "Bearer not-a-token"}
    response = await client.request(method, path.format(user_id=target.id), json=body, headers=headers)
    assert_problem(response, 401, "not_authenticated")


async def test_an_organizer_cannot_promote_themselves(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    response = await client.patch(
        f"{USERS}/{organizer.id}", json={"role": "admin"}, headers=organizer.headers
    )
    assert_problem(response, 403, "forbidden")
    assert (await admin_user(client, admin, organizer.id))["role"] == "organizer"
    assert await audit_entries(client, admin, action="user.role_changed") == []


async def test_an_attendee_cannot_disable_someone_else(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    victim = await create_account(client)
    response = await client.patch(f"{USERS}/{victim.id}", json={"is_active": False}, headers=attendee.headers)
    assert_problem(response, 403, "forbidden")
    assert (await admin_user(client, admin, victim.id))["is_active"] is True
    assert (await client.get("/api/v1/users/me", headers=victim.headers)).status_code == 200


async def test_a_non_admin_is_forbidden_even_for_an_unknown_user(app: FastAPI, client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await client.get(f"{USERS}/00000000-0000-0000-0000-000000000000", headers=attendee.headers)
    assert_problem(response, 403, "forbidden")
