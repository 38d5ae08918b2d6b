"""Builders shared by the booking tests, on top of tests.factories."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import update

from boxoffice.models import Hold
from tests.factories import Account, book, create_account, create_published_event, set_event_times

BOOKINGS = "/api/v1/bookings"
HOLDS = "/api/v1/holds"
CODE_PATTERN = r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$"
BOOKING_FIELDS = {
    "id",
    "code",
    "event_id",
    "ticket_type_id",
    "user_id",
    "quantity",
    "status",
    "holder_name",
    "holder_email",
    "unit_price",
    "total_price",
    "currency",
    "created_at",
    "updated_at",
    "cancelled_at",
    "cancellation_reason",
    "event",
}
EVENT_SUMMARY_FIELDS = {
    "id",
    "title",
    "starts_at",
    "ends_at",
    "starts_at_local",
    "ends_at_local",
    "timezone",
    "venue",
    "city",
    "status",
}


@dataclass
class Scene:
    """An organizer, one attendee and a published event of that organizer."""

    organizer: Account
    attendee: Account
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


async def published_scene(client: AsyncClient, **event_overrides: Any) -> Scene:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, **event_overrides)
    return Scene(organizer, attendee, event)


async def many_accounts(client: AsyncClient, count: int, role: str = "attendee") -> list[Account]:
    """Register and log in ``count`` accounts, a batch at a time."""
    accounts: list[Account] = []
    batch = 20
    for start in range(0, count, batch):
        size = min(batch, count - start)
        accounts += await asyncio.gather(*(create_account(client, role=role) for _ in range(size)))
    return accounts


async def booked(client: AsyncClient, account: Account, event_id: str, **overrides: Any) -> dict[str, Any]:
    """Book and insist it worked; returns the booking."""
    response = await book(client, account, event_id, **overrides)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking


def booking_url(booking_id: str) -> str:
    return f"{BOOKINGS}/{booking_id}"


async def read_booking(client: AsyncClient, account: Account, booking_id: str) -> Response:
    return await client.get(booking_url(booking_id), headers=account.headers)


async def change_booking(client: AsyncClient, account: Account, booking_id: str, **body: Any) -> Response:
    return await client.patch(booking_url(booking_id), json=body, headers=account.headers)


async def cancel_booking(client: AsyncClient, account: Account, booking_id: str) -> Response:
    return await client.delete(booking_url(booking_id), headers=account.headers)


async def my_bookings(client: AsyncClient, account: Account, **params: Any) -> Response:
    return await client.get(BOOKINGS, params=params, headers=account.headers)


async def guest_list(client: AsyncClient, account: Account, event_id: str, **params: Any) -> Response:
    return await client.get(f"/api/v1/events/{event_id}/bookings", params=params, headers=account.headers)


async def guest_list_csv(client: AsyncClient, account: Account, event_id: str, **params: Any) -> Response:
    return await client.get(
        f"/api/v1/events/{event_id}/bookings",
        params=params,
        headers={**account.headers, "Accept": "text/csv"},
    )


async def read_event(client: AsyncClient, event_id: str, account: Account | None = None) -> dict[str, Any]:
    response = await client.get(f"/api/v1/events/{event_id}", headers=account.headers if account else None)
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


async def tickets_sold(client: AsyncClient, event_id: str, account: Account | None = None) -> int:
    return int((await read_event(client, event_id, account))["tickets_sold"])


async def start_event(app: FastAPI, event_id: str) -> None:
    """Move the event's start an hour into the past: it has started."""
    await set_event_times(app, event_id, starts_at=datetime.now(UTC) - timedelta(hours=1))


HOLD_FIELDS = {
    "id",
    "event_id",
    "ticket_type_id",
    "quantity",
    "status",
    "expires_at",
    "booking_id",
    "created_at",
}


async def hold(client: AsyncClient, account: Account, event_id: str, **body: Any) -> Response:
    return await client.post(HOLDS, json={"event_id": event_id, **body}, headers=account.headers)


async def held(client: AsyncClient, account: Account, event_id: str, **body: Any) -> dict[str, Any]:
    """Hold and insist it worked; returns the hold."""
    response = await hold(client, account, event_id, **body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def hold_url(hold_id: str, action: str = "") -> str:
    return f"{HOLDS}/{hold_id}" + (f"/{action}" if action else "")


async def confirm(
    client: AsyncClient, account: Account, hold_id: str, key: str | None = None, **body: Any
) -> Response:
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(hold_url(hold_id, "confirm"), json=body, headers=headers)


async def run_out(app: FastAPI, hold_id: str, ago: timedelta = timedelta(seconds=1)) -> None:
    """Make a hold's time run out, behind the API's back (as if its minutes had passed)."""
    async with app.state.database.unit_of_work() as session:
        await session.execute(
            update(Hold).where(Hold.id == uuid.UUID(hold_id)).values(expires_at=datetime.now(UTC) - ago)
        )


async def ticket_type_figures(client: AsyncClient, event_id: str) -> list[tuple[int, int, int]]:
    """(sold, held, available) of each of the event's ticket types, as the public sees them."""
    return [
        (t["sold"], t["held"], t["available"]) for t in (await read_event(client, event_id))["ticket_types"]
    ]
