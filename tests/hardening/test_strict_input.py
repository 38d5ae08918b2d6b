"""Input the contract does not allow: booleans as quantities, Unix timestamps as datetimes, time
zones that are not places, oversized request heads."""

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from boxoffice.core.db import utcnow
from tests.conftest import make_settings
from tests.events.helpers import EVENTS, assert_field_error
from tests.factories import (
    assert_problem,
    book,
    create_account,
    create_event,
    create_published_event,
    event_body,
    set_event_times,
)


@pytest.mark.parametrize("quantity", [True, False, 2.0, "2", 2.5])
async def test_a_quantity_must_be_a_json_integer(client: AsyncClient, quantity: object) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    assert_field_error(await book(client, attendee, event["id"], quantity=quantity), ["body", "quantity"])


@pytest.mark.parametrize("field", ["capacity", "max_tickets_per_booking", "hold_minutes"])
async def test_counts_of_an_event_must_be_json_integers(client: AsyncClient, field: str) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json={**event_body(), field: True}, headers=organizer.headers)
    assert_field_error(response, ["body", field])


@pytest.mark.parametrize("moment", [1_900_000_000, "1900000000", 1_900_000_000.5, True])
async def test_a_unix_timestamp_is_not_a_datetime(client: AsyncClient, moment: object) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(
        EVENTS, json={**event_body(), "starts_at": moment}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "starts_at"])


async def test_a_unix_timestamp_is_not_a_datetime_in_a_query(client: AsyncClient) -> None:
    response = await client.get(EVENTS, params={"starts_after": "1900000000"})
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    "zone", ["localtime", "Factory", "posixrules", "posix/Europe/Berlin", "europe/berlin", "Europe/../UTC"]
)
async def test_a_time_zone_must_be_an_iana_place(client: AsyncClient, zone: str) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json={**event_body(), "timezone": zone}, headers=organizer.headers)
    assert_field_error(response, ["body", "timezone"])


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "US/Pacific"])
async def test_iana_time_zones_and_their_old_names_are_accepted(client: AsyncClient, zone: str) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json={**event_body(), "timezone": zone}, headers=organizer.headers)
    assert response.status_code == 201, response.text


async def test_an_event_that_has_started_cannot_be_cancelled(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    assert (await book(client, attendee, event["id"])).status_code == 201
    await set_event_times(app, event["id"], starts_at=utcnow() - timedelta(minutes=5))

    response = await client.post(f"{EVENTS}/{event['id']}/cancel", json={}, headers=organizer.headers)

    assert_problem(response, 409, "event_started")
    bookings = (await client.get("/api/v1/bookings", headers=attendee.headers)).json()["items"]
    assert [b["status"] for b in bookings] == ["confirmed"]


async def test_deleting_an_event_that_has_started_hides_it_and_cancels_nobody(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    assert (await book(client, attendee, event["id"])).status_code == 201
    await set_event_times(app, event["id"], starts_at=utcnow() - timedelta(minutes=5))

    assert (await client.delete(f"{EVENTS}/{event['id']}", headers=organizer.headers)).status_code == 204

    bookings = (await client.get("/api/v1/bookings", headers=attendee.headers)).json()["items"]
    assert [b["status"] for b in bookings] == ["confirmed"]


async def test_a_draft_can_still_be_cancelled_as_before(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.post(f"{EVENTS}/{event['id']}/cancel", json={}, headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")


async def test_too_many_request_headers_answer_431(client: AsyncClient) -> None:
    headers = {f"X-Filler-{n}": "x" for n in range(100)}
    assert_problem(await client.get("/healthz", headers=headers), 431, "headers_too_large")


async def test_too_large_request_headers_answer_431(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Big": "x" * 9000})
    assert_problem(response, 431, "headers_too_large")


async def test_header_limits_are_settings(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, max_header_bytes=32_768, max_header_count=200))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        headers = {f"X-Filler-{n}": "x" * 100 for n in range(150)}
        assert (await client.get("/healthz", headers=headers)).status_code == 200
    await app.state.database.dispose()
