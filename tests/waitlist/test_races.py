"""The waiting list under real parallel requests, sweeps and server processes: each returned ticket is
offered to exactly one entry at a time, in line order, and the ledger stays exact.

After each test: every offer is a hold of its own entry (a unique constraint), the tickets of the
active offers are the ticket type's ``held``, the entries offered are the head of the line, and
``assert_ledger_consistent`` holds (sold == confirmed bookings, held == active holds, sold + held <=
capacity).
"""

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update

from boxoffice.bookings import service as bookings_service
from boxoffice.models import Hold, HoldStatus, TicketType, WaitlistEntry, WaitlistStatus
from boxoffice.worker import expire_holds_now, offer_free_tickets_now
from tests.bookings.helpers import cancel_booking, confirm, many_accounts
from tests.factories import Account, assert_ledger_consistent, bearer, book
from tests.processes import boxoffice_serve
from tests.waitlist.helpers import SoldOut, active_offers, entries, joined, line_figures, sold_out

POLL_SECONDS = 0.05
PATIENCE_SECONDS = 60


def _no_server_errors(responses: list[Any]) -> None:
    errors = [r.text for r in responses if isinstance(r, Response) and r.status_code >= 500]
    assert not errors, errors[:3]


def _codes(responses: list[Response]) -> Counter[object]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def _line(client: AsyncClient, scene: SoldOut, size: int, **body: Any) -> list[Account]:
    """``size`` people join the sold-out event one after the other: the line's order."""
    people = await many_accounts(client, size)
    for person in people:
        await joined(client, person, scene.event_id, **body)
    return people


async def _assert_offers_follow_the_line(app: FastAPI, offered: int, expired: int = 0) -> None:
    """The first ``expired`` entries' offers ran out, the next ``offered`` hold one offer each, the
    rest wait; each active offer's tickets are held once."""
    rows = await entries(app)
    statuses = [row.status for row in rows]
    assert statuses == (
        [WaitlistStatus.EXPIRED] * expired
        + [WaitlistStatus.OFFERED] * offered
        + [WaitlistStatus.WAITING] * (len(rows) - expired - offered)
    )
    holds = await active_offers(app)
    assert sorted(str(h.waitlist_entry_id) for h in holds) == sorted(
        str(row.id) for row in rows if row.status is WaitlistStatus.OFFERED
    )
    async with app.state.database.reader() as session:
        held = await session.scalar(select(func.sum(TicketType.held)))
        waiting = await session.scalar(select(func.sum(TicketType.waiting)))
    assert held == sum(h.quantity for h in holds)
    assert waiting == statuses.count(WaitlistStatus.WAITING)
    await assert_ledger_consistent(app)


async def _sweeps(app: FastAPI, count: int) -> list[int]:
    """Worker steps racing the requests: expiry sweeps and looks for free tickets nobody was offered."""
    database = app.state.database
    return list(
        await asyncio.gather(
            *(expire_holds_now(database) for _ in range(count)),
            *(offer_free_tickets_now(database) for _ in range(count)),
        )
    )


async def test_twenty_cancellations_while_fifty_wait_make_exactly_twenty_offers(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=20)
    people = await _line(client, scene, 50)
    outsiders = await many_accounts(client, 10)

    outcomes = await asyncio.gather(
        *(
            cancel_booking(client, b, booking["id"])
            for b, booking in zip(scene.buyers, scene.bookings, strict=True)
        ),
        # Waiting people and others try the public sale meanwhile: the returned tickets are the line's.
        *(book(client, person, scene.event_id) for person in people[30:40]),
        *(book(client, outsider, scene.event_id) for outsider in outsiders),
        _sweeps(app, 2),
    )

    cancellations, sales = outcomes[:20], outcomes[20:40]
    _no_server_errors([*cancellations, *sales])
    assert _codes(cancellations) == {200: 20}
    assert _codes(sales) == {"sold_out": 20}
    assert await line_figures(client, scene.event_id) == [(0, 20, 30, 0)]
    await _assert_offers_follow_the_line(app, offered=20)


async def test_offers_expiring_while_more_tickets_return_pass_each_ticket_on_once(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=20)
    await _line(client, scene, 40)
    pairs = list(zip(scene.buyers, scene.bookings, strict=True))
    for buyer, booking in pairs[:10]:
        await cancel_booking(client, buyer, booking["id"])
    await _assert_offers_follow_the_line(app, offered=10)
    async with app.state.database.unit_of_work() as session:  # the ten offers run out at once
        await session.execute(update(Hold).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    outcomes = await asyncio.gather(
        *(cancel_booking(client, buyer, booking["id"]) for buyer, booking in pairs[10:]),
        _sweeps(app, 3),
    )

    _no_server_errors(list(outcomes[:10]))
    assert _codes(list(outcomes[:10])) == {200: 10}
    assert sum(outcomes[10][:3]) == 10  # the ten run-out offers' tickets, returned once
    # Twenty tickets out: the ten that expired passed to the next ten, the ten returned to the ten
    # after them.
    assert await line_figures(client, scene.event_id) == [(0, 20, 10, 0)]
    await _assert_offers_follow_the_line(app, offered=20, expired=10)


async def test_confirming_offers_racing_their_expiry_books_or_passes_each_on_once(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=10)
    people = await _line(client, scene, 20)
    for buyer, booking in zip(scene.buyers, scene.bookings, strict=True):
        await cancel_booking(client, buyer, booking["id"])
    offers = {h.waitlist_entry_id: h for h in await active_offers(app)}
    rows = await entries(app)
    async with app.state.database.unit_of_work() as session:  # the offers run out
        await session.execute(update(Hold).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))

    async def sweep() -> int:
        async with app.state.database.unit_of_work() as session:
            return await bookings_service.expire_due_holds(session, datetime.now(UTC))

    holders = people[:10]
    outcomes = await asyncio.gather(
        *(
            confirm(client, person, str(offers[row.id].id))
            for person, row in zip(holders, rows, strict=False)
        ),
        *(sweep() for _ in range(3)),
    )

    confirms, sweeps = list(outcomes[:10]), outcomes[10:]
    _no_server_errors(confirms)
    assert set(_codes(confirms)) <= {201, "hold_expired"}
    booked = sum(r.status_code == 201 for r in confirms)
    assert sum(sweeps) == 10 - booked
    after = await entries(app)
    assert [row.status for row in after[:10]].count(WaitlistStatus.BOOKED) == booked
    assert [row.status for row in after[:10]].count(WaitlistStatus.EXPIRED) == 10 - booked
    # Each expired offer's ticket went to one of the next in line, in order.
    assert [row.status for row in after[10:]] == [WaitlistStatus.OFFERED] * (10 - booked) + [
        WaitlistStatus.WAITING
    ] * booked
    assert await line_figures(client, scene.event_id) == [(booked, 10 - booked, booked, 0)]
    await assert_ledger_consistent(app)


