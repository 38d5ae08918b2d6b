"""The default ``console`` email backend logs each message instead of sending it, and counts it as sent."""

from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from structlog.testing import capture_logs

from boxoffice.core.config import EmailBackend, Settings
from boxoffice.models import OutboxMessage, OutboxStatus
from boxoffice.notifications.worker import OutboxWorker
from tests.conftest import make_settings
from tests.factories import book, create_account, create_published_event


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test app with the default mail backend (no SMTP server at all), logging at INFO."""
    return make_settings(database_url, tmp_path, log_level="INFO")


async def outbox_statuses(app: FastAPI) -> list[OutboxStatus]:
    async with app.state.database.reader() as session:
        return list((await session.scalars(select(OutboxMessage.status))).all())


async def test_the_default_email_backend_is_the_console(settings: Settings) -> None:
    assert settings.email_backend is EmailBackend.CONSOLE


async def test_draining_with_the_console_backend_marks_every_message_sent(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking = (await book(client, attendee, event["id"], quantity=2)).json()
    await client.patch(f"/api/v1/bookings/{booking['id']}", json={"quantity": 3}, headers=attendee.headers)
    await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)

    assert await worker.drain() == 3

    assert await outbox_statuses(app) == [OutboxStatus.SENT] * 3
    assert await worker.drain() == 0


async def test_the_console_backend_prints_each_email_as_a_person_reads_it(
    client: AsyncClient, worker: OutboxWorker, capsys: pytest.CaptureFixture[str]
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, title="Harbour Blues")
    booking = (await book(client, attendee, event["id"])).json()

    with capture_logs() as logs:
        assert await worker.drain() == 1

    [entry] = [entry for entry in logs if entry["event"] == "email"]
    assert entry["to"] == attendee.email
    assert entry["subject"] == f"Your tickets for Harbour Blues ({booking['code']})"
    assert entry["attachments"] == ["event.ics"]
    assert "body" not in entry
    printed = capsys.readouterr().out
    assert f"----- email to {attendee.email} -----\n" in printed
    assert f"Subject: Your tickets for Harbour Blues ({booking['code']})\n" in printed
    assert "Attachments: event.ics\n" in printed
    assert booking["code"] in printed
    assert "\\n" not in printed  # real line breaks, not JSON's escaped ones
    assert printed.count("\n") > 10


async def test_a_password_reset_email_goes_through_the_console_backend_too(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, capsys: pytest.CaptureFixture[str]
) -> None:
    account = await create_account(client)
    await client.post("/api/v1/auth/password/forgot", json={"email": account.email})

    with capture_logs() as logs:
        assert await worker.drain() == 1

    [entry] = [entry for entry in logs if entry["event"] == "email"]
    assert entry["to"] == account.email
    assert "/password/reset?token=" in capsys.readouterr().out
    assert await outbox_statuses(app) == [OutboxStatus.SENT]
