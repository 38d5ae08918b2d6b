"""Delivery under failure: SMTP down, a worker killed mid-batch, workers racing, shutdown."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select

from boxoffice.core.db import create_database
from boxoffice.models import OutboxMessage, OutboxStatus, User
from boxoffice.notifications import outbox
from boxoffice.notifications.worker import OutboxWorker, create_worker
from tests.factories import Account, book, create_account, create_published_event
from tests.notifications.conftest import SmtpServer, body_text, eventually, mail_settings

WORKER_START_TIMEOUT_SECONDS = 60


async def _bookings(client: AsyncClient, count: int) -> list[dict[str, Any]]:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "General", "price": "1.00", "capacity": 1000}]
    )
    attendees: list[Account] = list(await asyncio.gather(*(create_account(client) for _ in range(count))))
    responses = [await book(client, attendee, event["id"]) for attendee in attendees]
    assert all(r.status_code == 201 for r in responses)
    return [r.json() for r in responses]


def _codes_received(smtp: SmtpServer) -> Counter[str]:
    return Counter(m["Subject"].rsplit("(", 1)[1].rstrip(")") for m in smtp.inbox.messages)


async def _statuses(app: FastAPI) -> Counter[str]:
    async with app.state.database.reader() as session:
        rows = (
            await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        ).all()
    return Counter({status.value: count for status, count in rows})


async def test_while_smtp_is_down_messages_wait_and_then_arrive_once_each(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    bookings = await _bookings(client, 3)
    smtp_server.stop()

    assert await worker.process_batch() == 3
    await asyncio.sleep(0.05)
    assert await worker.process_batch() == 3

    async with app.state.database.reader() as session:
        waiting = (await session.scalars(select(OutboxMessage))).all()
    assert {m.status for m in waiting} == {OutboxStatus.PENDING}
    assert {m.attempts for m in waiting} == {2}
    assert all(m.last_error for m in waiting)
    assert (await client.get("/readyz")).status_code == 200  # slow email is not an outage

    smtp_server.start()
    await asyncio.sleep(0.05)
    assert await worker.drain() == 3

    assert _codes_received(smtp_server) == Counter({b["code"]: 1 for b in bookings})
    assert await _statuses(app) == Counter({"sent": 3})
    assert await worker.drain() == 0


async def test_a_message_that_keeps_failing_is_marked_dead(
    app: FastAPI, client: AsyncClient, smtp_server: SmtpServer, database_url: str, tmp_path: Path
) -> None:
    await _bookings(client, 1)
    smtp_server.stop()
    settings = mail_settings(database_url, tmp_path, smtp_server.port, outbox_max_attempts=3)
    worker = create_worker(app.state.database, settings)

    for _ in range(5):
        await worker.process_batch()
        await asyncio.sleep(0.05)

    async with app.state.database.reader() as session:
        message = (await session.scalars(select(OutboxMessage))).one()
    assert message.status is OutboxStatus.DEAD
    assert message.attempts == 3
    metrics = (await client.get("/metrics")).text
    assert "boxoffice_outbox_dead_total" in metrics


async def test_two_workers_send_five_hundred_messages_exactly_once(
    app: FastAPI, settings: Any, smtp_server: SmtpServer
) -> None:
    async with app.state.database.unit_of_work() as session:
        user = User(
            email="many@example.com", password_hash="x", full_name="Many", role="attendee", is_active=True
        )
        session.add(user)
        await session.flush()
        for number in range(500):
            outbox.password_reset(session, user, f"token-{number:03d}", 60)

    databases = [create_database(settings), create_database(settings)]
    workers = [create_worker(database, settings) for database in databases]
    try:
        handled = await asyncio.gather(*(w.drain() for w in workers))
    finally:
        for database in databases:
            await database.dispose()

    assert sum(handled) == 500
    tokens = Counter(
        line.strip()
        for m in smtp_server.inbox.messages
        for line in body_text(m).splitlines()
        if "token-" in line
    )
    assert len(tokens) == 500
    assert set(tokens.values()) == {1}
    assert await _statuses(app) == Counter({"sent": 500})


async def test_a_worker_killed_mid_batch_loses_nothing(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    slow_smtp = SmtpServer(delay=0.2)
    slow_smtp.start()
    try:
        bookings = await _bookings(client, 12)
        env = {
            **os.environ,
            "BOXOFFICE_DATABASE_URL": database_url,
            "BOXOFFICE_SECRET_KEY_FILE": str(tmp_path / "secret"),
            "BOXOFFICE_EMAIL_BACKEND": "smtp",
            "BOXOFFICE_SMTP_HOST": "127.0.0.1",
            "BOXOFFICE_SMTP_PORT": str(slow_smtp.port),
            "BOXOFFICE_OUTBOX_LEASE_SECONDS": "1",
            "BOXOFFICE_WORKER_POLL_SECONDS": "0.1",
            "BOXOFFICE_LOG_LEVEL": "WARNING",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "boxoffice", "worker", env=env, cwd=tmp_path, stdout=subprocess.DEVNULL
        )
        try:
            await eventually(lambda: len(slow_smtp.inbox.messages) >= 3, WORKER_START_TIMEOUT_SECONDS)
        finally:
            process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(process.wait(), 30)
        delivered_before_kill = len(slow_smtp.inbox.messages)
        assert delivered_before_kill < 12, "the worker finished before it could be killed"

        await asyncio.sleep(1.2)  # the dead worker's lease runs out
        slow_smtp.inbox.delay = 0
        settings = mail_settings(database_url, tmp_path, slow_smtp.port)
        assert await create_worker(app.state.database, settings).drain() >= 12 - delivered_before_kill

        received = _codes_received(slow_smtp)
        assert set(received) == {b["code"] for b in bookings}, "a message was lost"
        assert sum(received.values()) <= 12 + 1, "more than the one in-flight message was sent twice"
        assert await _statuses(app) == Counter({"sent": 12})
    finally:
        slow_smtp.stop()


async def test_stopping_a_worker_releases_what_it_holds(
    app: FastAPI, client: AsyncClient, database_url: str, tmp_path: Path
) -> None:
    slow_smtp = SmtpServer(delay=0.2)
    slow_smtp.start()
    try:
        await _bookings(client, 6)
        settings = mail_settings(database_url, tmp_path, slow_smtp.port, outbox_lease_seconds=600)
        worker = create_worker(app.state.database, settings)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop))
        await eventually(lambda: bool(slow_smtp.inbox.messages))
        stop.set()
        await asyncio.wait_for(running, 10)

        async with app.state.database.reader() as session:
            held = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.claim_token.is_not(None))
            )
        assert held == 0
        sent_by_first = len(slow_smtp.inbox.messages)
        assert sent_by_first < 6
        # Released, not leased for ten minutes: another worker sends the rest at once.
        slow_smtp.inbox.delay = 0
        assert await create_worker(app.state.database, settings).drain() == 6 - sent_by_first
        assert len(slow_smtp.inbox.messages) == 6
    finally:
        slow_smtp.stop()
