"""DELETE /bookings/{id}: a soft cancel that returns the seats at once."""

import uuid
from datetime import datetime

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import (
    booked,
    booking_url,
    cancel_booking,
    my_bookings,
    published_scene,
    read_booking,
    read_event,
    start_event,
    tickets_sold,
)
from tests.factories import assert_ledger_consistent, assert_problem, book, create_account, create_admin


async def test_the_holder_cancels_and_the_booking_is_kept_as_cancelled(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await cancel_booking(client, scene.attendee, booking["id"])
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["id"] == booking["id"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"]
    assert datetime.fromisoformat(cancelled["cancelled_at"]) >= datetime.fromisoformat(booking["created_at"])
    assert cancelled["quantity"] == 2
    assert cancelled["code"] == booking["code"]
    reread = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert reread["status"] == "cancelled"
    assert reread["cancelled_at"] == cancelled["cancelled_at"]
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_cancelling_returns_the_seats_at_once(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=3)
    assert await tickets_sold(client, scene.event_id) == 3
    await cancel_booking(client, scene.attendee, booking["id"])
    event = await read_event(client, scene.event_id)
    assert (event["tickets_sold"], event["tickets_available"]) == (0, 5)
    assert event["ticket_types"][0]["sold"] == 0
    await assert_ledger_consistent(app)


async def test_the_last_seat_is_bookable_again_after_a_cancellation(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=1)
    booking = await booked(client, scene.attendee, scene.event_id)
    late = await create_account(client)
    assert_problem(await book(client, late, scene.event_id), 409, "sold_out")
    await cancel_booking(client, scene.attendee, booking["id"])
    await booked(client, late, scene.event_id)
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


async def test_the_event_owner_may_cancel_a_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await cancel_booking(client, scene.organizer, booking["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation_reason"]
    assert await tickets_sold(client, scene.event_id) == 0
    await assert_ledger_consistent(app)


async def test_an_admin_may_cancel_a_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    admin = await create_admin(app, client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await cancel_booking(client, admin, booking["id"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await tickets_sold(client, scene.event_id) == 0
    await assert_ledger_consistent(app)


@pytest.mark.parametrize("role", ["attendee", "organizer"])
async def test_anyone_else_cancelling_a_booking_gets_not_found(
    app: FastAPI, client: AsyncClient, role: str
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    stranger = await create_account(client, role=role)
    assert_problem(await cancel_booking(client, stranger, booking["id"]), 404, "not_found")
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["status"] == "confirmed"
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


async def test_cancelling_an_unknown_booking_is_not_found(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await cancel_booking(client, attendee, str(uuid.uuid4())), 404, "not_found")


async def test_cancelling_needs_a_token(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await client.delete(booking_url(booking["id"]))
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await tickets_sold(client, scene.event_id) == 1


async def test_cancelling_twice_is_already_cancelled(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    neighbour = await create_account(client)
    await booked(client, neighbour, scene.event_id, quantity=3)
    first = await cancel_booking(client, scene.attendee, booking["id"])
    assert first.status_code == 200
    assert_problem(await cancel_booking(client, scene.attendee, booking["id"]), 409, "already_cancelled")
    assert await tickets_sold(client, scene.event_id) == 3
    reread = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert reread["cancelled_at"] == first.json()["cancelled_at"]
    await assert_ledger_consistent(app)


async def test_a_booking_cannot_be_cancelled_once_the_event_has_started(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    await start_event(app, scene.event_id)
    assert_problem(await cancel_booking(client, scene.attendee, booking["id"]), 409, "event_started")
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["status"] == "confirmed"
    assert await tickets_sold(client, scene.event_id) == 2
    await assert_ledger_consistent(app)


async def test_the_organizer_cannot_cancel_either_once_the_event_has_started(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    await start_event(app, scene.event_id)
    assert_problem(await cancel_booking(client, scene.organizer, booking["id"]), 409, "event_started")
    await assert_ledger_consistent(app)
