"""Tickets follow their booking (API.md, "Tickets and check-in"): N per confirmed booking of quantity N,
written in the booking's transaction; lowering the quantity cancels the last ones, cancelling the
booking or the event cancels all; holder names default to the booking's."""

import re
import uuid

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from boxoffice.models import Ticket
from tests.bookings.helpers import (
    booked,
    cancel_booking,
    change_booking,
    confirm,
    held,
    published_scene,
)
from tests.factories import (
    assert_ledger_consistent,
    assert_problem,
    book,
    create_account,
    create_admin,
    create_published_event,
)
from tests.tickets.helpers import (
    CODE_PATTERN,
    TICKET_FIELDS,
    door_scene,
    list_tickets,
    tickets_of,
    tickets_url,
    valid_tickets,
)


async def test_a_booking_of_three_has_three_valid_tickets_with_distinct_signed_codes(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=3)

    tickets = await tickets_of(client, door.attendee, door.booking["id"])

    assert len(tickets) == 3
    for ticket in tickets:
        assert set(ticket) == TICKET_FIELDS
        assert ticket["booking_id"] == door.booking["id"]
        assert ticket["event_id"] == door.event_id
        assert ticket["ticket_type_id"] == door.booking["ticket_type_id"]
        assert ticket["holder_name"] == door.booking["holder_name"]
        assert ticket["status"] == "valid"
        assert ticket["checked_in_at"] is None
        assert re.fullmatch(CODE_PATTERN, ticket["code"])
    assert len({t["id"] for t in tickets}) == len({t["code"] for t in tickets}) == 3
    await assert_ledger_consistent(app)


