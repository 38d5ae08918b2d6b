"""Reminders before an event: one per confirmed booking, however many schedulers run."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from boxoffice.core.config import Settings
from boxoffice.core.db import create_database
from boxoffice.models import OutboxMessage, OutboxStatus
from boxoffice.notifications.outbox import MessageKind
from boxoffice.notifications.worker import OutboxWorker, create_worker
from tests.factories import Account, book, create_account, create_published_event
from tests.notifications.conftest import SmtpServer, body_text


def _hours_from_now(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


async def _event_with_holders(
    client: AsyncClient, hours_ahead: float, holders: int
) -> tuple[Account, dict[str, Any], list[tuple[Account, dict[str, Any]]]]:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client,
        organizer,
        starts_at=_hours_from_now(hours_ahead),
        timezone="America/New_York",
        ticket_types=[{"name": "Seat", "price": "5.00", "capacity": 100}],
    )
    booked = []
    for _ in range(holders):
        attendee = await create_account(client)
        response = await book(client, attendee, event["id"])
        assert response.status_code == 201
        booked.append((attendee, response.json()))
    return organizer, event, booked


async def _reminders(app: FastAPI) -> list[OutboxMessage]:
    async with app.state.database.reader() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_REMINDER.value)
                )
            ).all()
        )


async def test_each_holder_is_reminded_once_even_with_two_schedulers(
    app: FastAPI, client: AsyncClient, settings: Settings, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, _, booked = await _event_with_holders(client, hours_ahead=3, holders=3)
    cancelled_holder, cancelled_booking = booked.pop()
    await client.delete(f"/api/v1/bookings/{cancelled_booking['id']}", headers=cancelled_holder.headers)

    databases = [create_database(settings), create_database(settings)]
    try:
        schedulers = [create_worker(database, settings) for database in databases]
        await asyncio.gather(*(s.schedule() for s in schedulers))
        await asyncio.gather(*(s.schedule() for s in schedulers))
    finally:
        for database in databases:
            await database.dispose()

    reminders = await _reminders(app)
    assert sorted(m.recipient for m in reminders) == sorted(holder.email for holder, _ in booked)
    await worker.drain()
    for holder, booking in booked:
        [reminder] = [m for m in smtp_server.inbox.to(holder.email) if m["Subject"].startswith("Reminder")]
        assert booking["code"] in reminder["Subject"]
        assert "(America/New_York)" in body_text(reminder)
    assert not [
        m for m in smtp_server.inbox.to(cancelled_holder.email) if m["Subject"].startswith("Reminder")
    ]

    await worker.schedule()
    assert len(await _reminders(app)) == 2


async def test_an_event_beyond_the_lead_time_gets_no_reminder_yet(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker
) -> None:
    await _event_with_holders(client, hours_ahead=48, holders=2)
    await worker.schedule()
    assert await _reminders(app) == []


async def test_a_reminder_for_a_booking_cancelled_after_queueing_is_skipped(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, _, [(holder, booking)] = await _event_with_holders(client, hours_ahead=2, holders=1)
    await worker.schedule()
    await client.delete(f"/api/v1/bookings/{booking['id']}", headers=holder.headers)

    await worker.drain()

    [reminder] = await _reminders(app)
    assert reminder.status is OutboxStatus.SKIPPED
    assert not [m for m in smtp_server.inbox.to(holder.email) if m["Subject"].startswith("Reminder")]


async def test_a_reminder_for_an_event_cancelled_after_queueing_is_skipped(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, [(holder, _)] = await _event_with_holders(client, hours_ahead=2, holders=1)
    await worker.schedule()
    await client.post(
        f"/api/v1/events/{event['id']}/cancel", headers=organizer.headers, json={"reason": "Storm"}
    )

    await worker.drain()

    [reminder] = await _reminders(app)
    assert reminder.status is OutboxStatus.SKIPPED
    subjects = [m["Subject"] for m in smtp_server.inbox.to(holder.email)]
    assert not [s for s in subjects if s.startswith("Reminder")]
    assert any("is cancelled" in s for s in subjects)
