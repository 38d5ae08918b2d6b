import asyncio

from httpx import AsyncClient

from tests.factories import assert_problem, bearer, create_account, login


async def _refresh(client: AsyncClient, token: str):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_refresh_returns_a_new_pair_that_works(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await _refresh(client, account.refresh_token)
    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != account.refresh_token
    assert pair["access_token"] != account.access_token
    assert (await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))).status_code == 200


async def test_a_rotated_refresh_token_can_be_rotated_again(client: AsyncClient) -> None:
    account = await create_account(client)
    token = account.refresh_token
    for _ in range(3):
        response = await _refresh(client, token)
        assert response.status_code == 200
        token = response.json()["refresh_token"]


async def test_reusing_a_spent_refresh_token_ends_the_whole_session(client: AsyncClient) -> None:
    account = await create_account(client)
    first = (await _refresh(client, account.refresh_token)).json()
    second = (await _refresh(client, first["refresh_token"])).json()

    assert_problem(await _refresh(client, account.refresh_token), 401, "token_reused")

    # Every token descended from that login is dead: the latest refresh and every access token.
    assert_problem(await _refresh(client, second["refresh_token"]), 401, "token_invalid")
    for access in (account.access_token, first["access_token"], second["access_token"]):
        assert_problem(await client.get("/api/v1/users/me", headers=bearer(access)), 401, "not_authenticated")


async def test_reuse_ends_only_that_session(client: AsyncClient) -> None:
    account = await create_account(client)
    other = (await login(client, account.email)).json()
    await _refresh(client, account.refresh_token)
    assert_problem(await _refresh(client, account.refresh_token), 401, "token_reused")
    assert (await client.get("/api/v1/users/me", headers=bearer(other["access_token"]))).status_code == 200
    assert (await _refresh(client, other["refresh_token"])).status_code == 200


async def test_two_concurrent_refreshes_with_one_token_let_at_most_one_win(client: AsyncClient) -> None:
    account = await create_account(client)
    responses = await asyncio.gather(*(_refresh(client, account.refresh_token) for _ in range(5)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) <= 1
    assert {r.json()["code"] for r in responses if r.status_code != 200} <= {"token_reused", "token_invalid"}


async def test_an_access_token_is_not_a_refresh_token(client: AsyncClient) -> None:
    account = await create_account(client)
    assert_problem(await _refresh(client, account.access_token), 401, "token_invalid")


async def test_a_garbage_refresh_token_is_invalid(client: AsyncClient) -> None:
    assert_problem(await _refresh(client, "not.a.jwt"), 401, "token_invalid")


async def test_a_missing_refresh_token_is_a_validation_error(client: AsyncClient) -> None:
    assert_problem(await client.post("/api/v1/auth/refresh", json={}), 422, "validation_error")


async def test_a_refresh_token_of_a_logged_out_session_is_invalid(client: AsyncClient) -> None:
    account = await create_account(client)
    await client.post("/api/v1/auth/logout", headers=account.headers)
    assert_problem(await _refresh(client, account.refresh_token), 401, "token_invalid")
