"""PATCH /events/{id}: partial updates, their validation, and what they do to search."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import assert_field_error, cancel, catalogue, event_url, parse_utc, titles
from tests.factories import (
    assert_problem,
    create_account,
    create_event,
    create_published_event,
    in_days,
    set_event_times,
)

REQUIRED_FIELDS = ["title", "venue", "city", "starts_at", "timezone", "currency", "max_tickets_per_booking"]


async def test_a_partial_update_changes_only_the_given_fields(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, description="Old text", category="music")
    response = await client.patch(
        event_url(event["id"]), json={"title": "Autumn Jazz"}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Autumn Jazz"
    unchanged = {k: v for k, v in event.items() if k not in ("title", "updated_at")}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert parse_utc(updated["updated_at"]) >= parse_utc(event["updated_at"])


async def test_an_update_is_persisted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    await client.patch(
        event_url(event["id"]),
        json={"venue": "Quasimodo", "address": "Kantstr. 12"},
        headers=organizer.headers,
    )
    read = (await client.get(event_url(event["id"]), headers=organizer.headers)).json()
    assert (read["venue"], read["address"]) == ("Quasimodo", "Kantstr. 12")


async def test_an_empty_update_changes_nothing(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(event_url(event["id"]), json={}, headers=organizer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["title"] == event["title"]


async def test_a_published_event_may_be_updated(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    new_start = in_days(40)
    response = await client.patch(
        event_url(event["id"]),
        json={"starts_at": new_start, "ends_at": in_days(40, hour=23)},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    assert parse_utc(response.json()["starts_at"]) == datetime.fromisoformat(new_start)


async def test_an_updated_start_with_an_offset_is_served_in_utc(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    year = datetime.now(UTC).year + 1
    response = await client.patch(
        event_url(event["id"]), json={"starts_at": f"{year}-06-01T09:00:00+05:30"}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text
    assert parse_utc(response.json()["starts_at"]) == datetime(year, 6, 1, 3, 30, tzinfo=UTC)


async def test_an_optional_field_may_be_cleared(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, description="Bring earplugs", address="Somewhere 1")
    response = await client.patch(
        event_url(event["id"]), json={"description": None, "address": None}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["description"] is None
    assert response.json()["address"] is None


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
async def test_a_required_field_cannot_be_nulled(client: AsyncClient, field: str) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(event_url(event["id"]), json={field: None}, headers=organizer.headers)
    assert_field_error(response, ["body", field])
    read = (await client.get(event_url(event["id"]), headers=organizer.headers)).json()
    assert read[field] == event[field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "t" * 201),
        ("venue", "  "),
        ("timezone", "Atlantis/Capital"),
        ("currency", "ABC"),
        ("max_tickets_per_booking", 51),
        ("starts_at", "2031-01-01T20:00:00"),
        ("ends_at", "2031-01-01T23:00:00"),
    ],
)
async def test_an_invalid_value_is_rejected(client: AsyncClient, field: str, value: Any) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(event_url(event["id"]), json={field: value}, headers=organizer.headers)
    assert_field_error(response, ["body", field])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "published"),
        ("organizer_id", "00000000-0000-0000-0000-000000000001"),
        ("capacity", 500),
        ("ticket_types", [{"name": "VIP", "price": "1.00", "capacity": 1}]),
        ("sold", 3),
        ("cancelled_at", "2030-01-01T00:00:00Z"),
    ],
)
async def test_fields_outside_the_update_are_rejected(client: AsyncClient, field: str, value: Any) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(event_url(event["id"]), json={field: value}, headers=organizer.headers)
    assert_field_error(response, ["body", field])
    read = (await client.get(event_url(event["id"]), headers=organizer.headers)).json()
    assert read["status"] == "draft"
    assert read["capacity"] == event["capacity"]


async def test_the_start_cannot_move_into_the_past(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(
        event_url(event["id"]), json={"starts_at": in_days(-2)}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "starts_at"])


async def test_the_end_cannot_move_before_the_existing_start(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, starts_at=in_days(30))
    response = await client.patch(
        event_url(event["id"]), json={"ends_at": in_days(29)}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "ends_at"])


async def test_the_start_cannot_move_past_the_existing_end(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, starts_at=in_days(30), ends_at=in_days(30, hour=23))
    response = await client.patch(
        event_url(event["id"]), json={"starts_at": in_days(31)}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "ends_at"])


async def test_sales_cannot_be_set_to_end_after_the_start(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, starts_at=in_days(30))
    response = await client.patch(
        event_url(event["id"]), json={"sales_end_at": in_days(31)}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "sales_end_at"])


async def test_the_start_cannot_move_before_the_existing_sales_end(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, starts_at=in_days(30), sales_end_at=in_days(20))
    response = await client.patch(
        event_url(event["id"]), json={"starts_at": in_days(10)}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "sales_end_at"])


async def test_an_event_that_has_started_may_still_be_retitled(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await set_event_times(app, event["id"], starts_at=datetime.now(UTC) - timedelta(hours=1))
    response = await client.patch(
        event_url(event["id"]), json={"title": "Running late"}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text


async def test_a_cancelled_event_cannot_be_updated(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await cancel(client, organizer, event["id"])
    response = await client.patch(
        event_url(event["id"]), json={"title": "Back on"}, headers=organizer.headers
    )
    assert_problem(response, 409, "invalid_transition")
    assert (await client.get(event_url(event["id"]))).json()["title"] == event["title"]


async def test_a_new_title_is_found_by_search_and_the_old_one_is_not(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, title="Spring Jazz Night")
    await client.patch(
        event_url(event["id"]), json={"title": "Harvest Blues Evening"}, headers=organizer.headers
    )
    assert titles(await catalogue(client, q="harvest")) == ["Harvest Blues Evening"]
    assert (await catalogue(client, q="spring jazz"))["total"] == 0


async def test_a_new_description_venue_and_city_are_found_by_search(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await client.patch(
        event_url(event["id"]),
        json={"description": "Featuring Quokka Quartet", "venue": "Zenith Hall", "city": "Lyon"},
        headers=organizer.headers,
    )
    for q in ("quokka", "ZENITH", "lyon"):
        assert (await catalogue(client, q=q))["total"] == 1, q
    assert (await catalogue(client, city="LYON"))["total"] == 1
    assert (await catalogue(client, city="Berlin"))["total"] == 0


async def test_a_category_is_stored_lower_case(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.patch(
        event_url(event["id"]), json={"category": "Jazz"}, headers=organizer.headers
    )
    assert response.json()["category"] == "jazz"
    assert (await catalogue(client, category="JAZZ"))["total"] == 1


async def test_updating_an_unknown_event_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.patch(
        event_url("00000000-0000-0000-0000-000000000000"), json={"title": "x"}, headers=organizer.headers
    )
    assert_problem(response, 404, "not_found")
