from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import assert_ledger_consistent, book, create_account, create_published_event


async def test_an_attendee_books_changes_and_cancels(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "Standing", "price": "12.5", "capacity": 10}]
    )
    booked = await book(client, attendee, event["id"], quantity=2)
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["total_price"] == "25.00"
    assert booking["unit_price"] == "12.50"
    assert booking["event"]["title"] == event["title"]
    changed = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"quantity": 3}, headers=attendee.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["total_price"] == "37.50"
    read = (await client.get(f"/api/v1/events/{event['id']}")).json()
    assert read["tickets_sold"] == 3
    cancelled = await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert (await client.get(f"/api/v1/events/{event['id']}")).json()["tickets_sold"] == 0
    stats = await client.get(f"/api/v1/events/{event['id']}/stats", headers=organizer.headers)
    assert stats.json()["bookings_cancelled"] == 1
    csv = await client.get(
        f"/api/v1/events/{event['id']}/bookings", headers={**organizer.headers, "Accept": "text/csv"}
    )
    assert csv.status_code == 200
    assert csv.text.count("\n") == 2
    await assert_ledger_consistent(app)
