"""Forged, foreign and stale access tokens are all refused with 401."""

import base64
import json
import time
import uuid

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from boxoffice.models import User
from tests.factories import assert_problem, bearer, create_account


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


async def _me_status(client: AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/api/v1/users/me", headers=headers)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_alg_none_token_is_refused(client: AsyncClient) -> None:
    account = await create_account(client)
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_payload(account.access_token))}."
    await _me_status(client, bearer(forged))


async def test_a_tampered_payload_is_refused(client: AsyncClient) -> None:
    victim = await create_account(client)
    attacker = await create_account(client)
    header, _, signature = _segments(attacker.access_token)
    payload = {**_payload(attacker.access_token), "sub": victim.id}
    await _me_status(client, bearer(f"{header}.{_b64(payload)}.{signature}"))


async def test_a_token_signed_with_another_key_is_refused(client: AsyncClient) -> None:
    account = await create_account(client)
    forged = jwt.encode(_payload(account.access_token), "not-the-server-key-" * 3, algorithm="HS256")
    await _me_status(client, bearer(forged))


async def test_a_refresh_token_is_not_an_access_token(client: AsyncClient) -> None:
    account = await create_account(client)
    await _me_status(client, bearer(account.refresh_token))


async def test_an_expired_token_is_refused(app: FastAPI, client: AsyncClient) -> None:
    account = await create_account(client)
    key = app.state.settings.signing_key
    expired = {
        **_payload(account.access_token),
        "iat": int(time.time()) - 7200,
        "exp": int(time.time()) - 3600,
    }
    await _me_status(client, bearer(jwt.encode(expired, key, algorithm="HS256")))


async def test_a_token_for_an_unknown_session_is_refused(app: FastAPI, client: AsyncClient) -> None:
    account = await create_account(client)
    key = app.state.settings.signing_key
    payload = {**_payload(account.access_token), "sid": str(uuid.uuid4())}
    await _me_status(client, bearer(jwt.encode(payload, key, algorithm="HS256")))


@pytest.mark.parametrize("claim", ["sub", "sid", "jti", "type", "exp", "iat"])
async def test_a_token_missing_a_claim_is_refused(app: FastAPI, client: AsyncClient, claim: str) -> None:
    account = await create_account(client)
    payload = {k: v for k, v in _payload(account.access_token).items() if k != claim}
    await _me_status(client, bearer(jwt.encode(payload, app.state.settings.signing_key, algorithm="HS256")))


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer not-a-jwt", "bearer a.b.c"]
)
async def test_malformed_authorization_headers_are_refused(client: AsyncClient, header: str) -> None:
    await _me_status(client, {"Authorization": header})


async def test_a_disabled_accounts_tokens_stop_working_at_once(app: FastAPI, client: AsyncClient) -> None:
    account = await create_account(client)
    assert (await client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(User).where(User.email == account.email).values(is_active=False))
    await _me_status(client, account.headers)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert_problem(response, 401, "token_invalid")
