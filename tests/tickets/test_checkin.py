"""Check-in at the door (API.md, "Tickets and check-in"): genuine codes admit once, and the door is
told a duplicate (and when) from a cancelled ticket, a forgery or another event's code."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from boxoffice.models import AuditEntry
from tests.bookings.helpers import booked, cancel_booking, change_booking
from tests.factories import (
    assert_problem,
    create_account,
    create_admin,
    create_published_event,
)
from tests.tickets.helpers import (
    CHECKIN_FIELDS,
    check_in,
    checkins_url,
    door_scene,
    forged,
    one_character_changed,
    tickets_of,
    undo,
    valid_tickets,
)


async def test_the_organizer_checks_a_ticket_in(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=2, timezone="Europe/Berlin")
    ticket = (await tickets_of(client, door.attendee, door.booking["id"]))[0]
    before = datetime.now(UTC)

    response = await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])

    assert response.status_code == 201, response.text
    checkin = response.json()
    assert set(checkin) == CHECKIN_FIELDS
    assert checkin["ticket_id"] == ticket["id"]
    assert checkin["booking_code"] == door.booking["code"]
    assert checkin["holder_name"] == door.booking["holder_name"]
    assert checkin["ticket_type_id"] == ticket["ticket_type_id"]
    assert before <= datetime.fromisoformat(checkin["created_at"]) <= datetime.now(UTC)
    assert checkin["by"] == {"kind": "user", "id": door.organizer.id, "name": "Test Person"}
    first, second = await tickets_of(client, door.attendee, door.booking["id"])
    assert first["checked_in_at"] == checkin["created_at"]
    assert second["checked_in_at"] is None


async def test_a_second_scan_is_refused_with_the_time_of_the_first(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1, timezone="Europe/Berlin")
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    first = (await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])).json()

    again = await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])

    body = assert_problem(again, 409, "already_checked_in")
    assert body["checked_in_at"] == first["created_at"]
    local = datetime.fromisoformat(first["created_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{local:%H:%M}" in body["detail"]
    assert "Europe/Berlin" in body["detail"]


async def test_a_forged_code_of_the_right_shape_is_not_a_ticket(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    fake = forged(ticket["code"], door.event_id)
    assert len(fake) == len(ticket["code"])
    assert fake[:52] == ticket["code"][:52]

    assert_problem(await check_in(client, door.organizer.access_token, door.event_id, fake), 404, "not_found")
    assert (
        await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])
    ).status_code == 201


async def test_a_code_changed_in_any_one_character_is_not_a_ticket(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    code = ticket["code"]

    for position in (0, 1, 20, 60, 100, len(code) - 2, len(code) - 1):
        altered = one_character_changed(code, position)
        response = await check_in(client, door.organizer.access_token, door.event_id, altered)
        assert_problem(response, 404, "not_found")
    for garbage in ("K7QM-3XTP", code.lower(), code + "A", code[:-1], "x" * 500):
        assert_problem(
            await check_in(client, door.organizer.access_token, door.event_id, garbage), 404, "not_found"
        )


async def test_another_events_code_is_not_a_ticket_here(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    other_event = await create_published_event(client, door.organizer, title="Other night")
    elsewhere = await booked(client, door.attendee, other_event["id"])
    [foreign] = await tickets_of(client, door.attendee, elsewhere["id"])

    response = await check_in(client, door.organizer.access_token, door.event_id, foreign["code"])

    assert_problem(response, 404, "not_found")
    assert (
        await check_in(client, door.organizer.access_token, other_event["id"], foreign["code"])
    ).status_code == 201


async def test_a_cancelled_ticket_is_refused_as_cancelled(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=2)
    first, second = await tickets_of(client, door.attendee, door.booking["id"])
    await change_booking(client, door.attendee, door.booking["id"], quantity=1)

    assert_problem(
        await check_in(client, door.organizer.access_token, door.event_id, second["code"]),
        409,
        "ticket_cancelled",
    )
    assert (
        await check_in(client, door.organizer.access_token, door.event_id, first["code"])
    ).status_code == 201
    await cancel_booking(client, door.attendee, door.booking["id"])
    assert_problem(
        await check_in(client, door.organizer.access_token, door.event_id, first["code"]),
        409,
        "ticket_cancelled",
    )


async def test_undo_lets_the_ticket_in_again(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    token = door.organizer.access_token
    first = (await check_in(client, token, door.event_id, ticket["code"])).json()

    assert (await undo(client, token, door.event_id, first["id"])).status_code == 204

    assert (await tickets_of(client, door.attendee, door.booking["id"]))[0]["checked_in_at"] is None
    assert_problem(await undo(client, token, door.event_id, first["id"]), 404, "not_found")
    again = await check_in(client, token, door.event_id, ticket["code"])
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first["id"]
    body = assert_problem(
        await check_in(client, token, door.event_id, ticket["code"]), 409, "already_checked_in"
    )
    assert body["checked_in_at"] == again.json()["created_at"]


async def test_undo_needs_a_standing_check_in_of_this_event(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    other_event = await create_published_event(client, door.organizer, title="Other night")
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    checkin = (await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])).json()

    assert_problem(
        await undo(client, door.organizer.access_token, other_event["id"], checkin["id"]), 404, "not_found"
    )
    assert_problem(
        await undo(client, door.organizer.access_token, door.event_id, str(uuid.uuid4())), 404, "not_found"
    )
    assert_problem(
        await undo(client, door.attendee.access_token, door.event_id, checkin["id"]), 404, "not_found"
    )
    assert (await undo(client, door.organizer.access_token, door.event_id, checkin["id"])).status_code == 204


async def test_the_same_nonce_returns_the_first_answer(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=2)
    first_ticket, second_ticket = await tickets_of(client, door.attendee, door.booking["id"])
    token = door.organizer.access_token
    first = await check_in(client, token, door.event_id, first_ticket["code"], nonce="scan-1")

    replayed = await check_in(client, token, door.event_id, first_ticket["code"], nonce="scan-1")

    assert (replayed.status_code, replayed.json()) == (201, first.json())
    assert_problem(
        await check_in(client, token, door.event_id, first_ticket["code"], nonce="scan-2"),
        409,
        "already_checked_in",
    )
    mismatch = await check_in(client, token, door.event_id, second_ticket["code"], nonce="scan-1")
    assert_problem(mismatch, 422, "idempotency_key_mismatch")
    assert (await undo(client, token, door.event_id, first.json()["id"])).status_code == 204
    after_undo = await check_in(client, token, door.event_id, first_ticket["code"], nonce="scan-1")
    assert (after_undo.status_code, after_undo.json()) == (201, first.json())


async def test_a_nonce_belongs_to_its_event(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    other_event = await create_published_event(client, door.organizer, title="Other night")
    elsewhere = await booked(client, door.attendee, other_event["id"])
    [here] = await tickets_of(client, door.attendee, door.booking["id"])
    [there] = await tickets_of(client, door.attendee, elsewhere["id"])
    token = door.organizer.access_token

    assert (await check_in(client, token, door.event_id, here["code"], nonce="n-1")).status_code == 201
    assert (await check_in(client, token, other_event["id"], there["code"], nonce="n-1")).status_code == 201


async def test_check_in_bodies_are_validated(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    url = checkins_url(door.event_id)
    headers = door.organizer.headers

    for body in (
        {},
        {"code": ""},
        {"code": ticket["code"], "nonce": ""},
        {"code": ticket["code"], "nonce": "n" * 101},
        {"code": ticket["code"], "ticket_id": ticket["id"]},
        {"code": "x" * 501},
    ):
        assert_problem(await client.post(url, json=body, headers=headers), 422, "validation_error")
    scanned = await client.post(url, json={"code": f"  {ticket['code']}\n"}, headers=headers)
    assert scanned.status_code == 201, "a keyboard-wedge scanner's trailing newline is not part of the code"


async def test_only_the_organizer_admins_and_door_devices_check_in(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=3)
    admin = await create_admin(app, client)
    other_organizer = await create_account(client, role="organizer")
    first, second, _third = await tickets_of(client, door.attendee, door.booking["id"])

    for account in (door.attendee, other_organizer):
        assert_problem(
            await check_in(client, account.access_token, door.event_id, first["code"]), 404, "not_found"
        )
    assert_problem(
        await client.post(checkins_url(door.event_id), json={"code": first["code"]}), 401, "not_authenticated"
    )
    assert_problem(
        await check_in(client, "not-a-token", door.event_id, first["code"]), 401, "not_authenticated"
    )
    assert_problem(
        await check_in(client, admin.access_token, str(uuid.uuid4()), first["code"]), 404, "not_found"
    )
    response = await check_in(client, admin.access_token, door.event_id, second["code"])
    assert response.status_code == 201
    assert response.json()["by"]["kind"] == "user"
    assert response.json()["by"]["id"] == admin.id
    assert len(await valid_tickets(client, door.attendee, door.booking["id"])) == 3


async def test_the_door_list_shows_standing_check_ins_newest_first(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=3)
    token = door.organizer.access_token
    tickets = await tickets_of(client, door.attendee, door.booking["id"])
    made = [(await check_in(client, token, door.event_id, t["code"])).json() for t in tickets]
    await undo(client, token, door.event_id, made[1]["id"])

    page = (await client.get(checkins_url(door.event_id), headers=door.organizer.headers)).json()

    assert page["total"] == 2
    assert [c["id"] for c in page["items"]] == [made[2]["id"], made[0]["id"]]
    assert page["items"][0] == made[2]
    second_page = await client.get(
        checkins_url(door.event_id), params={"limit": 1, "offset": 1}, headers=door.organizer.headers
    )
    assert [c["id"] for c in second_page.json()["items"]] == [made[0]["id"]]
    assert_problem(
        await client.get(checkins_url(door.event_id), headers=door.attendee.headers), 404, "not_found"
    )
    admin = await create_admin(app, client)
    assert (await client.get(checkins_url(door.event_id), headers=admin.headers)).json()["total"] == 2


async def test_stats_count_the_tickets_checked_in(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=3)
    token = door.organizer.access_token
    tickets = await tickets_of(client, door.attendee, door.booking["id"])
    made = [(await check_in(client, token, door.event_id, t["code"])).json() for t in tickets[:2]]
    await undo(client, token, door.event_id, made[0]["id"])

    stats = (await client.get(f"/api/v1/events/{door.event_id}/stats", headers=door.organizer.headers)).json()

    assert stats["checked_in"] == 1


async def test_every_check_in_and_undo_is_in_the_audit_log(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    token = door.organizer.access_token
    checkin = (await check_in(client, token, door.event_id, ticket["code"])).json()
    await undo(client, token, door.event_id, checkin["id"])
    await check_in(client, token, door.event_id, ticket["code"])
    refused = await check_in(client, token, door.event_id, ticket["code"])
    assert refused.status_code == 409

    async with app.state.database.reader() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.target_type == "checkin").order_by(AuditEntry.created_at)
            )
        ).all()

    assert [e.action for e in entries] == ["checkin.created", "checkin.undone", "checkin.created"]
    assert all(str(e.actor_id) == door.organizer.id for e in entries)
    assert entries[0].target_id == entries[1].target_id == checkin["id"]
    assert all(ticket["id"] in e.details and door.event_id in e.details for e in entries)
    assert all(e.created_at - datetime.now(UTC) < timedelta(minutes=1) for e in entries)
