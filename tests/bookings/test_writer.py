"""The booking writer (bookings/writer.py): sales of an event queue in the process, a few
transactions at a time; the sales queued meanwhile are written together in one transaction, each with
its own answer, first come, first served.

Tests line sales up by pausing the event's gate (``BookingWriter.paused``) and waiting until the
writer reports them queued; nothing here waits for time to pass.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from boxoffice.bookings import repository
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.bookings.writer import BookingWriter
from boxoffice.core.config import Settings
from tests.bookings.helpers import (
    BOOKINGS,
    HOLDS,
    booked,
    held,
    hold_url,
    many_accounts,
    published_scene,
)
from tests.conftest import make_settings
from tests.factories import Account, assert_ledger_consistent, assert_problem, book, create_account

ANSWER_TIMEOUT_SECONDS = 30


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, booking_concurrency_per_event=1)


def _writer(app: FastAPI) -> BookingWriter:
    writer: BookingWriter = app.state.booking_writer
    return writer


async def _until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``condition`` holds (checked as the event loop turns), or fail after a generous time."""

    async def poll() -> None:
        while not await condition():  # noqa: ASYNC110  (state of another task or of the database)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), ANSWER_TIMEOUT_SECONDS)


async def _queued(app: FastAPI, event_id: str, count: int) -> None:
    async def enough() -> bool:
        return _writer(app).queued(uuid.UUID(event_id)) >= count

    await _until(enough)


Sale = tuple[str, Account, dict[str, Any]]


def _request(client: AsyncClient, event_id: str, sale: Sale) -> Awaitable[Response]:
    """A sale as the API takes it: ("book", account, body), ("hold", ...) or ("confirm", account,
    {"hold": id, ...}); a body's "key" is sent as its Idempotency-Key."""
    kind, account, body = sale
    fields = {name: value for name, value in body.items() if name not in {"key", "hold"}}
    headers = {**account.headers, **({"Idempotency-Key": str(body["key"])} if "key" in body else {})}
    if kind == "book":
        return client.post(BOOKINGS, json={"event_id": event_id, **fields}, headers=headers)
    if kind == "hold":
        return client.post(HOLDS, json={"event_id": event_id, **fields}, headers=headers)
    return client.post(hold_url(str(body["hold"]), "confirm"), json=fields, headers=headers)


async def _in_one_batch(
    app: FastAPI, client: AsyncClient, event_id: str, sales: list[Sale]
) -> list[Response]:
    """Queue the sales in this order while the event's gate is paused, then let them in: they are
    written in one transaction. Their answers, in the same order."""
    sent: list[asyncio.Task[Response]] = []
    async with _writer(app).paused(uuid.UUID(event_id)):
        for position, sale in enumerate(sales, start=1):
            sent.append(asyncio.create_task(_request(client, event_id, sale)))  # type: ignore[arg-type]
            await _queued(app, event_id, position)
        assert not any(task.done() for task in sent), "a sale went past a paused gate"
    return list(await asyncio.wait_for(asyncio.gather(*sent), ANSWER_TIMEOUT_SECONDS))


async def test_a_sale_waits_for_a_place_at_the_gate_then_goes_through(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=5)
    async with _writer(app).paused(uuid.UUID(scene.event_id)):
        waiting = asyncio.create_task(book(client, scene.attendee, scene.event_id))
        await _queued(app, scene.event_id, 1)
        assert not waiting.done()
    response = await asyncio.wait_for(waiting, ANSWER_TIMEOUT_SECONDS)
    assert response.status_code == 201, response.text
    assert _writer(app).queued(uuid.UUID(scene.event_id)) == 0


async def test_a_refused_sale_gives_its_place_back(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    await booked(client, scene.attendee, scene.event_id)
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "already_booked")
    other = await create_account(client)
    response = await asyncio.wait_for(book(client, other, scene.event_id), ANSWER_TIMEOUT_SECONDS)
    assert response.status_code == 201, response.text


async def test_the_checks_answer_in_the_usual_order(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1, max_tickets_per_booking=2)
    assert_problem(await client.post(BOOKINGS, json={"event_id": scene.event_id}), 401, "not_authenticated")
    bad_token = {"Authorization": "Bearer not-a-token"}
    assert_problem(
        await client.post(BOOKINGS, json={"event_id": scene.event_id}, headers=bad_token),
        401,
        "not_authenticated",
    )
    assert_problem(await book(client, scene.attendee, scene.event_id, quantity=3), 422, "validation_error")
    assert_problem(await book(client, scene.attendee, scene.event_id, quantity=2), 409, "sold_out")
    assert_problem(await book(client, scene.attendee, str(uuid.uuid4())), 404, "not_found")


