"""Builders shared by the waiting-list tests."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from boxoffice.models import Hold, HoldStatus, WaitlistEntry
from tests.bookings.helpers import booked, many_accounts, published_scene, read_event
from tests.factories import Account

WAITLIST = "/api/v1/waitlist"
ENTRY_FIELDS = {"id", "event_id", "ticket_type_id", "quantity", "status", "position", "hold", "created_at"}


def line_url(event_id: str) -> str:
    return f"/api/v1/events/{event_id}/waitlist"


async def join(client: AsyncClient, account: Account, event_id: str, **body: Any) -> Response:
    return await client.post(line_url(event_id), json=body, headers=account.headers)


async def joined(client: AsyncClient, account: Account, event_id: str, **body: Any) -> dict[str, Any]:
    response = await join(client, account, event_id, **body)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def leave(client: AsyncClient, account: Account, entry_id: str) -> Response:
    return await client.delete(f"{WAITLIST}/{entry_id}", headers=account.headers)


async def my_entries(client: AsyncClient, account: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(WAITLIST, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def my_entry(client: AsyncClient, account: Account) -> dict[str, Any]:
    """The account's newest entry."""
    return (await my_entries(client, account))[0]


async def line_figures(client: AsyncClient, event_id: str) -> list[tuple[int, int, int, int]]:
    """(sold, held, waiting, available) of each ticket type, as the public sees them."""
    return [
        (t["sold"], t["held"], t["waiting"], t["available"])
        for t in (await read_event(client, event_id))["ticket_types"]
    ]


@dataclass
class SoldOut:
    """A published event whose tickets are all booked, one each, by ``buyers``; ``bookings`` are
    theirs, in order."""

    organizer: Account
    event: dict[str, Any]
    buyers: list[Account]
    bookings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def event_id(self) -> str:
        return str(self.event["id"])


async def sold_out(client: AsyncClient, capacity: int = 2, **event: Any) -> SoldOut:
    scene = await published_scene(client, capacity=capacity, **event)
    buyers = await many_accounts(client, capacity)
    result = SoldOut(scene.organizer, scene.event, buyers)
    for buyer in buyers:
        result.bookings.append(await booked(client, buyer, scene.event_id))
    return result


async def offers(app: FastAPI) -> list[Hold]:
    """Every waiting-list offer's hold, active or not."""
    async with app.state.database.reader() as session:
        return list((await session.scalars(select(Hold).where(Hold.waitlist_entry_id.is_not(None)))).all())


async def active_offers(app: FastAPI) -> list[Hold]:
    return [hold for hold in await offers(app) if hold.status is HoldStatus.ACTIVE]


async def entries(app: FastAPI) -> list[WaitlistEntry]:
    """Every entry, in the order they joined."""
    async with app.state.database.reader() as session:
        query = select(WaitlistEntry).order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        return list((await session.scalars(query)).all())


def by_user(rows: list[WaitlistEntry], account: Account) -> WaitlistEntry:
    return next(row for row in rows if row.user_id == uuid.UUID(account.id))
