from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from boxoffice.models import OutboxMessage
from boxoffice.notifications.worker import OutboxWorker
from tests.factories import Account, book, create_account, create_event, create_published_event
from tests.notifications.conftest import SmtpServer, body_html, body_text


async def outbox_rows(app: FastAPI) -> list[OutboxMessage]:
    async with app.state.database.reader() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def event_with_holders(
    client: AsyncClient, worker: OutboxWorker, *, holders: int = 2, cancelled: int = 1, **event: Any
) -> tuple[Account, dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """A published event in Berlin with confirmed and cancelled bookings, every email so far sent.

    Returns the organizer, the event, the confirmed bookings and the cancelled ones."""
    organizer = await create_account(client, role="organizer")
    details = {
        "title": "Harbour Blues",
        "venue": "Blue Note",
        "starts_at": "2031-07-12T18:00:00Z",
        "timezone": "Europe/Berlin",
        **event,
    }
    created = await create_published_event(client, organizer, **details)
    confirmed: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    for index in range(holders + cancelled):
        attendee = await create_account(client)
        response = await book(client, attendee, created["id"], holder_email=f"holder{index}@example.com")
        assert response.status_code == 201, response.text
        booking = response.json()
        if index < holders:
            confirmed.append(booking)
        else:
            cancel = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
            assert cancel.status_code == 200, cancel.text
            gone.append(booking)
    assert await worker.drain() == holders + 2 * cancelled
    return organizer, created, confirmed, gone


async def patch_event(
    client: AsyncClient, organizer: Account, event_id: str, **changes: Any
) -> dict[str, Any]:
    response = await client.patch(f"/api/v1/events/{event_id}", json=changes, headers=organizer.headers)
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


async def test_moving_a_published_event_emails_each_confirmed_holder_once_with_old_and_new_local_times(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker)
    before = len(smtp_server.inbox.messages)

    await patch_event(client, organizer, event["id"], starts_at="2031-07-13T19:30:00Z")

    assert await worker.drain() == 2
    assert len(smtp_server.inbox.messages) == before + 2
    for booking in confirmed:
        [*_, message] = smtp_server.inbox.to(booking["holder_email"])
        assert message["Subject"] == "Harbour Blues has changed: please check the new details"
        text = body_text(message)
        assert booking["code"] in text
        assert (
            "starts at: Saturday 12 July 2031, 20:00 CEST (Europe/Berlin)"
            " → Sunday 13 July 2031, 21:30 CEST (Europe/Berlin)"
        ) in text
        assert booking["code"] in body_html(message)


async def test_moving_a_published_event_sends_nothing_to_holders_who_cancelled(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, _, gone = await event_with_holders(client, worker)
    [cancelled] = gone
    already = len(smtp_server.inbox.to(cancelled["holder_email"]))

    await patch_event(client, organizer, event["id"], starts_at="2031-07-13T19:30:00Z")
    await worker.drain()

    assert len(smtp_server.inbox.to(cancelled["holder_email"])) == already


async def test_a_new_venue_is_emailed_to_holders_with_the_old_and_the_new_one(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker, cancelled=0)

    await patch_event(client, organizer, event["id"], venue="Quasimodo")

    assert await worker.drain() == 2
    for booking in confirmed:
        [_, message] = smtp_server.inbox.to(booking["holder_email"])
        text = body_text(message)
        assert "venue: Blue Note → Quasimodo" in text
        assert booking["code"] in text


async def test_a_new_address_is_emailed_to_holders_with_the_old_and_the_new_one(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(
        client, worker, holders=1, cancelled=0, address="Kantstr. 12"
    )

    await patch_event(client, organizer, event["id"], address="Oranienstr. 7")

    assert await worker.drain() == 1
    [_, message] = smtp_server.inbox.to(confirmed[0]["holder_email"])
    text = body_text(message)
    assert "address: Kantstr. 12 → Oranienstr. 7" in text
    assert confirmed[0]["code"] in text
    assert "address: Kantstr. 12 → Oranienstr. 7" in body_html(message)


async def test_changing_time_and_place_together_sends_one_email_per_holder_listing_both(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker, holders=1, cancelled=0)

    await patch_event(client, organizer, event["id"], starts_at="2031-07-13T19:30:00Z", venue="Quasimodo")

    assert await worker.drain() == 1
    [_, message] = smtp_server.inbox.to(confirmed[0]["holder_email"])
    text = body_text(message)
    assert "starts at: Saturday 12 July 2031, 20:00 CEST (Europe/Berlin)" in text
    assert "venue: Blue Note → Quasimodo" in text


async def test_a_new_end_time_is_emailed_to_holders_in_the_events_time_zone(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(
        client, worker, holders=1, cancelled=0, timezone="America/New_York", ends_at="2031-07-12T21:00:00Z"
    )

    await patch_event(client, organizer, event["id"], ends_at="2031-07-12T22:00:00Z")

    assert await worker.drain() == 1
    [_, message] = smtp_server.inbox.to(confirmed[0]["holder_email"])
    assert (
        "ends at: Saturday 12 July 2031, 17:00 EDT (America/New_York)"
        " → Saturday 12 July 2031, 18:00 EDT (America/New_York)"
    ) in body_text(message)


async def test_changing_only_title_and_description_of_a_published_event_sends_nothing(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker
) -> None:
    organizer, event, _, _ = await event_with_holders(client, worker)
    rows = len(await outbox_rows(app))

    await patch_event(client, organizer, event["id"], title="Harbour Blues II", description="Now longer.")

    assert len(await outbox_rows(app)) == rows
    assert await worker.drain() == 0


async def test_setting_a_venue_to_its_current_value_sends_nothing(
    client: AsyncClient, worker: OutboxWorker
) -> None:
    organizer, event, _, _ = await event_with_holders(client, worker)

    await patch_event(
        client, organizer, event["id"], venue="Blue Note", starts_at="2031-07-12T20:00:00+02:00"
    )

    assert await worker.drain() == 0


async def test_changing_time_and_place_of_a_draft_sends_nothing(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer, venue="Blue Note", starts_at="2031-07-12T18:00:00Z")

    await patch_event(
        client,
        organizer,
        draft["id"],
        venue="Quasimodo",
        address="Kantstr. 12",
        starts_at="2031-07-13T18:00:00Z",
    )

    assert await outbox_rows(app) == []
    assert await worker.drain() == 0
    assert smtp_server.inbox.messages == []


async def test_cancelling_an_event_emails_every_confirmed_holder_the_reason(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker)

    response = await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={"reason": "The band is stuck at sea."},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text

    assert await worker.drain() == 2
    for booking in confirmed:
        [_, message] = smtp_server.inbox.to(booking["holder_email"])
        assert message["Subject"] == "Harbour Blues is cancelled"
        text = body_text(message)
        assert booking["code"] in text
        assert "Harbour Blues (Saturday 12 July 2031, 20:00 CEST (Europe/Berlin)) is cancelled" in text
        assert "Reason given by the organizer: The band is stuck at sea." in text
        assert "The band is stuck at sea." in body_html(message)


async def test_cancelling_an_event_sends_nothing_to_holders_who_had_cancelled_already(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, _, gone = await event_with_holders(client, worker)
    [cancelled] = gone

    await client.post(
        f"/api/v1/events/{event['id']}/cancel", json={"reason": "Storm."}, headers=organizer.headers
    )
    await worker.drain()

    assert [m["Subject"] for m in smtp_server.inbox.to(cancelled["holder_email"])] == [
        f"Your tickets for Harbour Blues ({cancelled['code']})",
        f"Your booking {cancelled['code']} for Harbour Blues is cancelled",
    ]


async def test_an_event_cancellation_reason_is_escaped_in_html(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker, holders=1, cancelled=0)

    await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={"reason": "<img src=x onerror=alert(1)>"},
        headers=organizer.headers,
    )
    await worker.drain()

    [_, message] = smtp_server.inbox.to(confirmed[0]["holder_email"])
    html = body_html(message)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x onerror=alert(1)>" in body_text(message)


async def test_deleting_an_event_with_bookings_emails_every_confirmed_holder_that_it_is_cancelled(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    organizer, event, confirmed, _ = await event_with_holders(client, worker)

    response = await client.delete(f"/api/v1/events/{event['id']}", headers=organizer.headers)
    assert response.status_code == 204, response.text

    assert await worker.drain() == 2
    for booking in confirmed:
        [_, message] = smtp_server.inbox.to(booking["holder_email"])
        assert message["Subject"] == "Harbour Blues is cancelled"
        assert booking["code"] in body_text(message)
