"""Admission control (bookings/admission.py): bookings of an event wait for a place at its gate, and
the bookings queued meanwhile are written together in one transaction, each with its own answer,
first come, first served."""

import asyncio
import contextlib
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from boxoffice.bookings import service
from boxoffice.bookings.admission import EventGate
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.bookings.service import BookingOutcome, BookingRequest
from boxoffice.core.config import Settings
from boxoffice.core.errors import SoldOut
from boxoffice.core.security import TokenClaims, TokenType
from boxoffice.models import Booking, User
from tests.bookings.helpers import BOOKINGS, Scene, booked, many_accounts, published_scene
from tests.conftest import make_settings
from tests.factories import Account, assert_ledger_consistent, assert_problem, book, create_account

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


async def _queued_behind_the_gate(
    app: FastAPI, client: AsyncClient, event_id: str, bookings: list[tuple[Account, dict[str, object]]]
) -> list[Response]:
    """Send the bookings one after another while the event's gate is held (so they queue in this
    order), then let them in; their answers, in the same order. A body's "key" is sent as its
    Idempotency-Key."""
    sent = []
    async with _hold_the_gate(app, event_id):
        for account, body in bookings:
            fields = {name: value for name, value in body.items() if name != "key"}
            headers = {**account.headers, **({"Idempotency-Key": str(body["key"])} if "key" in body else {})}
            request = client.post(BOOKINGS, json={"event_id": event_id, **fields}, headers=headers)
            sent.append(asyncio.create_task(request))
            await asyncio.sleep(SETTLE_SECONDS / 5)
        await asyncio.sleep(SETTLE_SECONDS)
        assert not any(task.done() for task in sent), "a booking went past a held gate"
    return list(await asyncio.wait_for(asyncio.gather(*sent), ANSWER_TIMEOUT_SECONDS))


async def test_queued_bookings_go_first_come_first_served_and_a_later_smaller_one_may_fit(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=3)
    first, second, third = await many_accounts(client, 3)
    answers = await _queued_behind_the_gate(
        app, client, scene.event_id, [(first, {"quantity": 2}), (second, {"quantity": 2}), (third, {})]
    )
    assert [answer.status_code for answer in answers] == [201, 409, 201]
    assert assert_problem(answers[1], 409, "sold_out")["available"] == 1
    # The refused booking left nothing behind: not in the guest list, and the ledger adds up.
    guests = await client.get(f"/api/v1/events/{scene.event_id}/bookings", headers=scene.organizer.headers)
    assert sorted(guest["user_id"] for guest in guests.json()["items"]) == sorted([first.id, third.id])
    await assert_ledger_consistent(app)


async def test_each_booking_in_a_batch_gets_its_own_answer(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10, max_tickets_per_booking=4)
    fine, twice, greedy, logged_out = await many_accounts(client, 4)
    assert (await client.post("/api/v1/auth/logout", headers=logged_out.headers)).status_code == 204
    answers = await _queued_behind_the_gate(
        app,
        client,
        scene.event_id,
        [
            (fine, {"quantity": 2}),
            (twice, {}),
            (twice, {}),
            (greedy, {"quantity": 5}),
            (logged_out, {}),
            (fine, {"ticket_type_id": str(uuid.uuid4())}),
        ],
    )
    assert [answer.status_code for answer in answers[:2]] == [201, 201], [a.text for a in answers[:2]]
    assert answers[0].json()["quantity"] == 2
    assert answers[0].json()["event"]["id"] == scene.event_id
    assert_problem(answers[2], 409, "already_booked")
    assert_problem(answers[3], 422, "validation_error")
    assert_problem(answers[4], 401, "not_authenticated")
    assert_problem(answers[5], 404, "not_found")
    mine = await client.get(BOOKINGS, headers=twice.headers)
    assert [booking["id"] for booking in mine.json()["items"]] == [answers[1].json()["id"]]
    await assert_ledger_consistent(app)


