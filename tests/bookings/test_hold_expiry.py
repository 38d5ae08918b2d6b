"""When a hold's time runs out, its tickets go back on sale within the documented bound, exactly once
(docs/architecture.md, "Hold expiry"):

- a sale that needs them never waits: the booking path expires due holds in its own transaction;
- what the catalogue shows catches up within one sweep interval (``HOLD_SWEEP_SECONDS``) plus one
  sweep, and one sweep expires every hold that is due, however many;
- any number of processes may sweep at once.
"""

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from boxoffice.app import create_app
from boxoffice.models import Hold, HoldStatus, TicketType
from boxoffice.worker import expire_holds_now
from tests.bookings.helpers import held, hold, many_accounts, published_scene, run_out, ticket_type_figures
from tests.conftest import make_settings
from tests.factories import assert_ledger_consistent, book, create_account
from tests.processes import boxoffice_serve

POLL_SECONDS = 0.05
PATIENCE_SECONDS = 60


async def test_a_sale_takes_the_tickets_of_a_run_out_hold_without_waiting_for_any_sweep(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=2)
    mine = await held(client, scene.attendee, scene.event_id, quantity=2)
    await run_out(app, mine["id"])
    # No worker runs in this app: until a sweep, the catalogue still counts the tickets as held ...
    assert await ticket_type_figures(client, scene.event_id) == [(0, 2, 0)]
    # ... but a sale that needs them expires the hold itself, in its own transaction.
    buyer = await create_account(client)
    bought = await book(client, buyer, scene.event_id, quantity=2)
    assert bought.status_code == 201, bought.text
    assert await ticket_type_figures(client, scene.event_id) == [(2, 0, 0)]
    # The same for a hold.
    other = await published_scene(client, capacity=1)
    theirs = await held(client, other.attendee, other.event_id)
    await run_out(app, theirs["id"])
    assert (await hold(client, await create_account(client), other.event_id)).status_code == 201
    assert await ticket_type_figures(client, other.event_id) == [(0, 1, 0)]
    await assert_ledger_consistent(app)


async def test_one_sweep_expires_every_due_hold_and_a_second_finds_nothing(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=20, max_tickets_per_booking=2)
    holders = await many_accounts(client, 7)
    holds = [await held(client, holder, scene.event_id, quantity=2) for holder in holders]
    keeper = await held(client, scene.attendee, scene.event_id)  # not due: stays
    for h in holds:
        await run_out(app, h["id"])

    # Batches of three: the sweep goes on until nothing is due, in one call.
    assert await expire_holds_now(app.state.database, batch=3) == 14
    assert await ticket_type_figures(client, scene.event_id) == [(0, 1, 19)]
    assert await expire_holds_now(app.state.database, batch=3) == 0
    assert await ticket_type_figures(client, scene.event_id) == [(0, 1, 19)]
    read = await client.get(f"/api/v1/holds/{keeper['id']}", headers=scene.attendee.headers)
    assert read.json()["status"] == "active"
    await assert_ledger_consistent(app)


async def _held_tickets(app: FastAPI) -> int:
    async with app.state.database.reader() as session:
        return int(await session.scalar(select(func.coalesce(func.sum(TicketType.held), 0))) or 0)


async def _wait_until_nothing_is_held(app: FastAPI) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while await _held_tickets(app):
        assert time.monotonic() < deadline, "the worker never expired the hold"
        await asyncio.sleep(POLL_SECONDS)


async def test_the_worker_returns_a_run_out_holds_tickets_with_no_sale_to_prompt_it(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    scene = await published_scene(client, capacity=3)
    mine = await held(client, scene.attendee, scene.event_id, quantity=3)
    working = create_app(make_settings(database_url, tmp_path, run_worker=True, hold_sweep_seconds=0.05))
    async with working.router.lifespan_context(working):
        await run_out(app, mine["id"])
        await _wait_until_nothing_is_held(app)
    assert await ticket_type_figures(client, scene.event_id) == [(0, 0, 3)]
    read = await client.get(f"/api/v1/holds/{mine['id']}", headers=scene.attendee.headers)
    assert read.json()["status"] == "expired"
    await assert_ledger_consistent(app)


def _tickets_expired_by(output: str) -> int:
    total = 0
    for line in output.splitlines():
        if line.startswith("{") and (entry := json.loads(line)).get("event") == "holds_expired":
            total += int(entry["tickets"])
    return total


@pytest.mark.slow
async def test_two_server_processes_sweeping_at_once_return_each_hold_once(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    scene = await published_scene(client, capacity=200, max_tickets_per_booking=3)
    holders = await many_accounts(client, 60)
    for index, holder in enumerate(holders):
        await held(client, holder, scene.event_id, quantity=1 + index % 3)
    total = await _held_tickets(app)
    assert total == 120

    sweeping = {"log_level": "INFO", "log_format": "json", "hold_sweep_seconds": "0.01"}
    with (
        boxoffice_serve(database_url, tmp_path / "first", **sweeping) as first,
        boxoffice_serve(database_url, tmp_path / "second", **sweeping) as second,
    ):
        async with app.state.database.unit_of_work() as session:  # every hold runs out at once
            await session.execute(
                update(Hold).where(Hold.status == HoldStatus.ACTIVE).values(expires_at=datetime.now(UTC))
            )
        await _wait_until_nothing_is_held(app)

    assert _tickets_expired_by(first.output) + _tickets_expired_by(second.output) == total
    assert await ticket_type_figures(client, scene.event_id) == [(0, 0, 200)]
    await assert_ledger_consistent(app)
