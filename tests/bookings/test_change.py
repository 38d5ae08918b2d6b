"""PATCH /bookings/{id}: quantity and holder changes, the seat ledger, and who may change what."""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import (
    booked,
    booking_url,
    cancel_booking,
    change_booking,
    published_scene,
    read_booking,
    read_event,
    start_event,
    tickets_sold,
)
from tests.factories import assert_ledger_consistent, assert_problem, book, create_account, create_admin


async def test_raising_the_quantity_takes_more_seats(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, ticket_types=[{"name": "Standing", "price": "8", "capacity": 10}])
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await change_booking(client, scene.attendee, booking["id"], quantity=5)
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["quantity"] == 5
    assert changed["total_price"] == "40.00"
    assert changed["unit_price"] == "8.00"
    assert changed["code"] == booking["code"]
    event = await read_event(client, scene.event_id)
    assert (event["tickets_sold"], event["tickets_available"]) == (5, 5)
    assert event["ticket_types"][0]["sold"] == 5
    await assert_ledger_consistent(app)


async def test_lowering_the_quantity_returns_seats(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, ticket_types=[{"name": "Standing", "price": "8", "capacity": 10}])
    booking = await booked(client, scene.attendee, scene.event_id, quantity=6)
    response = await change_booking(client, scene.attendee, booking["id"], quantity=1)
    assert response.status_code == 200, response.text
    assert response.json()["quantity"] == 1
    assert response.json()["total_price"] == "8.00"
    event = await read_event(client, scene.event_id)
    assert (event["tickets_sold"], event["tickets_available"]) == (1, 9)
    await assert_ledger_consistent(app)


async def test_returned_seats_can_be_booked_by_someone_else(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=4)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=4)
    late = await create_account(client)
    assert_problem(await book(client, late, scene.event_id), 409, "sold_out")
    assert (await change_booking(client, scene.attendee, booking["id"], quantity=3)).status_code == 200
    await booked(client, late, scene.event_id)
    assert await tickets_sold(client, scene.event_id) == 4
    await assert_ledger_consistent(app)


async def test_raising_the_quantity_beyond_what_is_left_is_sold_out_and_changes_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=5)
    other = await create_account(client)
    await booked(client, other, scene.event_id, quantity=2)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    problem = assert_problem(
        await change_booking(client, scene.attendee, booking["id"], quantity=4), 409, "sold_out"
    )
    assert problem["available"] == 1
    assert "1" in problem["detail"]
    unchanged = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert unchanged["quantity"] == 2
    assert unchanged["total_price"] == booking["total_price"]
    assert await tickets_sold(client, scene.event_id) == 4
    await assert_ledger_consistent(app)


async def test_a_failed_quantity_change_also_drops_the_holder_change(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=2)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await change_booking(
        client, scene.attendee, booking["id"], quantity=3, holder_name="Someone Else"
    )
    assert_problem(response, 409, "sold_out")
    unchanged = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert unchanged["holder_name"] == booking["holder_name"]
    assert unchanged["quantity"] == 1
    await assert_ledger_consistent(app)


async def test_using_every_remaining_seat_is_allowed(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=3)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await change_booking(client, scene.attendee, booking["id"], quantity=3)
    assert response.status_code == 200, response.text
    assert (await read_event(client, scene.event_id))["tickets_available"] == 0
    await assert_ledger_consistent(app)


