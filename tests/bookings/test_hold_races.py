"""Holds under real parallel requests: whatever runs at once, the ledger stays exact.

Every test fires its requests (and expiry sweeps) together with asyncio.gather; each has its own
database connection and transaction, so the database decides who wins. After each, the extended
invariant is checked: sold == confirmed bookings, held == active holds, sold + held <= capacity.

A sweep here is the worker's own step (``expire_due_holds``) run with a clock a little ahead of the
holds' expiry, so that it races the requests on the same holds while they are still live for the API.
"""

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from boxoffice.bookings import service as bookings_service
from tests.bookings.helpers import (
    confirm,
    held,
    hold,
    hold_url,
    many_accounts,
    published_scene,
    ticket_type_figures,
)
from tests.factories import Account, assert_ledger_consistent, book


def _no_server_errors(responses: list[Any]) -> None:
    errors = [r.text for r in responses if isinstance(r, Response) and r.status_code >= 500]
    assert not errors, errors[:3]


def _codes(responses: list[Response]) -> Counter[object]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def _sweep(app: FastAPI, clock: datetime) -> int:
    """One expiry sweep, as the worker runs it, at ``clock``."""
    async with app.state.database.unit_of_work() as session:
        return await bookings_service.expire_due_holds(session, clock)


async def _hold_status(client: AsyncClient, account: Account, hold_id: str) -> str:
    return str((await client.get(hold_url(hold_id), headers=account.headers)).json()["status"])


def _just_after(holds: list[dict[str, Any]]) -> datetime:
    return max(datetime.fromisoformat(h["expires_at"].replace("Z", "+00:00")) for h in holds) + timedelta(
        seconds=1
    )


