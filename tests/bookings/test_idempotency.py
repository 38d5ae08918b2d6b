"""The Idempotency-Key header on POST /bookings: repeat a request safely within 24 hours."""

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import update

from boxoffice.core.db import utcnow
from boxoffice.models import IdempotencyKey
from tests.bookings.helpers import (
    BOOKINGS,
    booked,
    cancel_booking,
    my_bookings,
    published_scene,
    tickets_sold,
)
from tests.factories import Account, assert_ledger_consistent, assert_problem, book, create_account


async def book_with_key(client: AsyncClient, account: Account, key: str, **body: Any) -> Response:
    return await client.post(BOOKINGS, json=body, headers={**account.headers, "Idempotency-Key": key})


async def test_a_repeated_request_returns_the_first_answer_and_books_once(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    key = str(uuid.uuid4())
    first = await book_with_key(client, scene.attendee, key, event_id=scene.event_id, quantity=2)
    again = await book_with_key(client, scene.attendee, key, event_id=scene.event_id, quantity=2)
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert await tickets_sold(client, scene.event_id) == 2
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_a_keyed_booking_looks_like_any_other(client: AsyncClient) -> None:
    scene = await published_scene(client)
    keyed = await book_with_key(client, scene.attendee, "k-1", event_id=scene.event_id)
    assert keyed.status_code == 201, keyed.text
    assert keyed.headers["content-type"].startswith("application/json")
    reread = await client.get(f"{BOOKINGS}/{keyed.json()['id']}", headers=scene.attendee.headers)
    assert reread.json() == keyed.json()


async def test_the_first_answer_is_returned_even_after_the_booking_changed(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    first = await book_with_key(client, scene.attendee, "retry-me", event_id=scene.event_id)
    await cancel_booking(client, scene.attendee, first.json()["id"])
    again = await book_with_key(client, scene.attendee, "retry-me", event_id=scene.event_id)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    assert await tickets_sold(client, scene.event_id) == 0
    await assert_ledger_consistent(app)


async def test_the_same_key_with_another_body_is_a_mismatch(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    await book_with_key(client, scene.attendee, "same-key", event_id=scene.event_id, quantity=1)
    response = await book_with_key(client, scene.attendee, "same-key", event_id=scene.event_id, quantity=3)
    assert_problem(response, 422, "idempotency_key_mismatch")
    assert await tickets_sold(client, scene.event_id) == 1
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_the_same_key_for_another_event_is_a_mismatch(client: AsyncClient) -> None:
    scene = await published_scene(client)
    other = await published_scene(client)
    await book_with_key(client, scene.attendee, "same-key", event_id=scene.event_id)
    response = await book_with_key(client, scene.attendee, "same-key", event_id=other.event_id)
    assert_problem(response, 422, "idempotency_key_mismatch")
    assert await tickets_sold(client, other.event_id) == 0


async def test_the_same_key_from_another_user_is_an_independent_booking(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    neighbour = await create_account(client)
    mine = await book_with_key(client, scene.attendee, "shared", event_id=scene.event_id)
    theirs = await book_with_key(client, neighbour, "shared", event_id=scene.event_id)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["user_id"] == neighbour.id
    assert await tickets_sold(client, scene.event_id) == 2
    await assert_ledger_consistent(app)


async def test_a_key_of_255_characters_is_accepted(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await book_with_key(client, scene.attendee, "k" * 255, event_id=scene.event_id)
    assert response.status_code == 201, response.text


async def test_a_key_longer_than_255_characters_is_rejected(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await book_with_key(client, scene.attendee, "k" * 256, event_id=scene.event_id)
    assert_problem(response, 422, "validation_error")
    assert await tickets_sold(client, scene.event_id) == 0


async def test_a_failed_request_is_not_remembered(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    first_comer = await create_account(client)
    taken = await booked(client, first_comer, scene.event_id)
    refused = await book_with_key(client, scene.attendee, "try-again", event_id=scene.event_id)
    assert_problem(refused, 409, "sold_out")
    await cancel_booking(client, first_comer, taken["id"])
    retried = await book_with_key(client, scene.attendee, "try-again", event_id=scene.event_id)
    assert retried.status_code == 201, retried.text
    assert retried.json()["user_id"] == scene.attendee.id
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


async def test_a_rejected_body_is_not_remembered(client: AsyncClient) -> None:
    scene = await published_scene(client, max_tickets_per_booking=2)
    refused = await book_with_key(client, scene.attendee, "fix-me", event_id=scene.event_id, quantity=3)
    assert_problem(refused, 422, "validation_error")
    fixed = await book_with_key(client, scene.attendee, "fix-me", event_id=scene.event_id, quantity=2)
    assert fixed.status_code == 201, fixed.text


async def test_a_key_older_than_24_hours_is_forgotten(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    first = await book_with_key(client, scene.attendee, "yesterday", event_id=scene.event_id)
    assert first.status_code == 201
    await cancel_booking(client, scene.attendee, first.json()["id"])
    async with app.state.database.unit_of_work() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == uuid.UUID(scene.attendee.id), IdempotencyKey.key == "yesterday")
            .values(created_at=utcnow() - timedelta(hours=25))
        )
    again = await book_with_key(client, scene.attendee, "yesterday", event_id=scene.event_id)
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]
    assert again.json()["status"] == "confirmed"
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 2
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


async def test_a_key_just_under_24_hours_old_is_still_remembered(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    first = await book_with_key(client, scene.attendee, "today", event_id=scene.event_id)
    async with app.state.database.unit_of_work() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == uuid.UUID(scene.attendee.id), IdempotencyKey.key == "today")
            .values(created_at=utcnow() - timedelta(hours=23))
        )
    again = await book_with_key(client, scene.attendee, "today", event_id=scene.event_id)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1


async def test_without_a_key_a_repeat_is_already_booked(client: AsyncClient) -> None:
    scene = await published_scene(client)
    await booked(client, scene.attendee, scene.event_id)
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "already_booked")


async def test_an_already_booked_answer_is_not_remembered(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    existing = await booked(client, scene.attendee, scene.event_id)
    refused = await book_with_key(client, scene.attendee, "after-cancel", event_id=scene.event_id)
    assert_problem(refused, 409, "already_booked")
    await cancel_booking(client, scene.attendee, existing["id"])
    retried = await book_with_key(client, scene.attendee, "after-cancel", event_id=scene.event_id)
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] != existing["id"]
    await assert_ledger_consistent(app)
