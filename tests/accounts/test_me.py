from httpx import AsyncClient

from tests.factories import DEFAULT_PASSWORD, assert_problem, bearer, create_account, login, register


async def test_me_returns_the_callers_account(client: AsyncClient) -> None:
    account = await create_account(client, role="organizer")
    response = await client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["id"] == account.id
    assert response.json()["role"] == "organizer"


async def test_me_needs_authentication(client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_changing_the_name_needs_no_password(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch("/api/v1/users/me", headers=account.headers, json={"full_name": "New Name"})
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"


async def test_changing_the_email_needs_the_current_password(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me", headers=account.headers, json={"email": "new@example.com"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "current_password"]


async def test_changing_the_email_with_a_wrong_password_is_refused(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"email": "new@example.com", "current_password": "wrong-password"},
    )
    assert_problem(response, 403, "invalid_credentials")
    assert (await client.get("/api/v1/users/me", headers=account.headers)).json()["email"] == account.email


async def test_changing_the_email_normalises_it_and_moves_the_login(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"email": "Moved@Example.com", "current_password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 200
    assert response.json()["email"] == "moved@example.com"
    assert (await login(client, "moved@example.com")).status_code == 200
    assert_problem(await login(client, account.email), 401, "invalid_credentials")


async def test_changing_to_a_taken_email_is_a_conflict(client: AsyncClient) -> None:
    other = (await register(client)).json()
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"email": other["email"].upper(), "current_password": DEFAULT_PASSWORD},
    )
    assert_problem(response, 409, "email_taken")


async def test_keeping_ones_own_email_is_not_a_conflict(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"email": account.email, "current_password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 200


async def test_changing_the_password_ends_the_other_sessions_only(client: AsyncClient) -> None:
    account = await create_account(client)
    other = (await login(client, account.email)).json()
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"password": "brand-new-password", "current_password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 200
    assert (await client.get("/api/v1/users/me", headers=account.headers)).status_code == 200
    me_elsewhere = await client.get("/api/v1/users/me", headers=bearer(other["access_token"]))
    assert_problem(me_elsewhere, 401, "not_authenticated")
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert_problem(refreshed, 401, "token_invalid")
    assert (await login(client, account.email, "brand-new-password")).status_code == 200
    assert_problem(await login(client, account.email), 401, "invalid_credentials")


async def test_a_too_short_new_password_is_rejected(client: AsyncClient) -> None:
    account = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        headers=account.headers,
        json={"password": "short", "current_password": DEFAULT_PASSWORD},
    )
    assert_problem(response, 422, "validation_error")


async def test_role_and_status_cannot_be_changed_through_me(client: AsyncClient) -> None:
    account = await create_account(client)
    for field, value in [("role", "admin"), ("is_active", False)]:
        response = await client.patch("/api/v1/users/me", headers=account.headers, json={field: value})
        assert_problem(response, 422, "validation_error")
    assert (await client.get("/api/v1/users/me", headers=account.headers)).json()["role"] == "attendee"


async def test_updating_me_needs_authentication(client: AsyncClient) -> None:
    assert_problem(await client.patch("/api/v1/users/me", json={"full_name": "X"}), 401, "not_authenticated")
