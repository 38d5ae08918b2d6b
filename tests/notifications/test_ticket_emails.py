"""The confirmation email carries the tickets (API.md, "Tickets and check-in"): each ticket's QR code
inline, a link to the tickets built from PUBLIC_URL, and no PDF; it stays small."""

import io
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
import zxingcpp
from fastapi import FastAPI
from httpx import AsyncClient
from PIL import Image

from boxoffice.core.config import Settings
from boxoffice.notifications.worker import OutboxWorker
from tests.bookings.helpers import change_booking
from tests.factories import book, create_account, create_published_event
from tests.notifications.conftest import SmtpServer, body_html, body_text, mail_settings
from tests.tickets.helpers import tickets_of

PUBLIC_URL = "https://tickets.example.org/"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return mail_settings(database_url, tmp_path, smtp_server.port, public_url=PUBLIC_URL)


def inline_images(message: EmailMessage) -> dict[str, bytes]:
    """The images sent alongside the HTML part, by Content-ID."""
    images: dict[str, bytes] = {}
    for part in message.walk():
        if part.get_content_type() == "image/png":
            assert part.get_content_disposition() == "inline"
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            images[str(part["Content-ID"]).strip("<>")] = payload
    return images


def read_qr(png: bytes) -> str:
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    text: str = barcode.text
    return text


async def test_the_confirmation_carries_each_tickets_qr_code_and_a_link_to_the_tickets(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, title="Harbour Blues")
    booking = (await book(client, attendee, event["id"], quantity=3)).json()
    tickets = await tickets_of(client, attendee, booking["id"])

    assert await worker.drain() == 1

    [message] = smtp_server.inbox.messages
    link = f"https://tickets.example.org/bookings/{booking['id']}/tickets"
    assert link in body_text(message)
    html = body_html(message)
    assert f'href="{link}"' in html
    referenced = re.findall(r'<img src="cid:([^"]+)"', html)
    images = inline_images(message)
    assert len(referenced) == 3
    assert set(referenced) == set(images)
    assert sorted(read_qr(png) for png in images.values()) == sorted(t["code"] for t in tickets)
    assert [part.get_filename() for part in message.iter_attachments()] == ["event.ics"]


async def test_a_confirmation_with_ten_tickets_stays_small(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, max_tickets_per_booking=10)
    await book(client, attendee, event["id"], quantity=10)

    assert await worker.drain() == 1

    [message] = smtp_server.inbox.messages
    assert len(inline_images(message)) == 10
    size = len(message.as_bytes())
    assert size < 25_000, f"{size} bytes"
    assert not any(part.get_content_type() == "application/pdf" for part in message.walk())


async def test_more_tickets_arrive_with_their_qr_codes_in_the_change_email(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking = (await book(client, attendee, event["id"], quantity=1)).json()
    await worker.drain()

    assert (await change_booking(client, attendee, booking["id"], quantity=3)).status_code == 200
    await change_booking(client, attendee, booking["id"], quantity=2)
    assert await worker.drain() == 2

    raised, lowered = smtp_server.inbox.messages[1:]
    tickets = await tickets_of(client, attendee, booking["id"])
    assert sorted(read_qr(png) for png in inline_images(raised).values()) == sorted(
        t["code"] for t in tickets[1:]
    )
    assert inline_images(lowered) == {}
    assert f"https://tickets.example.org/bookings/{booking['id']}/tickets" in body_text(lowered)