async def test_two_hundred_holds_for_ten_seats_hold_exactly_ten(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    users = await many_accounts(client, 200)

    responses = await asyncio.gather(*(hold(client, user, scene.event_id) for user in users))

    _no_server_errors(responses)
    assert _codes(responses) == {201: 10, "sold_out": 190}
    assert await ticket_type_figures(client, scene.event_id) == [(0, 10, 0)]
    await assert_ledger_consistent(app)


async def test_confirms_racing_expiry_sweeps_and_rival_bookings_return_each_hold_once(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    holders = await many_accounts(client, 10)
    rivals = await many_accounts(client, 10)
    holds = [await held(client, holder, scene.event_id) for holder in holders]
    clock = _just_after(holds)

    outcomes = await asyncio.gather(
        *(confirm(client, holder, h["id"]) for holder, h in zip(holders, holds, strict=True)),
        *(book(client, rival, scene.event_id) for rival in rivals),
        *(_sweep(app, clock) for _ in range(3)),
    )

    confirms, bookings, sweeps = outcomes[:10], outcomes[10:20], outcomes[20:]
    _no_server_errors([*confirms, *bookings])
    assert set(_codes(confirms)) <= {201, "hold_expired"}
    assert set(_codes(bookings)) <= {201, "sold_out"}
    statuses = [await _hold_status(client, holder, h["id"]) for holder, h in zip(holders, holds, strict=True)]
    for response, status in zip(confirms, statuses, strict=True):
        assert status == ("confirmed" if response.status_code == 201 else "expired")
    # Each hold's ticket came back at most once (three sweeps, ten one-ticket holds), and exactly as
    # often as the ledger says: a hold the sweeps expired was either confirmed late by its holder,
    # taking its ticket again, or lost that ticket to a rival.
    assert statuses.count("expired") <= sum(sweeps) <= 10
    sold = sum(r.status_code == 201 for r in [*confirms, *bookings])
    assert await ticket_type_figures(client, scene.event_id) == [(sold, 0, 10 - sold)]
    assert sold == 10
    await assert_ledger_consistent(app)


async def test_a_release_racing_a_confirm_has_one_winner(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=20)
    holders = await many_accounts(client, 20)
    holds = [await held(client, holder, scene.event_id) for holder in holders]

    outcomes = await asyncio.gather(
        *(
            request
            for holder, h in zip(holders, holds, strict=True)
            for request in (
                confirm(client, holder, h["id"]),
                client.delete(hold_url(h["id"]), headers=holder.headers),
            )
        )
    )

    _no_server_errors(outcomes)
    confirmed = 0
    for index, (holder, h) in enumerate(zip(holders, holds, strict=True)):
        confirmed_by, released_by = outcomes[2 * index], outcomes[2 * index + 1]
        status = await _hold_status(client, holder, h["id"])
        if confirmed_by.status_code == 201:
            confirmed += 1
            assert status == "confirmed"
            assert released_by.status_code == 409
            assert released_by.json()["code"] == "invalid_transition"
        else:
            assert status == "released"
            assert released_by.status_code == 204
            assert confirmed_by.json()["code"] == "hold_expired"
    assert await ticket_type_figures(client, scene.event_id) == [(confirmed, 0, 20 - confirmed)]
    await assert_ledger_consistent(app)


async def test_an_extension_racing_the_expiry_sweep_either_extends_or_finds_it_expired(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=20)
    holders = await many_accounts(client, 20)
    holds = [await held(client, holder, scene.event_id) for holder in holders]
    clock = _just_after(holds)

    outcomes = await asyncio.gather(
        *(
            client.post(hold_url(h["id"], "extend"), headers=holder.headers)
            for holder, h in zip(holders, holds, strict=True)
        ),
        *(_sweep(app, clock) for _ in range(3)),
    )

    extensions, sweeps = outcomes[:20], outcomes[20:]
    _no_server_errors(extensions)
    assert set(_codes(extensions)) <= {200, "hold_expired"}
    still_held = 0
    for response, holder, h in zip(extensions, holders, holds, strict=True):
        status = await _hold_status(client, holder, h["id"])
        if response.status_code == 200:
            still_held += 1
            assert status == "active"
            assert response.json()["expires_at"] > h["expires_at"]
        else:
            assert status == "expired"
    assert sum(sweeps) == 20 - still_held
    assert await ticket_type_figures(client, scene.event_id) == [(0, still_held, 20 - still_held)]
    await assert_ledger_consistent(app)


async def test_holds_and_bookings_rushing_together_fill_the_event_exactly(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=30, max_tickets_per_booking=2)
    holders = await many_accounts(client, 40)
    buyers = await many_accounts(client, 40)

    outcomes = await asyncio.gather(
        *(hold(client, holder, scene.event_id, quantity=1 + i % 2) for i, holder in enumerate(holders)),
        *(book(client, buyer, scene.event_id, quantity=1 + i % 2) for i, buyer in enumerate(buyers)),
    )

    _no_server_errors(outcomes)
    assert set(_codes(outcomes)) <= {201, "sold_out"}
    taken = [r.json()["quantity"] for r in outcomes if r.status_code == 201]
    held_now = sum(r.json()["quantity"] for r in outcomes[:40] if r.status_code == 201)
    sold_now = sum(taken) - held_now
    assert await ticket_type_figures(client, scene.event_id) == [(sold_now, held_now, 30 - sum(taken))]
    # Demand was 120 tickets for 30: whatever is left is less than the smallest refused request.
    assert 30 - sum(taken) <= 1
    await assert_ledger_consistent(app)

    winners = [
        (holder, r.json()["id"])
        for holder, r in zip(holders, outcomes[:40], strict=True)
        if r.status_code == 201
    ]
    confirmed = await asyncio.gather(*(confirm(client, holder, hold_id) for holder, hold_id in winners))
    assert {r.status_code for r in confirmed} == {201}
    assert await ticket_type_figures(client, scene.event_id) == [(sum(taken), 0, 30 - sum(taken))]
    await assert_ledger_consistent(app)
