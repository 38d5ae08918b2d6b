"""POST /events: what an organizer may create, and every way a body is refused."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import EVENTS, assert_field_error, parse_utc
from tests.factories import assert_problem, create_account, create_admin, event_body, in_days

EVENT_FIELDS = {
    "id",
    "organizer_id",
    "title",
    "description",
    "venue",
    "city",
    "address",
    "category",
    "starts_at",
    "ends_at",
    "starts_at_local",
    "ends_at_local",
    "timezone",
    "currency",
    "status",
    "max_tickets_per_booking",
    "hold_minutes",
    "waitlist_enabled",
    "waitlist_offer_hours",
    "sales_start_at",
    "sales_end_at",
    "capacity",
    "tickets_sold",
    "tickets_held",
    "tickets_available",
    "ticket_types",
    "created_at",
    "updated_at",
    "published_at",
    "cancelled_at",
}


def ticket_type(name: str = "Standing", price: Any = "10.00", capacity: int = 10) -> dict[str, Any]:
    return {"name": name, "price": price, "capacity": capacity}


async def test_an_organizer_creates_a_draft_with_a_single_free_ticket_type(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(capacity=120), headers=organizer.headers)
    assert response.status_code == 201, response.text
    event = response.json()
    assert set(event) == EVENT_FIELDS
    assert event["status"] == "draft"
    assert event["organizer_id"] == organizer.id
    assert event["capacity"] == 120
    assert event["tickets_sold"] == 0
    assert event["tickets_available"] == 120
    assert event["published_at"] is None
    assert event["cancelled_at"] is None
    [only] = event["ticket_types"]
    assert only["name"] == "General admission"
    assert only["price"] == "0.00"
    assert (only["capacity"], only["sold"], only["available"]) == (120, 0, 120)


async def test_defaults_are_utc_eur_and_ten_tickets_per_booking(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = (await client.post(EVENTS, json=event_body(), headers=organizer.headers)).json()
    assert event["timezone"] == "UTC"
    assert event["currency"] == "EUR"
    assert event["max_tickets_per_booking"] == 10
    assert event["description"] is None
    assert event["address"] is None
    assert event["category"] is None
    assert event["ends_at"] is None
    assert event["sales_start_at"] is None
    assert event["sales_end_at"] is None


async def test_every_optional_field_is_stored_and_returned(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(
        description="Late-night set",
        address="Kastanienallee 1",
        category="music",
        ends_at=in_days(30, hour=23),
        timezone="Europe/Berlin",
        currency="CHF",
        max_tickets_per_booking=4,
        sales_start_at=in_days(1),
        sales_end_at=in_days(29),
    )
    event = (await client.post(EVENTS, json=body, headers=organizer.headers)).json()
    for field in ("description", "address", "category", "timezone", "currency", "max_tickets_per_booking"):
        assert event[field] == body[field]
    for field in ("starts_at", "ends_at", "sales_start_at", "sales_end_at"):
        assert parse_utc(event[field]) == datetime.fromisoformat(body[field])


async def test_an_event_with_several_ticket_types_sums_their_capacities(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(
        ticket_types=[ticket_type("Standing", "25", 300), ticket_type("Seated", 45.5, 80)], currency="usd"
    )
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert response.status_code == 201, response.text
    event = response.json()
    assert event["currency"] == "USD"
    assert event["capacity"] == 380
    assert event["tickets_available"] == 380
    assert [(t["name"], t["price"], t["capacity"]) for t in event["ticket_types"]] == [
        ("Standing", "25.00", 300),
        ("Seated", "45.50", 80),
    ]


@pytest.mark.parametrize(
    ("price", "served"), [("12.5", "12.50"), (12.5, "12.50"), (0, "0.00"), ("7", "7.00")]
)
async def test_prices_are_served_as_strings_with_two_decimals(
    client: AsyncClient, price: Any, served: str
) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type(price=price)])
    event = (await client.post(EVENTS, json=body, headers=organizer.headers)).json()
    assert event["ticket_types"][0]["price"] == served


async def test_a_start_given_with_an_offset_is_served_in_utc(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    year = datetime.now(UTC).year + 1
    body = event_body(starts_at=f"{year}-04-01T20:00:00+02:00", ends_at=f"{year}-04-01T23:30:00-01:00")
    event = (await client.post(EVENTS, json=body, headers=organizer.headers)).json()
    assert parse_utc(event["starts_at"]) == datetime(year, 4, 1, 18, 0, tzinfo=UTC)
    assert parse_utc(event["ends_at"]) == datetime(year, 4, 2, 0, 30, tzinfo=UTC)
    parse_utc(event["created_at"])
    parse_utc(event["updated_at"])


async def test_an_admin_may_create_an_event(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    response = await client.post(EVENTS, json=event_body(), headers=admin.headers)
    assert response.status_code == 201, response.text
    assert response.json()["organizer_id"] == admin.id


async def test_an_attendee_may_not_create_an_event(client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await client.post(EVENTS, json=event_body(), headers=attendee.headers)
    assert_problem(response, 403, "forbidden")


async def test_an_anonymous_caller_may_not_create_an_event(client: AsyncClient) -> None:
    response = await client.post(EVENTS, json=event_body())
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_malformed_token_is_not_authenticated(client: AsyncClient) -> None:
    response = await client.post(EVENTS, json=event_body(), headers={"Authorization": "Bearer nonsense"})
    assert_problem(response, 401, "not_authenticated")


async def test_a_refused_creation_leaves_nothing_behind(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await client.post(EVENTS, json=event_body(starts_at=in_days(-1)), headers=organizer.headers)
    page = (await client.get("/api/v1/organizer/events", headers=organizer.headers)).json()
    assert page["total"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "2031-04-01T20:00:00"),
        ("ends_at", "2031-04-01T23:00:00"),
        ("sales_start_at", "2031-03-01T10:00:00"),
        ("sales_end_at", "2031-03-30T10:00:00"),
    ],
)
async def test_a_datetime_without_an_offset_is_rejected(client: AsyncClient, field: str, value: str) -> None:
    organizer = await create_account(client, role="organizer")
    body = {**event_body(starts_at="2031-04-01T20:00:00+00:00"), field: value}
    assert_field_error(await client.post(EVENTS, json=body, headers=organizer.headers), ["body", field])


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "CEST", "europe/berlin", ""])
async def test_an_unknown_time_zone_is_rejected(client: AsyncClient, zone: str) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(timezone=zone)
    assert_field_error(await client.post(EVENTS, json=body, headers=organizer.headers), ["body", "timezone"])


async def test_a_known_time_zone_is_kept_for_display(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(timezone="America/Argentina/Buenos_Aires")
    event = (await client.post(EVENTS, json=body, headers=organizer.headers)).json()
    assert event["timezone"] == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize("starts_at", [in_days(-1), datetime.now(UTC).replace(microsecond=0).isoformat()])
async def test_an_event_cannot_start_in_the_past(client: AsyncClient, starts_at: str) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=starts_at)
    assert_field_error(await client.post(EVENTS, json=body, headers=organizer.headers), ["body", "starts_at"])


@pytest.mark.parametrize("ends_at", [in_days(29), in_days(30)])
async def test_an_event_must_end_after_it_starts(client: AsyncClient, ends_at: str) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=in_days(30), ends_at=ends_at)
    assert_field_error(await client.post(EVENTS, json=body, headers=organizer.headers), ["body", "ends_at"])


async def test_sales_cannot_end_after_the_event_starts(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=in_days(30), sales_end_at=in_days(31))
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "sales_end_at"])


async def test_sales_cannot_end_before_they_start(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=in_days(30), sales_start_at=in_days(10), sales_end_at=in_days(5))
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "sales_end_at"])


async def test_sales_cannot_start_once_the_event_has_started(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=in_days(30), sales_start_at=in_days(31))
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "sales_start_at"])


async def test_sales_may_close_exactly_when_the_event_starts(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(starts_at=in_days(30), sales_start_at=in_days(1), sales_end_at=in_days(30))
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert response.status_code == 201, response.text


async def test_both_capacity_and_ticket_types_are_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = {**event_body(), "ticket_types": [ticket_type()]}
    body = assert_problem(
        await client.post(EVENTS, json=body, headers=organizer.headers), 422, "validation_error"
    )
    assert all(error["loc"][0] == "body" for error in body["errors"])


async def test_neither_capacity_nor_ticket_types_is_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body()
    del body["capacity"]
    body = assert_problem(
        await client.post(EVENTS, json=body, headers=organizer.headers), 422, "validation_error"
    )
    assert all(error["loc"][0] == "body" for error in body["errors"])


@pytest.mark.parametrize("count", [0, 21])
async def test_an_event_has_one_to_twenty_ticket_types(client: AsyncClient, count: int) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type(f"Type {n}") for n in range(count)])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "ticket_types"])


async def test_twenty_ticket_types_are_accepted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type(f"Type {n}", capacity=n + 1) for n in range(20)])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert response.status_code == 201, response.text
    assert len(response.json()["ticket_types"]) == 20
    assert response.json()["capacity"] == sum(range(1, 21))


@pytest.mark.parametrize("price", ["-0.01", -5, "12.345", 0.001, "abc", None])
async def test_an_invalid_price_is_rejected(client: AsyncClient, price: Any) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type(price=price)])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "ticket_types", 0, "price"])


@pytest.mark.parametrize("capacity", [0, -1, "many"])
async def test_an_invalid_capacity_is_rejected(client: AsyncClient, capacity: Any) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(capacity=capacity), headers=organizer.headers)
    assert_field_error(response, ["body", "capacity"])


async def test_an_invalid_ticket_type_capacity_is_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type("A"), ticket_type("B", capacity=0)])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "ticket_types", 1, "capacity"])


async def test_ticket_type_names_must_be_unique_within_an_event(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[ticket_type("VIP"), ticket_type("vip")])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize("currency", ["EURO", "XYZ", "€", ""])
async def test_an_unknown_currency_is_rejected(client: AsyncClient, currency: str) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(currency=currency), headers=organizer.headers)
    assert_field_error(response, ["body", "currency"])


@pytest.mark.parametrize("title", ["", "   ", "t" * 201, None])
async def test_an_invalid_title_is_rejected(client: AsyncClient, title: str | None) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(title=title), headers=organizer.headers)
    assert_field_error(response, ["body", "title"])


async def test_titles_of_one_and_two_hundred_characters_are_accepted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    for title in ("T", "t" * 200):
        response = await client.post(EVENTS, json=event_body(title=title), headers=organizer.headers)
        assert response.status_code == 201, response.text
        assert response.json()["title"] == title


@pytest.mark.parametrize("field", ["title", "venue", "city", "starts_at"])
async def test_a_missing_required_field_is_rejected(client: AsyncClient, field: str) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body()
    del body[field]
    assert_field_error(await client.post(EVENTS, json=body, headers=organizer.headers), ["body", field])


@pytest.mark.parametrize("value", [0, 51])
async def test_max_tickets_per_booking_is_between_one_and_fifty(client: AsyncClient, value: int) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(
        EVENTS, json=event_body(max_tickets_per_booking=value), headers=organizer.headers
    )
    assert_field_error(response, ["body", "max_tickets_per_booking"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "published"),
        ("organizer_id", "00000000-0000-0000-0000-000000000001"),
        ("sold", 5),
        ("tickets_sold", 5),
        ("id", "00000000-0000-0000-0000-000000000001"),
        ("published_at", "2030-01-01T00:00:00Z"),
        ("deleted_at", "2030-01-01T00:00:00Z"),
    ],
)
async def test_unknown_fields_are_rejected(client: AsyncClient, field: str, value: Any) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(**{field: value}), headers=organizer.headers)
    assert_field_error(response, ["body", field])


async def test_a_ticket_type_cannot_be_created_with_sales(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = event_body(ticket_types=[{**ticket_type(), "sold": 3}])
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", "ticket_types", 0, "sold"])


async def test_a_body_that_is_not_json_is_a_validation_error(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(
        EVENTS, content=b"{not json", headers={**organizer.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation_error")


async def test_an_event_starting_soon_is_accepted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    response = await client.post(EVENTS, json=event_body(starts_at=soon), headers=organizer.headers)
    assert response.status_code == 201, response.text
