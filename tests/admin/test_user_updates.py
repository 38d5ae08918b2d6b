"""PATCH /admin/users/{id}: promote, demote, disable, re-enable; never oneself into powerlessness."""

import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.admin.helpers import (
    ADMIN_USER_FIELDS,
    USERS,
    admin_user,
    update_user,
    updated_user,
)
from tests.factories import (
    assert_problem,
    bearer,
    book,
    create_account,
    create_admin,
    create_published_event,
    event_body,
    login,
)


async def test_disabling_a_user_answers_the_updated_user(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    user = await updated_user(client, admin, attendee.id, is_active=False)
    assert set(user) == ADMIN_USER_FIELDS
    assert user["id"] == attendee.id
    assert user["is_active"] is False
    assert (await admin_user(client, admin, attendee.id))["is_active"] is False


async def test_a_disabled_users_access_token_stops_working_at_once(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    assert (await client.get("/api/v1/users/me", headers=attendee.headers)).status_code == 200
    await updated_user(client, admin, attendee.id, is_active=False)
    response = await client.get("/api/v1/users/me", headers=attendee.headers)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_disabled_users_refresh_token_is_invalid(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": attendee.refresh_token})
    assert_problem(response, 401, "token_invalid")


async def test_disabling_ends_every_session_of_the_user(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    second = (await login(client, attendee.email)).json()
    await updated_user(client, admin, attendee.id, is_active=False)
    for token in (attendee.access_token, second["access_token"]):
        assert_problem(await client.get("/api/v1/users/me", headers=bearer(token)), 401, "not_authenticated")
    for refresh_token in (attendee.refresh_token, second["refresh_token"]):
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert_problem(response, 401, "token_invalid")


async def test_disabling_one_user_leaves_other_users_sessions_alone(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    banned = await create_account(client)
    bystander = await create_account(client)
    await updated_user(client, admin, banned.id, is_active=False)
    assert (await client.get("/api/v1/users/me", headers=bystander.headers)).status_code == 200
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": bystander.refresh_token})
    assert response.status_code == 200, response.text


async def test_a_disabled_user_cannot_log_in(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    assert_problem(await login(client, attendee.email), 403, "account_disabled")


async def test_a_disabled_users_bookings_stay(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking = (await book(client, attendee, event["id"], quantity=2)).json()

    await updated_user(client, admin, attendee.id, is_active=False)

    reread = await client.get(f"/api/v1/bookings/{booking['id']}", headers=admin.headers)
    assert reread.status_code == 200, reread.text
    assert reread.json()["status"] == "confirmed"
    assert reread.json()["quantity"] == 2
    user = await admin_user(client, admin, attendee.id)
    assert (user["bookings_count"], user["tickets_count"]) == (1, 2)
    read_event = await client.get(f"/api/v1/events/{event['id']}")
    assert read_event.json()["tickets_sold"] == 2


async def test_a_re_enabled_user_can_log_in_again(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    user = await updated_user(client, admin, attendee.id, is_active=True)
    assert user["is_active"] is True
    response = await login(client, attendee.email)
    assert response.status_code == 200, response.text
    me = await client.get("/api/v1/users/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == attendee.id


async def test_re_enabling_does_not_revive_the_sessions_the_ban_ended(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    await updated_user(client, admin, attendee.id, is_active=True)
    assert_problem(await client.get("/api/v1/users/me", headers=attendee.headers), 401, "not_authenticated")
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": attendee.refresh_token})
    assert_problem(response, 401, "token_invalid")


async def test_a_promoted_attendee_can_create_events_with_the_token_they_have(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    before = await client.post("/api/v1/events", json=event_body(), headers=attendee.headers)
    assert_problem(before, 403, "forbidden")

    user = await updated_user(client, admin, attendee.id, role="organizer")

    assert user["role"] == "organizer"
    after = await client.post("/api/v1/events", json=event_body(), headers=attendee.headers)
    assert after.status_code == 201, after.text
    assert after.json()["organizer_id"] == attendee.id


async def test_a_demoted_organizer_can_no_longer_create_events(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    user = await updated_user(client, admin, organizer.id, role="attendee")
    assert user["role"] == "attendee"
    response = await client.post("/api/v1/events", json=event_body(), headers=organizer.headers)
    assert_problem(response, 403, "forbidden")
    me = await client.get("/api/v1/users/me", headers=organizer.headers)
    assert me.json()["role"] == "attendee"


async def test_a_user_promoted_to_admin_can_use_the_admin_endpoints(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    assert_problem(await client.get(USERS, headers=organizer.headers), 403, "forbidden")
    await updated_user(client, admin, organizer.id, role="admin")
    assert (await client.get(USERS, headers=organizer.headers)).status_code == 200


async def test_role_and_is_active_change_together(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    user = await updated_user(client, admin, attendee.id, role="organizer", is_active=False)
    assert (user["role"], user["is_active"]) == ("organizer", False)


async def test_an_empty_update_changes_nothing(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    user = await updated_user(client, admin, attendee.id)
    assert (user["role"], user["is_active"]) == ("attendee", True)
    assert (await client.get("/api/v1/users/me", headers=attendee.headers)).status_code == 200


async def test_an_admin_cannot_demote_themselves(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    assert_problem(await update_user(client, admin, admin.id, role="attendee"), 409, "cannot_modify_self")
    user = await admin_user(client, admin, admin.id)
    assert (user["role"], user["is_active"]) == ("admin", True)


async def test_an_admin_cannot_disable_themselves(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    assert_problem(await update_user(client, admin, admin.id, is_active=False), 409, "cannot_modify_self")
    user = await admin_user(client, admin, admin.id)
    assert (user["role"], user["is_active"]) == ("admin", True)
    assert (await client.get("/api/v1/users/me", headers=admin.headers)).status_code == 200


async def test_a_refused_self_update_changes_no_part_of_the_request(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    response = await update_user(client, admin, admin.id, role="organizer", is_active=True)
    assert_problem(response, 409, "cannot_modify_self")
    assert (await admin_user(client, admin, admin.id))["role"] == "admin"


async def test_an_admin_may_confirm_their_own_role_and_activity(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    user = await updated_user(client, admin, admin.id, role="admin", is_active=True)
    assert (user["role"], user["is_active"]) == ("admin", True)


async def test_another_admin_can_demote_an_admin(app: FastAPI, client: AsyncClient) -> None:
    first = await create_admin(app, client)
    second = await create_admin(app, client)
    user = await updated_user(client, second, first.id, role="attendee")
    assert user["role"] == "attendee"
    assert_problem(await client.get(USERS, headers=first.headers), 403, "forbidden")


async def test_another_admin_can_disable_an_admin(app: FastAPI, client: AsyncClient) -> None:
    first = await create_admin(app, client)
    second = await create_admin(app, client)
    await updated_user(client, second, first.id, is_active=False)
    assert_problem(await client.get(USERS, headers=first.headers), 401, "not_authenticated")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "taken-over@example.com"},
        {"password_hash": "$argon2id$v=19$m=1024,t=1,p=1$forged"},
        {"full_name": "Renamed"},
        {"role": "organizer", "id": "00000000-0000-0000-0000-000000000000"},
    ],
    ids=["email", "password_hash", "full_name", "id"],
)
async def test_unknown_fields_are_rejected_and_change_nothing(
    app: FastAPI, client: AsyncClient, body: dict[str, str]
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    before = await admin_user(client, admin, attendee.id)
    assert_problem(await update_user(client, admin, attendee.id, **body), 422, "validation_error")
    assert await admin_user(client, admin, attendee.id) == before
    assert (await login(client, attendee.email)).status_code == 200


@pytest.mark.parametrize("body", [{"role": "superuser"}, {"role": "ADMIN"}, {"is_active": "sometimes"}])
async def test_invalid_values_are_rejected(app: FastAPI, client: AsyncClient, body: dict[str, str]) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    assert_problem(await update_user(client, admin, attendee.id, **body), 422, "validation_error")
    assert (await admin_user(client, admin, attendee.id))["role"] == "attendee"


async def test_updating_an_unknown_user_is_not_found(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    response = await update_user(client, admin, str(uuid.uuid4()), role="organizer")
    assert_problem(response, 404, "not_found")