async def _count(app: FastAPI, status: WaitlistStatus) -> int:
    async with app.state.database.reader() as session:
        query = select(func.count()).select_from(WaitlistEntry).where(WaitlistEntry.status == status)
        return int(await session.scalar(query) or 0)


async def _wait_for(app: FastAPI, status: WaitlistStatus, count: int) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while await _count(app, status) != count:
        assert time.monotonic() < deadline, f"never {count} entries {status.value}"
        await asyncio.sleep(POLL_SECONDS)


async def _no_active_hold_due(app: FastAPI) -> bool:
    async with app.state.database.reader() as session:
        due = await session.scalar(
            select(func.count())
            .select_from(Hold)
            .where(Hold.status == HoldStatus.ACTIVE, Hold.expires_at <= datetime.now(UTC))
        )
    return not due


@pytest.mark.slow
async def test_two_server_processes_take_cancellations_and_sweep_expiring_offers_at_once(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    scene = await sold_out(client, capacity=20)
    await _line(client, scene, 50)
    settings = app.state.settings
    served = {
        "secret_key": settings.secret_key.get_secret_value(),
        "rate_limits_enabled": "false",
        "hold_sweep_seconds": "0.01",
    }
    with (
        boxoffice_serve(database_url, tmp_path / "first", **served) as first,
        boxoffice_serve(database_url, tmp_path / "second", **served) as second,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            # Twenty cancellations, half to each process, all at once.
            responses = await asyncio.gather(
                *(
                    http.delete(
                        f"{(first, second)[index % 2].base}/api/v1/bookings/{booking['id']}",
                        headers=bearer(buyer.access_token),
                    )
                    for index, (buyer, booking) in enumerate(zip(scene.buyers, scene.bookings, strict=True))
                )
            )
            _no_server_errors(list(responses))
            assert _codes(list(responses)) == {200: 20}
            await _assert_offers_follow_the_line(app, offered=20)

            # Every offer runs out: both processes' workers sweep them, each ticket goes on once.
            async with app.state.database.unit_of_work() as session:
                await session.execute(
                    update(Hold)
                    .where(Hold.status == HoldStatus.ACTIVE)
                    .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
                )
            await _wait_for(app, WaitlistStatus.EXPIRED, 20)
            await _wait_for(app, WaitlistStatus.OFFERED, 20)
            assert await _no_active_hold_due(app)

    await _assert_offers_follow_the_line(app, offered=20, expired=20)
    assert await line_figures(client, scene.event_id) == [(0, 20, 10, 0)]


async def test_joins_racing_cancellations_never_leave_a_free_ticket_while_anyone_waits(
    app: FastAPI, client: AsyncClient
) -> None:
    """No worker runs here: whatever the order, a join and a return of the same ticket type see each
    other (the ticket type's row), so a ticket is either offered or on sale with nobody waiting."""
    scene = await sold_out(client, capacity=10)
    people = await many_accounts(client, 20)

    outcomes = await asyncio.gather(
        *(
            cancel_booking(client, b, booking["id"])
            for b, booking in zip(scene.buyers, scene.bookings, strict=True)
        ),
        *(
            client.post(f"/api/v1/events/{scene.event_id}/waitlist", json={}, headers=p.headers)
            for p in people
        ),
    )

    cancellations, joins = list(outcomes[:10]), list(outcomes[10:])
    _no_server_errors([*cancellations, *joins])
    assert _codes(cancellations) == {200: 10}
    assert set(_codes(joins)) <= {201, "tickets_available"}
    [(sold, held, waiting, available)] = await line_figures(client, scene.event_id)
    rows = await entries(app)
    assert len(rows) == _codes(joins)[201]
    assert sold == 0
    assert held == sum(row.status is WaitlistStatus.OFFERED for row in rows)
    assert waiting == sum(row.status is WaitlistStatus.WAITING for row in rows)
    # Either everything returned was offered, or nobody is left waiting.
    assert waiting == 0 or held == 10
    assert available == (10 - held if waiting == 0 else 0)
    await _assert_offers_follow_the_line(app, offered=held)
