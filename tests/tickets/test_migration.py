"""Upgrading a database that already has events and bookings gives every event its signing key and
every confirmed booking its tickets, with codes the door and offline scanners accept."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from boxoffice.migrations import alembic_config, upgrade_to_head
from tests.bookings.helpers import booked, cancel_booking
from tests.conftest import make_settings
from tests.factories import create_account, create_published_event
from tests.tickets.helpers import check_in, checkin_keys, scanner_accepts, tickets_of


@pytest.fixture
def own_database_url(backend: str, empty_database_url: Any) -> str:
    """A database of this test's own, at head: the test migrates it down and up again."""
    url = str(empty_database_url(backend))
    upgrade_to_head(url)
    return url


async def test_existing_bookings_get_their_tickets_on_upgrade(own_database_url: str, tmp_path: Path) -> None:
    url = own_database_url
    app = create_app(make_settings(url, tmp_path))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client,
    ):
        organizer = await create_account(client, role="organizer")
        attendee = await create_account(client)
        event = await create_published_event(client, organizer)
        kept = await booked(client, attendee, event["id"], quantity=3)
        gone = await booked(client, await create_account(client), event["id"], quantity=2)
        await cancel_booking(client, organizer, gone["id"])
        await app.state.database.dispose()

        # As if the service had run before tickets existed: back to 0008, and up again.
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0008")
        await asyncio.to_thread(upgrade_to_head, url)

        tickets = await tickets_of(client, attendee, kept["id"])
        assert [t["status"] for t in tickets] == ["valid"] * 3
        assert await tickets_of(client, organizer, gone["id"]) == []
        keys = (await checkin_keys(client, organizer.access_token, event["id"])).json()
        assert all(scanner_accepts(keys["public_key"], event["id"], t["code"]) for t in tickets)
        assert (
            await check_in(client, organizer.access_token, event["id"], tickets[0]["code"])
        ).status_code == 201
