"""A worker whose lease ran out mid-batch sends nothing another worker has taken over; a message in the
middle of a slow send stays its sender's; retries last hours; dead messages can be listed, inspected
and requeued."""

import asyncio
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from boxoffice.cli import app as cli
from boxoffice.core.config import Settings
from boxoffice.core.db import utcnow
from boxoffice.models import OutboxMessage, OutboxStatus, User
from boxoffice.notifications import outbox
from boxoffice.notifications.worker import OutboxWorker, create_worker, minimum_retry_span
from tests.notifications.conftest import Gate, SmtpServer, body_text, eventually, mail_settings

HOUR = 3600.0


async def _queue_resets(app: FastAPI, count: int) -> None:
    async with app.state.database.unit_of_work() as session:
        user = User(
            email="slow@example.com", password_hash="x", full_name="Slow", role="attendee", is_active=True
        )
        session.add(user)
        await session.flush()
        for number in range(count):
            outbox.password_reset(session, user, f"token-{number:03d}", 60)


async def _expire_leases(app: FastAPI) -> None:
    """What a slow mail server does to a batch: its lease runs out before the worker gets to the end."""
    await app.state.database.execute_alone(
        update(OutboxMessage).where(OutboxMessage.claim_token.is_not(None)).values(claimed_until=utcnow())
    )


def _tokens(smtp: SmtpServer) -> Counter[str]:
    return Counter(
        line.strip() for m in smtp.inbox.messages for line in body_text(m).splitlines() if "token-" in line
    )


async def test_a_worker_whose_lease_ran_out_does_not_send_what_another_worker_took_over(
    app: FastAPI, smtp_server: SmtpServer, worker: OutboxWorker
) -> None:
    await _queue_resets(app, 3)
    slow = worker
    batch = await slow._claim()
    assert len(batch) == 3
    await slow._deliver(batch[0])  # the first message goes out; the rest of the batch outlives the lease
    await _expire_leases(app)
    other = create_worker(app.state.database, app.state.settings)
    assert await other.drain() == 2
    for message in batch[1:]:
        await slow._deliver(message)

    tokens = _tokens(smtp_server)
    assert len(tokens) == 3
    assert set(tokens.values()) == {1}
    async with app.state.database.reader() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert statuses == [OutboxStatus.SENT] * 3


async def test_a_worker_renews_its_claim_per_message(
    app: FastAPI, smtp_server: SmtpServer, worker: OutboxWorker
) -> None:
    """A message about to be sent carries a fresh lease, so no other worker can claim it meanwhile."""
    await _queue_resets(app, 2)
    batch = await worker._claim()
    await _expire_leases(app)
    assert await worker._renew_claim(batch[0])
    other = create_worker(app.state.database, app.state.settings)
    claimed_by_other = await other._claim()
    assert [m.id for m in claimed_by_other] == [batch[1].id]


async def _lease_end(app: FastAPI) -> datetime:
    async with app.state.database.reader() as session:
        ends = (await session.scalars(select(OutboxMessage.claimed_until))).all()
    [end] = ends
    assert end is not None
    return end


async def test_a_message_whose_sending_outlasts_the_lease_is_sent_once(
    app: FastAPI, database_url: str, tmp_path: Path
) -> None:
    """The sender keeps renewing the lease of the message in hand while the mail server is slow to
    accept it, so no other worker takes it over and sends it a second time."""
    gated = SmtpServer()
    gate = gated.inbox = Gate()
    gated.start()
    try:
        settings = mail_settings(database_url, tmp_path, gated.port, outbox_lease_seconds=1.5)
        await _queue_resets(app, 1)
        sender = create_worker(app.state.database, settings)
        other = create_worker(app.state.database, settings)
        sending = asyncio.create_task(sender.process_batch())
        await eventually(lambda: gate.in_delivery == 1)
        lease_taken_before_the_send = await _lease_end(app)
        await eventually(lambda: utcnow() > lease_taken_before_the_send)  # that lease has run out

        assert await other._claim() == []
        gate.open()
        assert await sending == 1
        assert await other.drain() == 0
        assert len(gate.messages) == 1
        async with app.state.database.reader() as session:
            assert (await session.scalars(select(OutboxMessage.status))).all() == [OutboxStatus.SENT]
    finally:
        gated.stop()


def test_default_retries_last_for_hours() -> None:
    """A ten-minute SMTP outage (or a night-long one) kills no email at the default settings."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert minimum_retry_span(settings) >= 10 * HOUR


async def _run(*args: str) -> Result:
    """The command, in a thread of its own (it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def _invoke(*args: str) -> str:
    result = await _run(*args)
    assert result.exit_code == 0, result.output
    return result.output


async def test_dead_messages_can_be_listed_shown_and_requeued(
    app: FastAPI, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BOXOFFICE_SECRET_KEY_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("BOXOFFICE_LOG_LEVEL", "WARNING")
    await _queue_resets(app, 3)
    async with app.state.database.unit_of_work() as session:
        ids = (await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.payload))).all()
    await app.state.database.execute_alone(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids[:2]))
        .values(status=OutboxStatus.DEAD, attempts=30, last_error="SMTPConnectError: refused")
    )

    listed = await _invoke("outbox", "list", "--status", "dead")
    assert {line.split()[0] for line in listed.splitlines()} == {str(i) for i in ids[:2]}
    shown = json.loads(await _invoke("outbox", "show", str(ids[0])))
    assert shown["status"] == "dead"
    assert shown["last_error"] == "SMTPConnectError: refused"
    assert shown["payload"]["token"].startswith("token-")

    assert "1 message requeued" in await _invoke("outbox", "requeue", str(ids[0]))
    refused = await _run("outbox", "requeue", str(ids[2]))  # pending, not dead
    assert refused.exit_code == 1
    assert "1 message requeued" in await _invoke("outbox", "requeue", "--all-dead")

    async with app.state.database.reader() as session:
        rows = (await session.execute(select(OutboxMessage.status, OutboxMessage.attempts))).all()
    assert sorted(rows) == [(OutboxStatus.PENDING, 0)] * 3
