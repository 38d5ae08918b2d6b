"""Real parallel requests against a real database: the seat ledger never lies.

Every test fires its requests at once with asyncio.gather; each request has its own database
connection and transaction, so the database, not Python, decides who wins.
"""

import asyncio
import random
from collections import Counter
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.factories import (
    Account,
    assert_ledger_consistent,
    assert_problem,
    book,
    create_account,
    create_published_event,
)


async def _accounts(client: AsyncClient, count: int) -> list[Account]:
    accounts: list[Account] = []
    for start in range(0, count, 20):
        accounts += await asyncio.gather(
            *(create_account(client) for _ in range(start, min(count, start + 20)))
        )
    return accounts


def _no_server_errors(responses: list[Response]) -> None:
    errors = [r.text for r in responses if r.status_code >= 500]
    assert not errors, errors[:3]


async def _event(client: AsyncClient, capacity: int, **overrides: Any) -> dict[str, Any]:
    organizer = await create_account(client, role="organizer")
    return await create_published_event(
        client,
        organizer,
        ticket_types=[{"name": "General", "price": "10.00", "capacity": capacity}],
        **overrides,
    )


async def _sold(client: AsyncClient, event_id: str) -> int:
    return int((await client.get(f"/api/v1/events/{event_id}")).json()["tickets_sold"])


async def test_a_flash_sale_never_oversells(app: FastAPI, client: AsyncClient) -> None:
    event = await _event(client, capacity=50)
    users = await _accounts(client, 100)
    rng = random.Random(7)
    attempts = [(user, rng.choice((1, 2))) for user in users for _ in range(2)]
    rng.shuffle(attempts)

    responses = await asyncio.gather(*(book(client, user, event["id"], quantity=q) for user, q in attempts))

    _no_server_errors(responses)
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"sold_out", "already_booked"}
    sold = await _sold(client, event["id"])
    assert 49 <= sold <= 50
    assert sold == sum(r.json()["quantity"] for r in responses if r.status_code == 201)
    winners = Counter(r.json()["user_id"] for r in responses if r.status_code == 201)
    assert max(winners.values()) == 1, "a user got two active bookings"
    await assert_ledger_consistent(app)


async def test_concurrent_duplicate_bookings_by_one_user_make_one(app: FastAPI, client: AsyncClient) -> None:
    event = await _event(client, capacity=100)
    user = await create_account(client)

    responses = await asyncio.gather(*(book(client, user, event["id"], quantity=1) for _ in range(10)))

    _no_server_errors(responses)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert all(r.json()["code"] == "already_booked" for r in responses if r.status_code == 409)
    assert await _sold(client, event["id"]) == 1
    await assert_ledger_consistent(app)


async def test_twenty_concurrent_cancels_return_the_seats_once(app: FastAPI, client: AsyncClient) -> None:
    event = await _event(client, capacity=10)
    user = await create_account(client)
    booking = (await book(client, user, event["id"], quantity=3)).json()

    responses = await asyncio.gather(
        *(client.delete(f"/api/v1/bookings/{booking['id']}", headers=user.headers) for _ in range(20))
    )

    _no_server_errors(responses)
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "already_cancelled")
    assert await _sold(client, event["id"]) == 0
    await assert_ledger_consistent(app)


async def test_changes_cancels_and_new_bookings_interleaved_keep_the_ledger(
    app: FastAPI, client: AsyncClient
) -> None:
    event = await _event(client, capacity=40, max_tickets_per_booking=5)
    holders = await _accounts(client, 20)
    newcomers = await _accounts(client, 20)
    bookings = [(await book(client, holder, event["id"], quantity=1)).json() for holder in holders]
    rng = random.Random(11)

    def change(holder: Account, booking: dict[str, Any]) -> Any:
        if rng.random() < 0.3:
            return client.delete(f"/api/v1/bookings/{booking['id']}", headers=holder.headers)
        quantity = rng.randint(1, 5)
        return client.patch(
            f"/api/v1/bookings/{booking['id']}", json={"quantity": quantity}, headers=holder.headers
        )

    work = [change(h, b) for h, b in zip(holders, bookings, strict=True) for _ in range(3)]
    work += [book(client, newcomer, event["id"], quantity=rng.randint(1, 5)) for newcomer in newcomers]
    rng.shuffle(work)

    responses = await asyncio.gather(*work)

    _no_server_errors(responses)
    assert {r.json()["code"] for r in responses if r.status_code >= 400} <= {"sold_out", "already_cancelled"}
    assert await _sold(client, event["id"]) <= 40
    await assert_ledger_consistent(app)


async def test_concurrent_requests_with_one_idempotency_key_make_one_booking(
    app: FastAPI, client: AsyncClient
) -> None:
    event = await _event(client, capacity=10)
    user = await create_account(client)
    headers = {**user.headers, "Idempotency-Key": "checkout-42"}

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/bookings", json={"event_id": event["id"], "quantity": 2}, headers=headers)
            for _ in range(8)
        )
    )

    _no_server_errors(responses)
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert len({r.json()["id"] for r in created}) == 1
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, 409, "idempotency_in_progress")
    assert await _sold(client, event["id"]) == 2
    await assert_ledger_consistent(app)


async def test_cancelling_an_event_during_a_rush_leaves_no_confirmed_booking(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "General", "price": "5.00", "capacity": 500}]
    )
    users = await _accounts(client, 40)
    work = [book(client, user, event["id"]) for user in users]
    work.insert(20, client.post(f"/api/v1/events/{event['id']}/cancel", headers=organizer.headers, json={}))

    responses = await asyncio.gather(*work)

    _no_server_errors(responses)
    guest_list = await client.get(
        f"/api/v1/events/{event['id']}/bookings", params={"status": "confirmed"}, headers=organizer.headers
    )
    assert guest_list.json()["total"] == 0
    assert await _sold(client, event["id"]) == 0
    await assert_ledger_consistent(app)


async def test_shrinking_capacity_during_a_rush_never_leaves_sold_above_capacity(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "General", "price": "5.00", "capacity": 30}]
    )
    ticket_type_id = event["ticket_types"][0]["id"]
    users = await _accounts(client, 30)
    work = [book(client, user, event["id"]) for user in users]
    for capacity in (25, 20, 15, 10):
        work.insert(
            capacity,
            client.patch(
                f"/api/v1/events/{event['id']}/ticket-types/{ticket_type_id}",
                json={"capacity": capacity},
                headers=organizer.headers,
            ),
        )

    responses = await asyncio.gather(*work)

    _no_server_errors(responses)
    assert {r.json()["code"] for r in responses if r.status_code >= 400} <= {
        "sold_out",
        "capacity_below_sold",
    }
    final = (await client.get(f"/api/v1/events/{event['id']}")).json()["ticket_types"][0]
    assert final["sold"] <= final["capacity"]
    await assert_ledger_consistent(app)