async def test_confirming_a_hold_issues_its_tickets(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    hold = await held(client, scene.attendee, scene.event_id, quantity=2)

    response = await confirm(client, scene.attendee, hold["id"], holder_name="Ada Lovelace")

    assert response.status_code == 201, response.text
    tickets = await tickets_of(client, scene.attendee, response.json()["id"])
    assert [(t["status"], t["holder_name"]) for t in tickets] == [("valid", "Ada Lovelace")] * 2
    await assert_ledger_consistent(app)


async def test_a_hold_has_no_tickets_and_a_sold_out_booking_leaves_none(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=2)
    await held(client, scene.attendee, scene.event_id, quantity=2)
    late = await create_account(client)

    assert_problem(await book(client, late, scene.event_id), 409, "sold_out")

    async with app.state.database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
    await assert_ledger_consistent(app)


async def test_lowering_the_quantity_cancels_the_last_tickets_and_raising_it_adds_new_ones(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=4)
    first = await tickets_of(client, door.attendee, door.booking["id"])

    assert (await change_booking(client, door.attendee, door.booking["id"], quantity=2)).status_code == 200
    after_lowering = await tickets_of(client, door.attendee, door.booking["id"])
    assert [(t["id"], t["status"]) for t in after_lowering] == [
        (first[0]["id"], "valid"),
        (first[1]["id"], "valid"),
        (first[2]["id"], "cancelled"),
        (first[3]["id"], "cancelled"),
    ]

    assert (await change_booking(client, door.attendee, door.booking["id"], quantity=3)).status_code == 200
    after_raising = await tickets_of(client, door.attendee, door.booking["id"])
    assert [t["id"] for t in after_raising[:4]] == [t["id"] for t in first]
    assert [t["status"] for t in after_raising] == ["valid", "valid", "cancelled", "cancelled", "valid"]
    assert after_raising[4]["code"] not in {t["code"] for t in first}
    await assert_ledger_consistent(app)


async def test_a_quantity_change_that_is_sold_out_changes_no_ticket(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=1, capacity=2)
    before = await tickets_of(client, door.attendee, door.booking["id"])

    assert_problem(
        await change_booking(client, door.attendee, door.booking["id"], quantity=3), 409, "sold_out"
    )

    assert await tickets_of(client, door.attendee, door.booking["id"]) == before
    await assert_ledger_consistent(app)


async def test_cancelling_a_booking_cancels_all_its_tickets(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=3)

    assert (await cancel_booking(client, door.attendee, door.booking["id"])).status_code == 200

    tickets = await tickets_of(client, door.attendee, door.booking["id"])
    assert [t["status"] for t in tickets] == ["cancelled"] * 3
    await assert_ledger_consistent(app)


async def test_cancelling_the_event_cancels_every_ticket(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=2)
    other = await booked(client, await create_account(client), door.event_id, quantity=1)

    cancelled = await client.post(
        f"/api/v1/events/{door.event_id}/cancel", json={"reason": "Storm"}, headers=door.organizer.headers
    )

    assert cancelled.status_code == 200, cancelled.text
    assert await valid_tickets(client, door.organizer, door.booking["id"]) == []
    assert await valid_tickets(client, door.organizer, other["id"]) == []
    await assert_ledger_consistent(app)


async def test_tickets_carry_the_booking_holder_name_until_given_their_own(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=2)
    first, second = await tickets_of(client, door.attendee, door.booking["id"])

    renamed = await client.patch(
        f"/api/v1/tickets/{second['id']}", json={"holder_name": "Grace Hopper"}, headers=door.attendee.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["holder_name"] == "Grace Hopper"
    await change_booking(client, door.attendee, door.booking["id"], holder_name="Ada Lovelace")

    names = [t["holder_name"] for t in await tickets_of(client, door.attendee, door.booking["id"])]
    assert names == ["Ada Lovelace", "Grace Hopper"]
    reset = await client.patch(
        f"/api/v1/tickets/{second['id']}", json={"holder_name": None}, headers=door.attendee.headers
    )
    assert reset.json()["holder_name"] == "Ada Lovelace"
    assert reset.json()["code"] == second["code"]
    assert first["code"] != second["code"]


async def test_only_the_holder_or_an_admin_renames_a_ticket_and_never_a_cancelled_one(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=2)
    admin = await create_admin(app, client)
    stranger = await create_account(client)
    first, second = await tickets_of(client, door.attendee, door.booking["id"])

    async def rename(account_headers: dict[str, str], ticket_id: str, **body: object) -> Response:
        return await client.patch(f"/api/v1/tickets/{ticket_id}", json=body, headers=account_headers)

    assert_problem(await rename(door.organizer.headers, first["id"], holder_name="X Y"), 403, "forbidden")
    assert_problem(await rename(stranger.headers, first["id"], holder_name="X Y"), 404, "not_found")
    assert_problem(
        await rename(door.attendee.headers, str(uuid.uuid4()), holder_name="X Y"), 404, "not_found"
    )
    assert (await rename(admin.headers, first["id"], holder_name="Set By Admin")).status_code == 200
    assert_problem(await rename(door.attendee.headers, first["id"], holder_name=""), 422, "validation_error")
    assert_problem(await rename(door.attendee.headers, first["id"], code="X"), 422, "validation_error")
    await change_booking(client, door.attendee, door.booking["id"], quantity=1)
    assert_problem(
        await rename(door.attendee.headers, second["id"], holder_name="Late"), 409, "ticket_cancelled"
    )


async def test_the_holder_the_organizer_and_admins_see_the_tickets_and_nobody_else(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=1)
    admin = await create_admin(app, client)
    other_organizer = await create_account(client, role="organizer")
    await create_published_event(client, other_organizer)

    for account in (door.attendee, door.organizer, admin):
        assert (await list_tickets(client, account, door.booking["id"])).status_code == 200
    for account in (await create_account(client), other_organizer):
        assert_problem(await list_tickets(client, account, door.booking["id"]), 404, "not_found")
    assert_problem(await list_tickets(client, door.attendee, str(uuid.uuid4())), 404, "not_found")
    assert_problem(await client.get(tickets_url(door.booking["id"])), 401, "not_authenticated")