async def test_the_holder_details_can_be_changed(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await change_booking(
        client, scene.attendee, booking["id"], holder_name="Ada Lovelace", holder_email="ada@example.com"
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["holder_name"], changed["holder_email"]) == ("Ada Lovelace", "ada@example.com")
    assert changed["quantity"] == 2
    reread = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert reread["holder_name"] == "Ada Lovelace"
    assert await tickets_sold(client, scene.event_id) == 2
    await assert_ledger_consistent(app)


async def test_an_empty_change_keeps_the_booking(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await change_booking(client, scene.attendee, booking["id"])
    assert response.status_code == 200, response.text
    assert response.json()["quantity"] == 2
    assert response.json()["holder_name"] == booking["holder_name"]


async def test_an_admin_may_change_a_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    admin = await create_admin(app, client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await change_booking(client, admin, booking["id"], quantity=3)
    assert response.status_code == 200, response.text
    assert response.json()["quantity"] == 3
    assert response.json()["user_id"] == scene.attendee.id
    assert await tickets_sold(client, scene.event_id) == 3
    await assert_ledger_consistent(app)


async def test_the_event_owner_may_see_but_not_change_a_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await change_booking(client, scene.organizer, booking["id"], quantity=2)
    assert_problem(response, 403, "forbidden")
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["quantity"] == 1
    await assert_ledger_consistent(app)


@pytest.mark.parametrize("role", ["attendee", "organizer"])
async def test_anyone_else_changing_a_booking_gets_not_found(client: AsyncClient, role: str) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    stranger = await create_account(client, role=role)
    assert_problem(await change_booking(client, stranger, booking["id"], quantity=2), 404, "not_found")
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["quantity"] == 1


async def test_changing_an_unknown_booking_is_not_found(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await change_booking(client, attendee, str(uuid.uuid4()), quantity=2), 404, "not_found")


async def test_changing_a_booking_needs_a_token(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await client.patch(booking_url(booking["id"]), json={"quantity": 2})
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_cancelled_booking_cannot_be_changed(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    await cancel_booking(client, scene.attendee, booking["id"])
    response = await change_booking(client, scene.attendee, booking["id"], quantity=2)
    assert_problem(response, 409, "already_cancelled")
    assert await tickets_sold(client, scene.event_id) == 0
    await assert_ledger_consistent(app)


async def test_the_quantity_cannot_change_once_the_event_has_started(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    await start_event(app, scene.event_id)
    response = await change_booking(client, scene.attendee, booking["id"], quantity=1)
    assert_problem(response, 409, "event_started")
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["quantity"] == 2
    assert await tickets_sold(client, scene.event_id) == 2
    await assert_ledger_consistent(app)


async def test_a_quantity_above_the_events_maximum_is_rejected(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, max_tickets_per_booking=3)
    booking = await booked(client, scene.attendee, scene.event_id)
    problem = assert_problem(
        await change_booking(client, scene.attendee, booking["id"], quantity=4), 422, "validation_error"
    )
    assert ["body", "quantity"] in [error["loc"] for error in problem["errors"]]
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"holder_name": ""}, "holder_name"),
        ({"holder_email": "nobody"}, "holder_email"),
        ({"status": "cancelled"}, "status"),
        ({"unit_price": "0.00"}, "unit_price"),
        ({"user_id": "00000000-0000-4000-8000-000000000000"}, "user_id"),
        ({"ticket_type_id": "00000000-0000-4000-8000-000000000000"}, "ticket_type_id"),
    ],
)
async def test_invalid_changes_are_rejected(
    app: FastAPI, client: AsyncClient, body: dict[str, Any], field: str
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    problem = assert_problem(
        await change_booking(client, scene.attendee, booking["id"], **body), 422, "validation_error"
    )
    assert ["body", field] in [error["loc"] for error in problem["errors"]]
    assert (await read_booking(client, scene.attendee, booking["id"])).json() == booking
    await assert_ledger_consistent(app)


async def test_a_series_of_changes_keeps_the_ledger_exact(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=20)
    neighbour = await create_account(client)
    mine = await booked(client, scene.attendee, scene.event_id, quantity=3)
    theirs = await booked(client, neighbour, scene.event_id, quantity=4)
    for account, booking, quantity in [
        (scene.attendee, mine, 7),
        (neighbour, theirs, 1),
        (scene.attendee, mine, 2),
        (neighbour, theirs, 10),
    ]:
        assert (await change_booking(client, account, booking["id"], quantity=quantity)).status_code == 200
    assert await tickets_sold(client, scene.event_id) == 12
    await assert_ledger_consistent(app)
