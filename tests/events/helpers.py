"""Helpers shared by the events tests: the cast of callers, URLs and small assertions."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.factories import Account, assert_problem, create_account, create_admin

EVENTS = "/api/v1/events"
ORGANIZER_EVENTS = "/api/v1/organizer/events"
CALLERS = ["owner", "other_organizer", "attendee", "admin", "anonymous"]


@dataclass
class Cast:
    """Everyone who may call an event's routes: its organizer, another organizer, an attendee, an admin."""

    owner: Account
    other_organizer: Account
    attendee: Account
    admin: Account

    def headers(self, caller: str) -> dict[str, str]:
        """The headers of a caller named as in ``CALLERS``; none for the anonymous caller."""
        if caller == "anonymous":
            return {}
        account: Account = getattr(self, caller)
        return account.headers


async def make_cast(app: FastAPI, client: AsyncClient) -> Cast:
    return Cast(
        owner=await create_account(client, role="organizer"),
        other_organizer=await create_account(client, role="organizer"),
        attendee=await create_account(client),
        admin=await create_admin(app, client),
    )


def event_url(event_id: str, *parts: str) -> str:
    return "/".join([EVENTS, event_id, *parts])


def ticket_type_url(event_id: str, ticket_type_id: str) -> str:
    return event_url(event_id, "ticket-types", ticket_type_id)


def assert_field_error(response: Response, loc: list[str | int]) -> dict[str, Any]:
    """A 422 validation problem whose ``errors`` name ``loc``."""
    body = assert_problem(response, 422, "validation_error")
    locs = [error["loc"] for error in body["errors"]]
    assert loc in locs, locs
    return body


def parse_utc(timestamp: str) -> datetime:
    """A response timestamp, which must be served in UTC."""
    assert timestamp.endswith(("Z", "+00:00")), timestamp
    moment = datetime.fromisoformat(timestamp)
    assert moment.utcoffset() is not None
    assert moment.utcoffset() == UTC.utcoffset(None)
    return moment


async def cancel(client: AsyncClient, account: Account, event_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(event_url(event_id, "cancel"), json=body or None, headers=account.headers)
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


async def catalogue(client: AsyncClient, **params: Any) -> dict[str, Any]:
    """A page of ``GET /events``; the request must succeed."""
    response = await client.get(EVENTS, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def titles(page: dict[str, Any]) -> list[str]:
    return [event["title"] for event in page["items"]]


def ids(page: dict[str, Any]) -> list[str]:
    return [event["id"] for event in page["items"]]
