from httpx import AsyncClient

from tests.factories import assert_problem, bearer, create_account, login


async def test_logout_ends_the_access_token_at_once(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.post("/api/v1/auth/logout", headers=account.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get("/api/v1/users/me", headers=account.headers), 401, "not_authenticated")


async def test_logout_spends_the_refresh_token(client: AsyncClient) -> None:
    account = await create_account(client)
    await client.post(
        "/api/v1/auth/logout", headers=account.headers, json={"refresh_token": account.refresh_token}
    )
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert_problem(response, 401, "token_invalid")


async def test_logout_ends_only_its_own_session(client: AsyncClient) -> None:
    account = await create_account(client)
    other = (await login(client, account.email)).json()
    await client.post("/api/v1/auth/logout", headers=account.headers)
    assert (await client.get("/api/v1/users/me", headers=bearer(other["access_token"]))).status_code == 200


async def test_logout_cannot_end_another_users_session(client: AsyncClient) -> None:
    mallory = await create_account(client)
    victim = await create_account(client)
    await client.post(
        "/api/v1/auth/logout", headers=mallory.headers, json={"refresh_token": victim.refresh_token}
    )
    assert (await client.get("/api/v1/users/me", headers=victim.headers)).status_code == 200


async def test_logout_needs_authentication(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/logout")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_logout_rejects_unknown_fields(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.post("/api/v1/auth/logout", headers=account.headers, json={"everything": True})
    assert_problem(response, 422, "validation_error")
