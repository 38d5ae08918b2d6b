"""Reads outside a unit of work (``Database.read_rows``) and how sessions and connections are given back."""

import asyncio
import uuid
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import bindparam, select, text

from boxoffice.app import create_app
from boxoffice.core.db import Database
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import Conflict
from boxoffice.models import Event, TicketType
from tests.conftest import BACKENDS, make_settings
from tests.factories import assert_problem, create_account, create_published_event, in_days

_EVENT_AND_TICKET_TYPES = (
    select(
        Event.id,
        Event.organizer_id,
        Event.title,
        Event.description,
        Event.address,
        Event.starts_at,
        Event.ends_at,
        Event.max_tickets_per_booking,
        Event.status,
        TicketType.id,
        TicketType.price,
        TicketType.sold,
    )
    .join(TicketType, TicketType.event_id == Event.id)
    .where(Event.id == bindparam("event_id"))
    .order_by(TicketType.position)
)


def _pools_in_use(database: Database) -> int:
    engines = {database.engine, database.read_engine}
    return sum(engine.sync_engine.pool.checkedout() for engine in engines)  # type: ignore[attr-defined]


async def test_read_rows_gives_the_values_sqlalchemy_gives(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client,
        organizer,
        description="Ünïcode — and 'quotes'",
        starts_at="2031-07-14T21:00:00.123456+02:00",
        ticket_types=[
            {"name": "Standing", "price": "12.50", "capacity": 10},
            {"name": "Free", "price": 0, "capacity": 5},
        ],
    )
    database: Database = app.state.database
    values = {"event_id": uuid.UUID(event["id"])}

    rows = await database.read_rows(_EVENT_AND_TICKET_TYPES, values)
    async with database.reader() as session:
        expected = (await session.execute(_EVENT_AND_TICKET_TYPES, values)).all()

    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    first = rows[0]
    assert first[3] == "Ünïcode — and 'quotes'"
    assert first[4] is None
    assert first[6] is None
    assert first[5].utcoffset().total_seconds() == 0
    assert first[5].astimezone(UTC).isoformat() == "2031-07-14T19:00:00.123456+00:00"
    assert [row[10] for row in rows] == [Decimal("12.50"), Decimal("0.00")]


async def test_read_rows_finds_nothing_for_an_unknown_value(app: FastAPI) -> None:
    database: Database = app.state.database
    assert list(await database.read_rows(_EVENT_AND_TICKET_TYPES, {"event_id": uuid.uuid4()})) == []


async def test_a_read_gives_its_connection_back_even_when_it_fails(app: FastAPI) -> None:
    database: Database = app.state.database
    await database.read_rows(select(text("1")), {})
    assert _pools_in_use(database) == 0
    with pytest.raises(Exception, match=r"(?i)no such table|does not exist|doesn.t exist"):
        await database.read_rows(select(text("* FROM no_such_table")), {})
    assert _pools_in_use(database) == 0
    assert list(await database.read_rows(select(text("2")), {})) == [(2,)]


@pytest.mark.parametrize("outcome", ["commits", "conflicts", "fails"])
async def test_a_request_gives_its_connections_back_however_it_ends(app: FastAPI, outcome: str) -> None:
    @app.post("/uses-the-database")
    async def uses_the_database(session: SessionDep) -> dict[str, Any]:
        await session.execute(text("SELECT 1"))
        if outcome == "conflicts":
            raise Conflict("no")
        if outcome == "fails":
            raise RuntimeError("boom")
        return {}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        response = await http.post("/uses-the-database")
    expected = {"commits": 200, "conflicts": 409, "fails": 500}[outcome]
    assert response.status_code == expected
    assert _pools_in_use(app.state.database) == 0


async def test_catalogue_reads_give_their_connections_back(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, starts_at=in_days(3))
    for path in ("/api/v1/events", f"/api/v1/events/{event['id']}", "/api/v1/events?q=jazz&offset=40"):
        assert (await client.get(path)).status_code == 200
    assert_problem(await client.get(f"/api/v1/events/{uuid.uuid4()}"), 404, "not_found")
    assert _pools_in_use(app.state.database) == 0


def _client_for(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


async def test_catalogue_reads_beyond_the_limit_wait_for_a_place(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, catalogue_read_concurrency=1))
    async with app.router.lifespan_context(app), _client_for(app) as http:
        gate = app.state.database.read_rows_gate
        async with gate:  # another read holds the only place
            waiting = asyncio.create_task(http.get("/api/v1/events"))
            await asyncio.sleep(0.2)
            assert not waiting.done()
        response = await waiting
    assert response.status_code == 200


async def test_a_read_in_a_session_never_waits_at_the_catalogue_gate(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(make_settings(database_url, tmp_path, catalogue_read_concurrency=1))
    async with app.router.lifespan_context(app), _client_for(app) as http:
        organizer = await create_account(http, role="organizer")
        event = await create_published_event(http, organizer)
        async with app.state.database.read_rows_gate:  # every place is taken
            own = await asyncio.wait_for(http.get("/api/v1/organizer/events", headers=organizer.headers), 10)
            read = await asyncio.wait_for(
                http.get(f"/api/v1/events/{event['id']}", headers=organizer.headers), 10
            )
    assert own.json()["total"] == 1
    assert read.json()["id"] == event["id"]


# Dropping a server's connections from outside is a PostgreSQL scenario (SQLite has no server): the
# test runs on PostgreSQL only, which CI always provides.
@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                "postgresql" not in BACKENDS,
                reason="needs PostgreSQL: set BOXOFFICE_TEST_POSTGRES_URL "
                "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres; CI sets it)",
            ),
        )
    ],
    indirect=True,
    scope="session",
)
async def test_reads_recover_when_the_server_drops_their_connections(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    database: Database = app.state.database
    assert (await client.get(f"/api/v1/events/{event['id']}")).status_code == 200
    await _terminate_other_backends(database)

    statuses = [(await client.get(f"/api/v1/events/{event['id']}")).status_code for _ in range(3)]
    assert statuses[-2:] == [200, 200]
    assert _pools_in_use(database) == 0


async def _terminate_other_backends(database: Database) -> None:
    """What a restarted or failed-over server does to the pool's connections."""
    url = database.engine.url.set(drivername="postgresql")
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
