"""Admission control (bookings/admission.py): a booking waits for a place at its event's gate, holds it
until its transaction ends, and a sold-out answer never waits in the queue."""

import asyncio
import contextlib
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from boxoffice.bookings.admission import EventGate
from boxoffice.core.config import Settings
from boxoffice.core.errors import SoldOut
from tests.bookings.helpers import booked, published_scene
from tests.conftest import make_settings
from tests.factories import assert_problem, book, create_account

# Long enough that a request which is not waiting has answered; a request that waits is never
# finished when it runs out, however slow the machine.
SETTLE_SECONDS = 0.5
ANSWER_TIMEOUT_SECONDS = 30


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, booking_concurrency_per_event=1)


def _hold_the_gate(app: FastAPI, event_id: str) -> AbstractAsyncContextManager[None]:
    gate: EventGate = app.state.event_gate
    return gate.admit(uuid.UUID(event_id))


async def test_a_booking_waits_for_a_place_at_the_gate_then_goes_through(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=5)
    async with _hold_the_gate(app, scene.event_id):
        waiting = asyncio.create_task(book(client, scene.attendee, scene.event_id))
        await asyncio.sleep(SETTLE_SECONDS)
        assert not waiting.done(), "the booking went past a full gate"
    response = await asyncio.wait_for(waiting, ANSWER_TIMEOUT_SECONDS)
    assert response.status_code == 201, response.text


async def test_a_sold_out_answer_does_not_wait_at_the_gate(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    await booked(client, scene.attendee, scene.event_id)
    late = await create_account(client)
    async with _hold_the_gate(app, scene.event_id):
        response = await asyncio.wait_for(book(client, late, scene.event_id), ANSWER_TIMEOUT_SECONDS)
    problem = assert_problem(response, 409, "sold_out")
    assert problem["available"] == 0


async def test_a_failed_booking_gives_its_place_back(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    await booked(client, scene.attendee, scene.event_id)
    # Checked and admitted, then refused by the database (a second active booking): rolled back.
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "already_booked")
    other = await create_account(client)
    response = await asyncio.wait_for(book(client, other, scene.event_id), ANSWER_TIMEOUT_SECONDS)
    assert response.status_code == 201, response.text


async def test_the_checks_before_admission_answer_in_the_usual_order(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=1, max_tickets_per_booking=2)
    anonymous = await client.post("/api/v1/bookings", json={"event_id": scene.event_id})
    assert_problem(anonymous, 401, "not_authenticated")
    too_many = await book(client, scene.attendee, scene.event_id, quantity=3)
    assert_problem(too_many, 422, "validation_error")
    assert_problem(await book(client, scene.attendee, scene.event_id, quantity=2), 409, "sold_out")
    assert_problem(await book(client, scene.attendee, str(uuid.uuid4())), 404, "not_found")


async def test_a_repeat_with_an_idempotency_key_is_replayed_even_once_sold_out(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=1)
    headers = {**scene.attendee.headers, "Idempotency-Key": "only-seat"}
    body = {"event_id": scene.event_id}
    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


async def _refuse() -> None:
    raise SoldOut("'General admission' is sold out.", available=0)


async def _still_fits() -> None:
    return None


async def test_waiting_bookings_are_checked_again_at_once_when_the_event_is_found_sold_out() -> None:
    gate, event_id = EventGate(1), uuid.uuid4()

    async def wait_and_book() -> None:
        async with gate.admit(event_id, _refuse):
            pytest.fail("admitted although the check refuses")

    async with gate.admit(event_id):
        waiting = asyncio.create_task(wait_and_book())
        await asyncio.sleep(SETTLE_SECONDS)
        assert not waiting.done()
        gate.sold_out(event_id)
        with pytest.raises(SoldOut):
            await asyncio.wait_for(waiting, ANSWER_TIMEOUT_SECONDS)
    # The refused booking left no place held: the next one is let in at once.
    async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS), gate.admit(event_id):
        pass


async def test_a_waiting_booking_that_still_fits_waits_on_and_is_admitted_in_turn() -> None:
    gate, event_id = EventGate(1), uuid.uuid4()
    admitted = asyncio.Event()

    async def wait_and_book() -> None:
        async with gate.admit(event_id, _still_fits):
            admitted.set()

    async with gate.admit(event_id):
        waiting = asyncio.create_task(wait_and_book())
        await asyncio.sleep(SETTLE_SECONDS)
        gate.sold_out(event_id)
        await asyncio.sleep(SETTLE_SECONDS)
        assert not admitted.is_set(), "admitted while every place was taken"
    await asyncio.wait_for(waiting, ANSWER_TIMEOUT_SECONDS)
    assert admitted.is_set()


async def test_a_booking_given_up_while_waiting_holds_no_place() -> None:
    gate, event_id = EventGate(1), uuid.uuid4()

    async def wait_and_book() -> None:
        async with gate.admit(event_id, _still_fits):
            pass

    async with gate.admit(event_id):
        waiting = asyncio.create_task(wait_and_book())
        await asyncio.sleep(SETTLE_SECONDS)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    async with asyncio.timeout(ANSWER_TIMEOUT_SECONDS), gate.admit(event_id):
        pass
