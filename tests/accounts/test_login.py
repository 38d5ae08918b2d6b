import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from boxoffice.core.security import Passwords
from boxoffice.models import User
from tests.factories import DEFAULT_PASSWORD, assert_problem, bearer, login, register


async def test_login_with_json_returns_a_token_pair(client: AsyncClient) -> None:
    email = (await register(client)).json()["email"]
    response = await login(client, email)
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = await client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == email


async def test_login_with_the_oauth2_password_form(client: AsyncClient) -> None:
    email = (await register(client)).json()["email"]
    response = await client.post(
        "/api/v1/auth/login",
        data={"username": email, "password": DEFAULT_PASSWORD, "grant_type": "password", "scope": ""},
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"


async def test_login_email_is_case_insensitive(client: AsyncClient) -> None:
    await register(client, email="casey@example.com")
    assert (await login(client, "CASEY@Example.com")).status_code == 200


async def test_a_wrong_password_is_invalid_credentials(client: AsyncClient) -> None:
    email = (await register(client)).json()["email"]
    response = await login(client, email, "wrong-password")
    assert_problem(response, 401, "invalid_credentials")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_unknown_email_is_the_same_invalid_credentials(client: AsyncClient) -> None:
    email = (await register(client)).json()["email"]
    wrong_password = assert_problem(await login(client, email, "wrong-password"), 401, "invalid_credentials")
    unknown = assert_problem(await login(client, "nobody@example.com"), 401, "invalid_credentials")
    assert wrong_password["detail"] == unknown["detail"]


async def test_an_unknown_email_still_costs_a_password_verification(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes_checked: list[str | None] = []
    real_verify = Passwords.verify

    async def counting_verify(self: Passwords, password: str, password_hash: str | None) -> bool:
        hashes_checked.append(password_hash)
        return await real_verify(self, password, password_hash)

    monkeypatch.setattr(Passwords, "verify", counting_verify)
    await login(client, "nobody@example.com")
    assert hashes_checked == [None]  # verified against the decoy hash, as a real login would be


async def test_a_disabled_account_cannot_log_in(app: FastAPI, client: AsyncClient) -> None:
    email = (await register(client)).json()["email"]
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(User).where(User.email == email).values(is_active=False))
    assert_problem(await login(client, email), 403, "account_disabled")


async def test_a_disabled_account_with_a_wrong_password_learns_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    email = (await register(client)).json()["email"]
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(User).where(User.email == email).values(is_active=False))
    assert_problem(await login(client, email, "wrong-password"), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com"},
        {"password": "whatever-123"},
        {"email": "a@example.com", "password": "whatever-123", "role": "admin"},
        {"email": "not-an-email", "password": "whatever-123"},
        {"email": "a@example.com", "password": "p" * 129},
    ],
)
async def test_a_malformed_login_is_a_validation_error(client: AsyncClient, body: dict[str, str]) -> None:
    assert_problem(await client.post("/api/v1/auth/login", json=body), 422, "validation_error")


async def test_a_login_body_that_is_not_json_is_a_validation_error(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"garbage", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 422, "validation_error")


async def test_a_form_with_unknown_fields_is_a_validation_error(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", data={"username": "a@example.com", "password": "x" * 8, "role": "admin"}
    )
    assert_problem(response, 422, "validation_error")