async def test_a_repeat_with_an_idempotency_key_is_replayed_even_once_sold_out(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    headers = {**scene.attendee.headers, "Idempotency-Key": "only-seat"}
    body = {"event_id": scene.event_id}
    first = await client.post(BOOKINGS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(BOOKINGS, json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


async def test_queued_sales_go_first_come_first_served_and_a_later_smaller_one_may_fit(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=3)
    first, second, third = await many_accounts(client, 3)
    answers = await _in_one_batch(
        app,
        client,
        scene.event_id,
        [("book", first, {"quantity": 2}), ("hold", second, {"quantity": 2}), ("hold", third, {})],
    )
    assert [answer.status_code for answer in answers] == [201, 409, 201]
    # What is left once the batch is written: the smaller hold after it took the last ticket.
    assert assert_problem(answers[1], 409, "sold_out")["available"] == 0
    # The refused sale left nothing behind: no hold, and the ledger adds up.
    guests = await client.get(f"/api/v1/events/{scene.event_id}/bookings", headers=scene.organizer.headers)
    assert [guest["user_id"] for guest in guests.json()["items"]] == [first.id]
    await assert_ledger_consistent(app)


async def test_each_sale_in_a_batch_gets_its_own_answer(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10, max_tickets_per_booking=4)
    fine, twice, greedy, logged_out, holder, confirmer, stranger = await many_accounts(client, 7)
    holding = await held(client, confirmer, scene.event_id, quantity=2)
    assert (await client.post("/api/v1/auth/logout", headers=logged_out.headers)).status_code == 204
    answers = await _in_one_batch(
        app,
        client,
        scene.event_id,
        [
            ("book", fine, {"quantity": 2}),
            ("book", twice, {}),
            ("book", twice, {}),
            ("book", greedy, {"quantity": 5}),
            ("book", logged_out, {}),
            ("book", fine, {"ticket_type_id": str(uuid.uuid4())}),
            ("hold", holder, {"quantity": 2}),
            ("hold", holder, {}),
            ("hold", twice, {}),
            ("confirm", confirmer, {"hold": holding["id"], "holder_name": "Grace"}),
            ("confirm", confirmer, {"hold": holding["id"]}),
            ("confirm", stranger, {"hold": holding["id"]}),
        ],
    )
    assert [answer.status_code for answer in answers[:2]] == [201, 201], [a.text for a in answers[:2]]
    assert answers[0].json()["quantity"] == 2
    assert answers[0].json()["event"]["id"] == scene.event_id
    assert_problem(answers[2], 409, "already_booked")
    assert_problem(answers[3], 422, "validation_error")
    assert_problem(answers[4], 401, "not_authenticated")
    assert_problem(answers[5], 404, "not_found")
    assert answers[6].status_code == 201, answers[6].text
    assert answers[6].json()["status"] == "active"
    assert_problem(answers[7], 409, "hold_limit")
    assert_problem(answers[8], 409, "already_booked")
    assert answers[9].status_code == 201, answers[9].text
    assert answers[9].json()["holder_name"] == "Grace"
    assert_problem(answers[10], 409, "already_booked")
    assert_problem(answers[11], 404, "not_found")
    mine = await client.get(BOOKINGS, headers=twice.headers)
    assert [booking["id"] for booking in mine.json()["items"]] == [answers[1].json()["id"]]
    # One transaction: the new bookings and hold share their creation time.
    assert len({answers[i].json()["created_at"] for i in (0, 1, 6, 9)}) == 1
    await assert_ledger_consistent(app)


async def test_sales_with_idempotency_keys_are_written_in_the_batch_too(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    first, second, plain = await many_accounts(client, 3)
    keyed: dict[str, Any] = {"key": "checkout-1"}
    answers = await _in_one_batch(
        app,
        client,
        scene.event_id,
        [("book", first, keyed), ("book", first, keyed), ("book", second, keyed), ("book", plain, {})],
    )
    assert [answer.status_code for answer in answers] == [201, 409, 201, 201], [a.text for a in answers]
    assert_problem(answers[1], 409, "idempotency_in_progress")
    assert "Idempotent-Replayed" not in answers[0].headers
    again = await client.post(
        BOOKINGS,
        json={"event_id": scene.event_id},
        headers={**first.headers, "Idempotency-Key": "checkout-1"},
    )
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == answers[0].json()
    await assert_ledger_consistent(app)


async def test_a_sale_given_up_while_queued_leaves_nothing(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    writer = _writer(app)
    body = BookingCreate(event_id=uuid.UUID(scene.event_id))
    async with writer.paused(uuid.UUID(scene.event_id)):
        queued = asyncio.create_task(writer.book(scene.attendee.access_token, body))
        await _queued(app, scene.event_id, 1)
        queued.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await queued
    # The next sale is let in at once, and the one given up was never written.
    await asyncio.wait_for(
        booked(client, await create_account(client), scene.event_id), ANSWER_TIMEOUT_SECONDS
    )
    mine = await client.get(BOOKINGS, headers=scene.attendee.headers)
    assert mine.json()["total"] == 0
    await assert_ledger_consistent(app)


async def test_seats_taken_by_another_transaction_meanwhile_are_counted_again_under_lock(
    app: FastAPI, client: AsyncClient
) -> None:
    """Another transaction takes seats after the batch counted them and before it takes its own: on
    PostgreSQL the ledger statement finds too few and the batch is written again with the ticket
    types locked; on MariaDB/MySQL the batch locks them first anyway (its foreign-key checks would
    share-lock them), so it waits and counts once, locked; on SQLite writers never overlap (BEGIN
    IMMEDIATE), so the count is never stale."""
    scene = await published_scene(client, capacity=3)
    first, second = await many_accounts(client, 2)
    database = app.state.database
    ticket_type = uuid.UUID(scene.event["ticket_types"][0]["id"])
    locked_reads: list[str] = []

    def count_locked_reads(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FOR UPDATE" in statement and "FROM ticket_type" in statement:
            locked_reads.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count_locked_reads)
    other_in_flight, let_other_commit = asyncio.Event(), asyncio.Event()

    async def other_transaction() -> None:
        async with database.unit_of_work() as session:
            assert await repository.move_seats(session, ticket_type, sold=2)
            other_in_flight.set()
            await let_other_commit.wait()

    other = asyncio.create_task(other_transaction())
    try:
        await asyncio.wait_for(other_in_flight.wait(), ANSWER_TIMEOUT_SECONDS)
        async with _writer(app).paused(uuid.UUID(scene.event_id)):
            ours = [asyncio.create_task(book(client, account, scene.event_id)) for account in (first, second)]
            await _queued(app, scene.event_id, 2)
        if not app.state.settings.is_sqlite:
            await _until(lambda: _waiting_for_a_lock(app))
        let_other_commit.set()
        await asyncio.wait_for(other, ANSWER_TIMEOUT_SECONDS)
        booked_first, refused_second = await asyncio.wait_for(asyncio.gather(*ours), ANSWER_TIMEOUT_SECONDS)
    finally:
        let_other_commit.set()
        event.remove(database.engine.sync_engine, "before_cursor_execute", count_locked_reads)
    # The other transaction's seats are not a booking: put the ledger back before checking it.
    async with database.unit_of_work() as session:
        await repository.move_seats(session, ticket_type, sold=-2)
    assert booked_first.status_code == 201, booked_first.text
    assert assert_problem(refused_second, 409, "sold_out")["available"] == 0
    assert len(locked_reads) == (0 if app.state.settings.is_sqlite else 1)
    await assert_ledger_consistent(app)


async def _waiting_for_a_lock(app: FastAPI) -> bool:
    async with app.state.database.reader() as session:
        if session.get_bind().dialect.name == "mysql":
            query = "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
        else:
            query = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        waiting = await session.scalar(text(query))
    return bool(waiting)


async def test_a_batch_whose_commit_fails_answers_each_sale_with_an_error_and_writes_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=5)
    first, second = await many_accounts(client, 2)

    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("commit refused")

    async with _writer(app).paused(uuid.UUID(scene.event_id)):
        sent = [asyncio.create_task(book(client, account, scene.event_id)) for account in (first, second)]
        await _queued(app, scene.event_id, 2)
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
