"""No stored text can break a mail header: an event title with a line break written before titles
were single-line still gets its emails out."""

import uuid

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from boxoffice.models import Event
from boxoffice.notifications.worker import OutboxWorker
from tests.factories import book, create_account, create_published_event
from tests.notifications.conftest import SmtpServer


async def test_an_event_title_with_line_breaks_in_the_database_does_not_break_the_subject(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, title="Harbour Blues")
    await app.state.database.execute_alone(
        update(Event)
        .where(Event.id == uuid.UUID(event["id"]))
        .values(title="Harbour\r\nBcc: victim@example.com\u2028Blues\u0085")
    )
    assert (await book(client, attendee, event["id"])).status_code == 201

    await worker.drain()

    [message] = smtp_server.inbox.to(attendee.email)
    assert message["Subject"].startswith("Your tickets for Harbour  Bcc: victim@example.com Blues")
    assert message["Bcc"] is None
