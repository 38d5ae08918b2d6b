from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from boxoffice.models import OutboxMessage
from boxoffice.notifications.worker import OutboxWorker
from tests.factories import Account, assert_problem, book, create_account, create_published_event
from tests.notifications.conftest import SmtpServer, attachment, body_html, body_text


async def test_a_booking_confirmation_arrives_with_code_local_time_and_calendar(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(
        client,
        organizer,
        title="Jazz <Night>",
        starts_at="2031-07-12T18:00:00Z",
        ends_at="2031-07-12T21:00:00Z",
        timezone="Europe/Berlin",
        ticket_types=[{"name": "Standing", "price": "25", "capacity": 10}],
    )
    booking = (await book(client, attendee, event["id"], quantity=2, holder_email="guest@example.com")).json()

    assert await worker.drain() == 1

    [message] = smtp_server.inbox.messages
    assert message["To"] == "guest@example.com"
    assert message["Subject"] == f"Your tickets for Jazz <Night> ({booking['code']})"
    text = body_text(message)
    assert booking["code"] in text
    assert "Saturday 12 July 2031, 20:00 CEST (Europe/Berlin)" in text
    assert "2 x Standing" in text
    assert "50.00 EUR" in text
    assert "Jazz &lt;Night&gt;" in body_html(message)
    calendar = attachment(message, "event.ics")
    assert calendar is not None
    assert "DTSTART;TZID=Europe/Berlin:20310712T200000" in calendar
    assert "DTEND;TZID=Europe/Berlin:20310712T230000" in calendar
    assert "TZOFFSETTO:+0200" in calendar


async def outbox_rows(app: FastAPI) -> list[OutboxMessage]:
    async with app.state.database.reader() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def booked_and_confirmed(
    client: AsyncClient, worker: OutboxWorker, **booking: Any
) -> tuple[Account, Account, dict[str, Any], dict[str, Any]]:
    """An organizer, an attendee, a published event and the attendee's booking, its confirmation sent."""
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(
        client, organizer, title="Harbour Blues", starts_at="2031-07-12T18:00:00Z", timezone="Europe/Berlin"
    )
    response = await book(client, attendee, event["id"], **booking)
    assert response.status_code == 201, response.text
    assert await worker.drain() == 1
    return organizer, attendee, event, response.json()


async def test_a_booking_confirmation_goes_to_the_account_email_when_no_holder_email_is_given(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, title="Harbour Blues")
    booking = (await book(client, attendee, event["id"])).json()

    assert await worker.drain() == 1

    [message] = smtp_server.inbox.messages
    assert message["To"] == attendee.email
    assert message["Subject"] == f"Your tickets for Harbour Blues ({booking['code']})"
    assert booking["code"] in body_text(message)
    assert booking["code"] in body_html(message)


async def test_a_booking_confirmation_carries_a_calendar_file_naming_the_booking_and_the_place(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(
        client,
        organizer,
        title="Harbour Blues",
        venue="Quasimodo",
        address="Kantstr. 12",
        city="Berlin",
        starts_at="2031-01-10T19:00:00Z",
        timezone="Europe/Berlin",
    )
    booking = (await book(client, attendee, event["id"], quantity=3)).json()

    await worker.drain()

    [message] = smtp_server.inbox.to(attendee.email)
    calendar = attachment(message, "event.ics")
    assert calendar is not None
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY:Harbour Blues" in calendar
    assert "DTSTART;TZID=Europe/Berlin:20310110T200000" in calendar
    assert "TZOFFSETTO:+0100" in calendar
    assert "LOCATION:Quasimodo\\, Kantstr. 12\\, Berlin" in calendar
    assert f"DESCRIPTION:Booking {booking['code']}: 3 x General admission" in calendar
    assert "Friday 10 January 2031, 20:00 CET (Europe/Berlin)" in body_text(message)


async def test_a_booking_confirmation_escapes_user_text_in_html_and_keeps_it_in_plain_text(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(
        client, organizer, title="Rock & Roll", venue="<b>Club</b>", city="Berlin"
    )
    response = await book(client, attendee, event["id"], holder_name="<script>alert(1)</script>")
    assert response.status_code == 201, response.text

    await worker.drain()

    [message] = smtp_server.inbox.to(attendee.email)
    html = body_html(message)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Club&lt;/b&gt;" in html
    assert "Rock &amp; Roll" in html
    text = body_text(message)
    assert "Hello <script>alert(1)</script>," in text
    assert "<b>Club</b>" in text


async def test_a_quantity_change_emails_the_holder_the_new_quantity(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, attendee, _, booking = await booked_and_confirmed(client, worker, quantity=2)

    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"quantity": 3}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text
    assert await worker.drain() == 1

    [_, message] = smtp_server.inbox.to(attendee.email)
    assert message["Subject"] == f"Your booking {booking['code']} for Harbour Blues was changed"
    text = body_text(message)
    assert booking["code"] in text
    assert "2 → 3 tickets" in text
    assert "3 x General admission" in text
    assert "2 → 3 tickets" in body_html(message)


async def test_a_holder_email_change_sends_the_change_email_to_the_new_address(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, attendee, _, booking = await booked_and_confirmed(client, worker)

    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}",
        json={"holder_email": "new-holder@example.com"},
        headers=attendee.headers,
    )
    assert response.status_code == 200, response.text
    await worker.drain()

    [message] = smtp_server.inbox.to("new-holder@example.com")
    assert message["Subject"] == f"Your booking {booking['code']} for Harbour Blues was changed"
    assert booking["code"] in body_text(message)
    assert len(smtp_server.inbox.messages) == 2


async def test_a_holder_name_change_emails_the_holder(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, attendee, _, booking = await booked_and_confirmed(client, worker)

    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"holder_name": "Ada Lovelace"}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text
    await worker.drain()

    [_, message] = smtp_server.inbox.to(attendee.email)
    assert message["Subject"] == f"Your booking {booking['code']} for Harbour Blues was changed"
    text = body_text(message)
    assert "Hello Ada Lovelace," in text
    assert booking["code"] in text


async def test_a_booking_change_that_changes_nothing_sends_no_email(
    client: AsyncClient, worker: OutboxWorker
) -> None:
    _, attendee, _, booking = await booked_and_confirmed(client, worker, quantity=2)

    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"quantity": 2}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text
    assert await worker.drain() == 0


async def test_a_holder_cancelling_gets_an_email_saying_the_booking_is_cancelled(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, attendee, _, booking = await booked_and_confirmed(client, worker, quantity=2)

    response = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
    assert response.status_code == 200, response.text
    assert await worker.drain() == 1

    [_, message] = smtp_server.inbox.to(attendee.email)
    assert message["Subject"] == f"Your booking {booking['code']} for Harbour Blues is cancelled"
    text = body_text(message)
    assert f"your booking {booking['code']} for Harbour Blues" in text
    assert "is cancelled" in text
    assert "Saturday 12 July 2031, 20:00 CEST (Europe/Berlin)" in text
    assert "Its 2 ticket(s) are no longer valid." in text


async def test_an_organizer_cancelling_a_booking_emails_the_holder_not_the_organizer(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, attendee, _, booking = await booked_and_confirmed(
        client, worker, holder_email="guest@example.com"
    )

    response = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=organizer.headers)
    assert response.status_code == 200, response.text
    assert await worker.drain() == 1

    [_, message] = smtp_server.inbox.to("guest@example.com")
    assert message["Subject"] == f"Your booking {booking['code']} for Harbour Blues is cancelled"
    text = body_text(message)
    assert booking["code"] in text
    assert "is cancelled" in text
    assert "Cancelled by the organizer." in text
    assert smtp_server.inbox.to(organizer.email) == []
    assert smtp_server.inbox.to(attendee.email) == []


async def test_a_sold_out_booking_leaves_no_outbox_message_and_sends_no_email(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    first, second = await create_account(client), await create_account(client)
    event = await create_published_event(client, organizer, capacity=2)
    assert (await book(client, first, event["id"], quantity=2)).status_code == 201
    assert await worker.drain() == 1

    assert_problem(await book(client, second, event["id"]), 409, "sold_out")

    assert len(await outbox_rows(app)) == 1
    assert await worker.drain() == 0
    assert smtp_server.inbox.to(second.email) == []


async def test_a_second_booking_of_the_same_event_leaves_no_outbox_message_and_sends_no_email(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    _, attendee, event, _ = await booked_and_confirmed(client, worker)

    assert_problem(await book(client, attendee, event["id"]), 409, "already_booked")

    assert len(await outbox_rows(app)) == 1
    assert await worker.drain() == 0
    assert len(smtp_server.inbox.to(attendee.email)) == 1


async def test_a_booking_over_the_per_booking_limit_leaves_no_outbox_message_and_sends_no_email(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, max_tickets_per_booking=2)

    assert_problem(await book(client, attendee, event["id"], quantity=3), 422, "validation_error")

    assert await outbox_rows(app) == []
    assert await worker.drain() == 0
    assert smtp_server.inbox.messages == []


async def test_a_sold_out_quantity_change_leaves_no_outbox_message_and_sends_no_email(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=2)
    booking = (await book(client, attendee, event["id"], quantity=2)).json()
    assert await worker.drain() == 1

    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}",
        json={"quantity": 3, "holder_name": "Someone Else"},
        headers=attendee.headers,
    )

    assert_problem(response, 409, "sold_out")
    assert len(await outbox_rows(app)) == 1
    assert await worker.drain() == 0
    assert len(smtp_server.inbox.messages) == 1
