"""Small builders for test scenarios, through the API wherever the API can do it."""

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update

from boxoffice.accounts import service as accounts_service
from boxoffice.core.security import Passwords
from boxoffice.models import (
    Booking,
    BookingStatus,
    Event,
    Hold,
    HoldStatus,
    Role,
    Ticket,
    TicketStatus,
    TicketType,
)

DEFAULT_PASSWORD = "s3cret-passw0rd"
_sequence = itertools.count(1)


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_sequence)}@example.com"


async def register(client: AsyncClient, **overrides: Any) -> Response:
    body = {
        "email": unique_email(),
        "password": DEFAULT_PASSWORD,
        "full_name": "Test Person",
        **overrides,
    }
    return await client.post("/api/v1/auth/register", json=body)


async def login(client: AsyncClient, email: str, password: str = DEFAULT_PASSWORD) -> Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def create_account(
    client: AsyncClient, role: str = "attendee", password: str = DEFAULT_PASSWORD
) -> Account:
    """Register through the API and log in."""
    registered = await register(client, role=role, password=password)
    assert registered.status_code == 201, registered.text
    user = registered.json()
    tokens = (await login(client, user["email"], password)).json()
    return Account(user["id"], user["email"], password, tokens["access_token"], tokens["refresh_token"])


async def create_admin(app: FastAPI, client: AsyncClient) -> Account:
    """Admins cannot register over HTTP; make one the way `boxoffice create-admin` does."""
    email = unique_email("admin")
    async with app.state.database.unit_of_work() as session:
        user = await accounts_service.create_user(
            session,
            Passwords(app.state.settings),
            email=email,
            password=DEFAULT_PASSWORD,
            full_name="Admin",
            role=Role.ADMIN,
        )
    tokens = (await login(client, email)).json()
    return Account(str(user.id), email, DEFAULT_PASSWORD, tokens["access_token"], tokens["refresh_token"])


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["detail"]
    return body


def in_days(days: float, hour: int = 20) -> str:
    """An RFC 3339 UTC timestamp ``days`` from now, at a fixed hour."""
    moment = datetime.now(UTC) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Spring Jazz Night",
        "venue": "Blue Note",
        "city": "Berlin",
        "starts_at": in_days(30),
        "capacity": 100,
    }
    body.update(overrides)
    if "ticket_types" in overrides:
        body.pop("capacity", None)
    return body


async def create_event(client: AsyncClient, organizer: Account, **overrides: Any) -> dict[str, Any]:
    """A draft event of ``organizer``, created through the API."""
    response = await client.post("/api/v1/events", json=event_body(**overrides), headers=organizer.headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


async def publish_event(client: AsyncClient, organizer: Account, event_id: str) -> dict[str, Any]:
    response = await client.post(f"/api/v1/events/{event_id}/publish", headers=organizer.headers)
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


async def create_published_event(client: AsyncClient, organizer: Account, **overrides: Any) -> dict[str, Any]:
    event = await create_event(client, organizer, **overrides)
    return await publish_event(client, organizer, event["id"])


async def book(client: AsyncClient, account: Account, event_id: str, **overrides: Any) -> Response:
    return await client.post(
        "/api/v1/bookings", json={"event_id": event_id, **overrides}, headers=account.headers
    )


async def set_event_times(app: FastAPI, event_id: str, **times: datetime) -> None:
    """Move an event's times behind the API's back (an event cannot be created in the past)."""
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(Event).where(Event.id == uuid.UUID(event_id)).values(**times))


async def assert_ledger_consistent(app: FastAPI) -> None:
    """For every ticket type: sold == the sum of its confirmed bookings' quantities, held == the sum
    of its active holds' quantities, and sold + held <= capacity. And every booking has as many valid
    tickets as its quantity while confirmed, none once cancelled."""
    await assert_tickets_match_bookings(app)
    async with app.state.database.reader() as session:
        confirmed = (
            select(Booking.ticket_type_id, func.coalesce(func.sum(Booking.quantity), 0).label("total"))
            .where(Booking.status == BookingStatus.CONFIRMED)
            .group_by(Booking.ticket_type_id)
            .subquery()
        )
        active = (
            select(Hold.ticket_type_id, func.coalesce(func.sum(Hold.quantity), 0).label("total"))
            .where(Hold.status == HoldStatus.ACTIVE)
            .group_by(Hold.ticket_type_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(
                    TicketType.id,
                    TicketType.sold,
                    TicketType.held,
                    TicketType.capacity,
                    confirmed.c.total,
                    active.c.total,
                )
                .outerjoin(confirmed, confirmed.c.ticket_type_id == TicketType.id)
                .outerjoin(active, active.c.ticket_type_id == TicketType.id)
            )
        ).all()
    for ticket_type_id, sold, held, capacity, booked, holding in rows:
        assert sold == (booked or 0), f"ticket type {ticket_type_id}: sold {sold} != confirmed {booked}"
        assert held == (holding or 0), f"ticket type {ticket_type_id}: held {held} != active holds {holding}"
        assert sold + held <= capacity


async def assert_tickets_match_bookings(app: FastAPI) -> None:
    """A confirmed booking has ``quantity`` valid tickets, numbered uniquely; a cancelled one has none."""
    async with app.state.database.reader() as session:
        valid = (
            select(Ticket.booking_id, func.count().label("valid"))
            .where(Ticket.status == TicketStatus.VALID)
            .group_by(Ticket.booking_id)
            .subquery()
        )
        rows = (
            await session.execute(
                select(Booking.id, Booking.status, Booking.quantity, valid.c.valid).outerjoin(
                    valid, valid.c.booking_id == Booking.id
                )
            )
        ).all()
    for booking_id, status, quantity, tickets in rows:
        expected = quantity if status is BookingStatus.CONFIRMED else 0
        assert (tickets or 0) == expected, (
            f"booking {booking_id} ({status}, {quantity}) has {tickets} valid tickets"
        )