async def test_bookings_with_idempotency_keys_are_written_in_the_batch_too(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    first, second, plain = await many_accounts(client, 3)
    keyed: dict[str, object] = {"key": "checkout-1"}
    answers = await _queued_behind_the_gate(
        app,
        client,
        scene.event_id,
        [(first, keyed), (first, keyed), (second, keyed), (plain, {})],
    )
    assert [answer.status_code for answer in answers] == [201, 409, 201, 201], [a.text for a in answers]
    assert_problem(answers[1], 409, "idempotency_in_progress")
    assert "Idempotent-Replayed" not in answers[0].headers
    # One transaction: the bookings share their creation time.
    assert len({answers[i].json()["created_at"] for i in (0, 2, 3)}) == 1
    # A repeat afterwards gets the first answer; the key was stored with the booking.
    again = await client.post(
        BOOKINGS,
        json={"event_id": scene.event_id},
        headers={**first.headers, "Idempotency-Key": "checkout-1"},
    )
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == answers[0].json()
    await assert_ledger_consistent(app)


async def test_a_booking_given_up_while_queued_leaves_nothing(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    async with _hold_the_gate(app, scene.event_id):
        queued = asyncio.create_task(
            app.state.booking_queue.book(_claims(app, scene.attendee), _body(scene), None)
        )
        await asyncio.sleep(SETTLE_SECONDS)
        queued.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await queued
    # The next booking is let in at once, and the one given up was never written.
    await asyncio.wait_for(
        booked(client, await create_account(client), scene.event_id), ANSWER_TIMEOUT_SECONDS
    )
    mine = await client.get(BOOKINGS, headers=scene.attendee.headers)
    assert mine.json()["total"] == 0
    await assert_ledger_consistent(app)


async def test_seats_taken_by_another_transaction_meanwhile_are_counted_again_under_lock(
    app: FastAPI, client: AsyncClient
) -> None:
    """Another transaction takes seats after this one counted them and before it takes its own: on
    PostgreSQL the conditional update finds too few and the batch is written again with the ticket
    types locked; on SQLite writers never overlap (BEGIN IMMEDIATE), so the count is never stale."""
    scene = await published_scene(client, capacity=3)
    other, first, second = await many_accounts(client, 3)
    database = app.state.database
    users = await _users(app, [other, first, second])
    other_in_flight, let_other_commit = asyncio.Event(), asyncio.Event()

    async def other_transaction() -> None:
        async with database.unit_of_work() as session:
            request = BookingRequest(users[0], _body(scene, quantity=2), None)
            [outcome] = await service.create_bookings(session, request.data.event_id, [request])
            assert isinstance(outcome, Booking)
            other_in_flight.set()
            await let_other_commit.wait()

    locked_attempts: list[bool] = []

    async def batch(session: AsyncSession, lock_seats: bool) -> list[BookingOutcome]:
        locked_attempts.append(lock_seats)
        requests = [BookingRequest(user, _body(scene), None) for user in users[1:]]
        return await service.create_bookings(
            session, requests[0].data.event_id, requests, lock_seats=lock_seats
        )

    other = asyncio.create_task(other_transaction())
    await asyncio.wait_for(other_in_flight.wait(), ANSWER_TIMEOUT_SECONDS)
    ours = asyncio.create_task(service.write_booking(database, batch))
    await asyncio.sleep(SETTLE_SECONDS)  # ours is waiting: for the hot row (PostgreSQL) or to begin (SQLite)
    assert not ours.done()
    let_other_commit.set()
    await asyncio.wait_for(other, ANSWER_TIMEOUT_SECONDS)
    booked_first, refused_second = await asyncio.wait_for(ours, ANSWER_TIMEOUT_SECONDS)
    assert isinstance(booked_first, Booking)
    assert isinstance(refused_second, SoldOut)
    assert refused_second.extra["available"] == 0
    assert locked_attempts == ([False] if app.state.settings.is_sqlite else [False, True])
    await assert_ledger_consistent(app)


async def test_a_batch_whose_commit_fails_answers_each_booking_with_an_error_and_writes_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=5)
    first, second = await many_accounts(client, 2)

    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("commit refused")

    sent = []
    async with _hold_the_gate(app, scene.event_id):
        for account in (first, second):
            sent.append(asyncio.create_task(book(client, account, scene.event_id)))
        await asyncio.sleep(SETTLE_SECONDS)
        event.listen(Session, "before_commit", refuse_commit)
    try:
        answers = await asyncio.wait_for(asyncio.gather(*sent), ANSWER_TIMEOUT_SECONDS)
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    for answer in answers:
        assert_problem(answer, 500, "internal_error")
    guests = await client.get(f"/api/v1/events/{scene.event_id}/bookings", headers=scene.organizer.headers)
    assert guests.json()["total"] == 0
    await assert_ledger_consistent(app)
    await asyncio.wait_for(booked(client, first, scene.event_id), ANSWER_TIMEOUT_SECONDS)


def _body(scene: Scene, quantity: int = 1) -> BookingCreate:
    return BookingCreate(event_id=uuid.UUID(scene.event_id), quantity=quantity)


def _claims(app: FastAPI, account: Account) -> TokenClaims:
    claims: TokenClaims | None = app.state.tokens.decode(account.access_token, TokenType.ACCESS)
    assert claims is not None
    return claims


async def _users(app: FastAPI, accounts: list[Account]) -> list[User]:
    async with app.state.database.reader() as session:
        return [await session.get_one(User, uuid.UUID(account.id)) for account in accounts]
