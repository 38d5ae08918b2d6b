"""Waiting-list emails, each received once by a real SMTP server: joined (with the place in line),
the offer (with its deadline in the event's time zone and a link from PUBLIC_URL), the offer
expired, booked from the waiting list, and the line closed by the event's cancellation."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from boxoffice.core.config import Settings
from boxoffice.models import Hold
from boxoffice.notifications.messages import local_time
from boxoffice.notifications.worker import OutboxWorker
from boxoffice.worker import expire_holds_now
from tests.bookings.helpers import cancel_booking, confirm, many_accounts
from tests.factories import create_account
from tests.notifications.conftest import SmtpServer, body_html, body_text, mail_settings
from tests.waitlist.helpers import joined, my_entry, sold_out

PUBLIC_URL = "https://tickets.example.org/"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return mail_settings(database_url, tmp_path, smtp_server.port, public_url=PUBLIC_URL)


async def test_joining_emails_the_place_in_line(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    scene = await sold_out(client, capacity=1, title="Harbour Blues")
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id, quantity=2)
    await worker.drain()

    [message] = smtp_server.inbox.to(second.email)
    assert message["Subject"] == "You are number 2 in line for Harbour Blues"
    assert "number 2" in body_text(message)
    assert "2 x General admission" in body_text(message)
    assert len(smtp_server.inbox.to(first.email)) == 1


async def test_an_offer_emails_its_deadline_in_the_events_zone_and_a_link(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    scene = await sold_out(
        client,
        capacity=1,
        title="Harbour Blues",
        starts_at="2031-07-12T18:00:00Z",
        timezone="Europe/Berlin",
        waitlist_offer_hours=2,
    )
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    hold = (await my_entry(client, person))["hold"]
    await worker.drain()

    offers = [m for m in smtp_server.inbox.to(person.email) if "yours to book" in m["Subject"]]
    assert len(offers) == 1
    [message] = offers
    assert message["Subject"] == "Tickets for Harbour Blues are yours to book"
    text = body_text(message)
    link = f"https://tickets.example.org/holds/{hold['id']}"  # the web page that shows the offer
    assert link in text
    assert f'href="{link}"' in body_html(message)
    # The deadline: the hold's expiry, two hours on, as people in Berlin read it.
    expires_at = datetime.fromisoformat(hold["expires_at"].replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=2)
    assert f"Book them before {local_time(expires_at.isoformat(), 'Europe/Berlin')}" in text
    assert "(Europe/Berlin)" in text


async def test_an_expired_offer_emails_its_holder_and_the_next_in_line_gets_one(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    scene = await sold_out(client, capacity=1, title="Harbour Blues")
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(Hold).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert await expire_holds_now(app.state.database) == 1
    await worker.drain()

    subjects = [m["Subject"] for m in smtp_server.inbox.to(first.email)]
    assert subjects.count("Your offer of tickets for Harbour Blues has expired") == 1
    assert subjects.count("Tickets for Harbour Blues are yours to book") == 1
    expired = next(m for m in smtp_server.inbox.to(first.email) if "expired" in m["Subject"])
    assert "next person in line" in body_text(expired)
    offers = [m for m in smtp_server.inbox.to(second.email) if "yours to book" in m["Subject"]]
    assert len(offers) == 1


async def test_booking_from_the_waiting_list_is_confirmed_once_saying_so(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    scene = await sold_out(client, capacity=1, title="Harbour Blues")
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    hold = (await my_entry(client, person))["hold"]
    booking = (await confirm(client, person, hold["id"])).json()
    await worker.drain()
    await worker.drain()  # nothing more: each email once

    confirmations = [m for m in smtp_server.inbox.to(person.email) if m["Subject"].startswith("Your tickets")]
    assert [m["Subject"] for m in confirmations] == [
        f"Your tickets for Harbour Blues ({booking['code']}), from the waiting list"
    ]
    assert "offered to you from the waiting list" in body_text(confirmations[0])
    assert len(smtp_server.inbox.to(person.email)) == 3  # joined, offer, booked


async def test_cancelling_the_event_tells_everyone_in_line(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    scene = await sold_out(client, capacity=1, title="Harbour Blues")
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])  # first holds an offer
    await worker.drain()
    cancelled = await client.post(
        f"/api/v1/events/{scene.event_id}/cancel", json={"reason": "Flooded"}, headers=scene.organizer.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    await worker.drain()

    for person in (first, second):
        closed = [m for m in smtp_server.inbox.to(person.email) if "waiting list is closed" in m["Subject"]]
        assert len(closed) == 1
        assert "Flooded" in body_text(closed[0])
