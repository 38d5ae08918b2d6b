"""GET /admin/users and /admin/users/{id}: every account with its figures, filters and pages."""

import uuid
from datetime import datetime

from fastapi import FastAPI
from httpx import AsyncClient

from tests.admin.helpers import (
    ADMIN_USER_FIELDS,
    admin_user,
    list_users,
    listed_ids,
    listed_users,
    update_user,
    user_url,
)
from tests.factories import (
    assert_problem,
    book,
    create_account,
    create_admin,
    create_event,
    create_published_event,
    login,
    register,
)


async def test_a_user_has_exactly_the_user_fields_plus_the_figures_and_no_password_hash(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    user = await admin_user(client, admin, attendee.id)
    assert set(user) == ADMIN_USER_FIELDS
    assert user["id"] == attendee.id
    assert user["email"] == attendee.email
    assert user["role"] == "attendee"
    assert user["is_active"] is True
    assert "password" not in str(user)


async def test_figures_count_cancelled_bookings_but_not_their_tickets(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    first = await create_published_event(client, organizer)
    second = await create_published_event(client, organizer)
    assert (await book(client, attendee, first["id"], quantity=2)).status_code == 201
    cancelled = (await book(client, attendee, second["id"], quantity=3)).json()
    response = await client.delete(f"/api/v1/bookings/{cancelled['id']}", headers=attendee.headers)
    assert response.status_code == 200, response.text
    assert (await book(client, attendee, second["id"], quantity=4)).status_code == 201

    user = await admin_user(client, admin, attendee.id)
    assert user["bookings_count"] == 3
    assert user["tickets_count"] == 6
    assert user["events_count"] == 0


async def test_events_count_includes_drafts_and_cancelled_events(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    await create_event(client, organizer)
    await create_published_event(client, organizer)
    cancelled = await create_published_event(client, organizer)
    response = await client.post(
        f"/api/v1/events/{cancelled['id']}/cancel", headers=organizer.headers, json={}
    )
    assert response.status_code == 200, response.text

    user = await admin_user(client, admin, organizer.id)
    assert user["events_count"] == 3
    assert user["bookings_count"] == 0
    assert user["tickets_count"] == 0


async def test_an_event_cancellation_moves_tickets_out_of_the_count_but_keeps_the_booking(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    assert (await book(client, attendee, event["id"], quantity=5)).status_code == 201
    response = await client.post(f"/api/v1/events/{event['id']}/cancel", headers=organizer.headers, json={})
    assert response.status_code == 200, response.text

    user = await admin_user(client, admin, attendee.id)
    assert (user["bookings_count"], user["tickets_count"]) == (1, 0)


async def test_the_list_carries_the_same_figures_for_every_user(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    idle = await create_account(client)
    event = await create_published_event(client, organizer)
    await create_event(client, organizer)
    assert (await book(client, attendee, event["id"], quantity=2)).status_code == 201

    page = await listed_users(client, admin)
    figures = {
        user["id"]: (user["bookings_count"], user["tickets_count"], user["events_count"])
        for user in page["items"]
    }
    assert figures == {
        admin.id: (0, 0, 0),
        organizer.id: (0, 0, 2),
        attendee.id: (1, 2, 0),
        idle.id: (0, 0, 0),
    }
    assert page["total"] == 4
    assert all(set(user) == ADMIN_USER_FIELDS for user in page["items"])


async def test_last_login_at_is_empty_until_the_first_login(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    registered = (await register(client)).json()
    logged_in = await create_account(client)
    assert (await admin_user(client, admin, registered["id"]))["last_login_at"] is None
    last_login = (await admin_user(client, admin, logged_in.id))["last_login_at"]
    assert last_login is not None
    assert datetime.fromisoformat(last_login).utcoffset() is not None


async def test_last_login_at_moves_with_each_login(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    first = (await admin_user(client, admin, attendee.id))["last_login_at"]
    assert (await login(client, attendee.email)).status_code == 200
    second = (await admin_user(client, admin, attendee.id))["last_login_at"]
    assert datetime.fromisoformat(second) > datetime.fromisoformat(first)


async def test_a_failed_login_leaves_last_login_at_alone(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    before = (await admin_user(client, admin, attendee.id))["last_login_at"]
    assert_problem(await login(client, attendee.email, "wrong-passw0rd"), 401, "invalid_credentials")
    assert (await admin_user(client, admin, attendee.id))["last_login_at"] == before


async def test_the_role_filter_lists_only_that_role(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizers = {(await create_account(client, role="organizer")).id for _ in range(2)}
    attendee = await create_account(client)
    assert await listed_ids(client, admin, role="organizer") == organizers
    assert await listed_ids(client, admin, role="attendee") == {attendee.id}
    assert await listed_ids(client, admin, role="admin") == {admin.id}
    assert (await listed_users(client, admin, role="organizer"))["total"] == 2


async def test_an_unknown_role_filter_is_a_validation_error(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    assert_problem(await list_users(client, admin, role="superuser"), 422, "validation_error")


async def test_the_is_active_filter_separates_disabled_accounts(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    disabled = await create_account(client)
    active = await create_account(client)
    assert (await update_user(client, admin, disabled.id, is_active=False)).status_code == 200
    assert await listed_ids(client, admin, is_active="false") == {disabled.id}
    assert await listed_ids(client, admin, is_active="true") == {admin.id, active.id}
    assert (await listed_users(client, admin, is_active="false"))["total"] == 1


async def test_filters_combine(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    disabled_organizer = await create_account(client, role="organizer")
    await create_account(client, role="organizer")
    disabled_attendee = await create_account(client)
    for account in (disabled_organizer, disabled_attendee):
        assert (await update_user(client, admin, account.id, is_active=False)).status_code == 200
    assert await listed_ids(client, admin, role="organizer", is_active="false") == {disabled_organizer.id}


async def test_q_matches_part_of_the_name_case_insensitively(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    zelda = (await register(client, full_name="Zelda Quarterhorse")).json()
    await register(client, full_name="Someone Else")
    assert await listed_ids(client, admin, q="qUARTERh") == {zelda["id"]}


async def test_q_matches_part_of_the_email_case_insensitively(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    found = (await register(client, email="mirabelle.fox@example.org")).json()
    await register(client, email="other.person@example.org")
    assert await listed_ids(client, admin, q="BELLE.FOX@EXAMPLE") == {found["id"]}
    assert (await listed_users(client, admin, q="BELLE.FOX@EXAMPLE"))["total"] == 1


async def test_q_treats_percent_as_a_literal_character(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    percent = (await register(client, full_name="Always 100% Sure")).json()
    await register(client, full_name="Always 1000 Sure")
    assert await listed_ids(client, admin, q="100%") == {percent["id"]}
    assert await listed_ids(client, admin, q="%") == {percent["id"]}


async def test_q_treats_underscore_as_a_literal_character(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    underscore = (await register(client, email="first_last@example.com")).json()
    await register(client, email="firstxlast@example.com")
    assert await listed_ids(client, admin, q="first_last") == {underscore["id"]}
    assert await listed_ids(client, admin, q="_") == {underscore["id"]}


async def test_q_treats_a_backslash_as_a_literal_character(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    backslash = (await register(client, full_name="Back\\Slash")).json()
    await register(client, full_name="BackSlash")
    assert await listed_ids(client, admin, q="k\\s") == {backslash["id"]}


async def test_q_that_matches_nobody_gives_an_empty_page(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    page = await listed_users(client, admin, q="no-such-person")
    assert page["items"] == []
    assert page["total"] == 0


async def test_pages_cover_every_user_once_and_report_the_total(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    others = {(await register(client)).json()["id"] for _ in range(6)}
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = await listed_users(client, admin, limit=3, offset=offset)
        assert page["total"] == 7
        assert (page["limit"], page["offset"]) == (3, offset)
        seen += [user["id"] for user in page["items"]]
    assert len(seen) == 7
    assert set(seen) == others | {admin.id}


async def test_a_page_beyond_the_end_is_empty_but_keeps_the_total(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    await create_account(client)
    page = await listed_users(client, admin, offset=50)
    assert page["items"] == []
    assert page["total"] == 2


async def test_the_list_uses_the_default_page_size(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    page = await listed_users(client, admin)
    assert (page["limit"], page["offset"]) == (20, 0)


async def test_an_out_of_range_limit_is_a_validation_error(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    assert_problem(await list_users(client, admin, limit=0), 422, "validation_error")
    assert_problem(await list_users(client, admin, limit=101), 422, "validation_error")
    assert_problem(await list_users(client, admin, offset=-1), 422, "validation_error")


async def test_an_unknown_user_is_not_found(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    response = await client.get(user_url(str(uuid.uuid4())), headers=admin.headers)
    assert_problem(response, 404, "not_found")


async def test_a_malformed_user_id_is_a_validation_error(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    response = await client.get(user_url("not-a-uuid"), headers=admin.headers)
    assert_problem(response, 422, "validation_error")
