"""GET /admin/audit-log: the shape of an entry, filters, order, pages, and that nothing can change it."""

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.admin.helpers import AUDIT_ENTRY_FIELDS, AUDIT_LOG, audit_entries, audit_page, the_one_entry
from tests.factories import (
    Account,
    assert_problem,
    book,
    create_account,
    create_admin,
    create_published_event,
)

INDIA = timezone(timedelta(hours=5, minutes=30))


async def booking_history(client: AsyncClient, attendee: Account, event_id: str) -> str:
    """Book, change and cancel, one request each; returns the booking id."""
    booking_id = str((await book(client, attendee, event_id)).json()["id"])
    url = f"/api/v1/bookings/{booking_id}"
    assert (await client.patch(url, json={"quantity": 2}, headers=attendee.headers)).status_code == 200
    assert (await client.delete(url, headers=attendee.headers)).status_code == 200
    return booking_id


def instant(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["created_at"])


async def test_an_entry_has_exactly_the_documented_fields(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    entry = await the_one_entry(client, admin, action="auth.login_succeeded")
    assert set(entry) == AUDIT_ENTRY_FIELDS
    uuid.UUID(entry["id"])
    assert entry["actor_id"] == admin.id
    assert entry["ip_address"] == "127.0.0.1"
    assert isinstance(entry["details"], dict)
    assert instant(entry).utcoffset() == timedelta(0)


async def test_an_entry_carries_the_generated_request_id_when_none_was_sent(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.post(f"/api/v1/events/{event['id']}/cancel", json={}, headers=organizer.headers)
    assert response.status_code == 200, response.text
    entry = await the_one_entry(client, admin, action="event.cancelled")
    assert entry["request_id"] == response.headers["X-Request-ID"]


async def test_an_entry_carries_the_request_id_the_client_sent(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={},
        headers={**organizer.headers, "X-Request-ID": "client-chosen:id-42"},
    )
    assert response.headers["X-Request-ID"] == "client-chosen:id-42"
    entry = await the_one_entry(client, admin, action="event.cancelled")
    assert entry["request_id"] == "client-chosen:id-42"


async def test_entries_come_newest_first(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booking_history(client, attendee, event["id"])

    entries = await audit_entries(client, admin, target_id=booking_id)
    assert [entry["action"] for entry in entries] == [
        "booking.cancelled",
        "booking.changed",
        "booking.created",
    ]
    everything = await audit_entries(client, admin)
    instants = [instant(entry) for entry in everything]
    assert instants == sorted(instants, reverse=True)
    assert [entry["action"] for entry in everything][:3] == [e["action"] for e in entries]


async def test_the_actor_filter_keeps_only_that_actors_entries(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    other = await create_account(client)
    event = await create_published_event(client, organizer)
    await booking_history(client, attendee, event["id"])
    assert (await book(client, other, event["id"])).status_code == 201

    entries = await audit_entries(client, admin, actor_id=attendee.id)
    assert {entry["actor_id"] for entry in entries} == {attendee.id}
    assert sorted(entry["action"] for entry in entries) == [
        "auth.login_succeeded",
        "booking.cancelled",
        "booking.changed",
        "booking.created",
    ]


async def test_the_action_filter_keeps_only_that_action(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    for _ in range(3):
        await create_account(client)
    page = await audit_page(client, admin, action="auth.login_succeeded")
    assert page["total"] == 4
    assert {entry["action"] for entry in page["items"]} == {"auth.login_succeeded"}


async def test_the_target_type_filter_keeps_only_that_kind_of_target(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    first = await create_published_event(client, organizer)
    second = await create_published_event(client, organizer)
    assert (await book(client, attendee, first["id"])).status_code == 201

    entries = await audit_entries(client, admin, target_type="event")
    assert {entry["target_type"] for entry in entries} == {"event"}
    assert sorted(entry["target_id"] for entry in entries) == sorted([first["id"], second["id"]])


async def test_the_target_id_filter_keeps_only_that_target(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    first = await create_published_event(client, organizer)
    await create_published_event(client, organizer)
    entries = await audit_entries(client, admin, target_type="event", target_id=first["id"])
    assert [(entry["action"], entry["target_id"]) for entry in entries] == [("event.published", first["id"])]
    assert await audit_entries(client, admin, target_id=attendee.id, action="booking.created") == []


async def test_an_action_nobody_took_gives_an_empty_page(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    page = await audit_page(client, admin, action="user.teleported")
    assert (page["items"], page["total"]) == ([], 0)


async def test_since_is_inclusive_and_until_exclusive(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booking_history(client, attendee, event["id"])
    cancelled, changed, created = await audit_entries(client, admin, target_id=booking_id)

    def actions(entries: list[dict[str, Any]]) -> list[str]:
        return [entry["action"] for entry in entries]

    middle = changed["created_at"]
    since = await audit_entries(client, admin, target_id=booking_id, since=middle)
    until = await audit_entries(client, admin, target_id=booking_id, until=middle)
    between = await audit_entries(
        client, admin, target_id=booking_id, since=middle, until=cancelled["created_at"]
    )
    assert actions(since) == ["booking.cancelled", "booking.changed"]
    assert actions(until) == ["booking.created"]
    assert actions(between) == ["booking.changed"]
    assert created["action"] == "booking.created"


async def test_since_and_until_honour_any_offset(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booking_history(client, attendee, event["id"])
    _, changed, _ = await audit_entries(client, admin, target_id=booking_id)

    in_india = instant(changed).astimezone(INDIA).isoformat()
    assert "+05:30" in in_india
    since = await audit_entries(client, admin, target_id=booking_id, since=in_india)
    until = await audit_entries(client, admin, target_id=booking_id, until=in_india)
    assert [entry["action"] for entry in since] == ["booking.cancelled", "booking.changed"]
    assert [entry["action"] for entry in until] == ["booking.created"]


async def test_a_window_in_the_future_is_empty(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await audit_page(client, admin, since=tomorrow))["total"] == 0
    assert (await audit_page(client, admin, until=tomorrow))["total"] == 1


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2030-01-01T00:00:00"},
        {"until": "2030-01-01T00:00:00"},
        {"since": "yesterday"},
        {"actor_id": "not-a-uuid"},
        {"limit": 0},
        {"limit": 101},
    ],
    ids=["naive-since", "naive-until", "garbage-since", "bad-actor", "limit-0", "limit-101"],
)
async def test_malformed_filters_are_validation_errors(
    app: FastAPI, client: AsyncClient, params: dict[str, Any]
) -> None:
    admin = await create_admin(app, client)
    response = await client.get(AUDIT_LOG, params=params, headers=admin.headers)
    assert_problem(response, 422, "validation_error")


async def test_pages_cover_every_entry_once_and_report_the_total(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    for _ in range(4):
        await create_account(client)
    first = await audit_page(client, admin, limit=3)
    second = await audit_page(client, admin, limit=3, offset=3)
    assert first["total"] == second["total"] == 5
    assert (len(first["items"]), len(second["items"])) == (3, 2)
    assert (second["limit"], second["offset"]) == (3, 3)
    ids = [entry["id"] for entry in first["items"] + second["items"]]
    assert len(set(ids)) == 5


async def test_reading_the_log_records_nothing(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    before = await audit_page(client, admin)
    after = await audit_page(client, admin)
    assert after == before


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("on_entry", [False, True], ids=["collection", "entry"])
async def test_the_log_cannot_be_changed_through_the_api(
    app: FastAPI, client: AsyncClient, method: str, on_entry: bool
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer)
    before = await audit_entries(client, admin)
    url = f"{AUDIT_LOG}/{before[0]['id']}" if on_entry else AUDIT_LOG
    body: dict[str, Any] = {"action": "nothing.happened", "details": {}, "actor_id": None}

    response = await client.request(method, url, json=body, headers=admin.headers)

    assert response.status_code in (404, 405), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == response.status_code
    assert await audit_entries(client, admin) == before
