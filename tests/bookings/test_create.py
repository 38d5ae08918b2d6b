"""POST /bookings: what a booking looks like, and every way a booking is refused."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import (
    BOOKING_FIELDS,
    BOOKINGS,
    EVENT_SUMMARY_FIELDS,
    booked,
    cancel_booking,
    my_bookings,
    published_scene,
    read_event,
    start_event,
    tickets_sold,
)
from tests.factories import (
    assert_ledger_consistent,
    assert_problem,
    book,
    create_account,
    create_event,
    create_published_event,
    in_days,
    set_event_times,
)

TWO_TYPES = [
    {"name": "Standing", "price": "10", "capacity": 50},
    {"name": "Seated", "price": "24.9", "capacity": 20},
]


async def test_a_booking_has_every_field_of_the_contract(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert set(booking) == BOOKING_FIELDS
    assert booking["status"] == "confirmed"
    assert booking["event_id"] == scene.event_id
    assert booking["user_id"] == scene.attendee.id
    assert booking["ticket_type_id"] == scene.event["ticket_types"][0]["id"]
    assert booking["cancelled_at"] is None
    assert booking["cancellation_reason"] is None
    uuid.UUID(booking["id"])
    await assert_ledger_consistent(app)


async def test_the_holder_defaults_to_the_account(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert booking["holder_name"] == "Test Person"
    assert booking["holder_email"] == scene.attendee.email


async def test_explicit_holder_details_are_kept(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(
        client, scene.attendee, scene.event_id, holder_name="Grace Hopper", holder_email="grace@example.com"
    )
    assert booking["holder_name"] == "Grace Hopper"
    assert booking["holder_email"] == "grace@example.com"


async def test_quantity_defaults_to_one(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert booking["quantity"] == 1
    assert await tickets_sold(client, scene.event_id) == 1


async def test_prices_are_strings_with_two_decimals_in_the_events_currency(client: AsyncClient) -> None:
    scene = await published_scene(
        client, currency="USD", ticket_types=[{"name": "Standing", "price": "12.5", "capacity": 10}]
    )
    booking = await booked(client, scene.attendee, scene.event_id, quantity=3)
    assert booking["unit_price"] == "12.50"
    assert booking["total_price"] == "37.50"
    assert booking["currency"] == "USD"


async def test_a_free_event_costs_zero_with_two_decimals(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    assert booking["unit_price"] == "0.00"
    assert booking["total_price"] == "0.00"
    assert booking["currency"] == "EUR"


async def test_a_booking_embeds_a_summary_of_its_event(client: AsyncClient) -> None:
    scene = await published_scene(
        client,
        title="Autumn Organ Recital",
        venue="St. Thomas",
        city="Leipzig",
        timezone="Europe/Berlin",
        ends_at=in_days(30, hour=22),
    )
    booking = await booked(client, scene.attendee, scene.event_id)
    summary = booking["event"]
    assert set(summary) == EVENT_SUMMARY_FIELDS
    assert summary["id"] == scene.event_id
    assert summary["title"] == "Autumn Organ Recital"
    assert summary["venue"] == "St. Thomas"
    assert summary["city"] == "Leipzig"
    assert summary["timezone"] == "Europe/Berlin"
    assert summary["status"] == "published"
    assert datetime.fromisoformat(summary["starts_at"]) == datetime.fromisoformat(scene.event["starts_at"])
    assert datetime.fromisoformat(summary["ends_at"]) == datetime.fromisoformat(scene.event["ends_at"])
    assert datetime.fromisoformat(summary["starts_at"]).utcoffset() == timedelta(0)


async def test_booking_a_chosen_ticket_type_takes_its_seats(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, ticket_types=TWO_TYPES)
    seated = next(t for t in scene.event["ticket_types"] if t["name"] == "Seated")
    booking = await booked(client, scene.attendee, scene.event_id, ticket_type_id=seated["id"], quantity=2)
    assert booking["ticket_type_id"] == seated["id"]
    assert booking["unit_price"] == "24.90"
    assert booking["total_price"] == "49.80"
    event = await read_event(client, scene.event_id)
    sold = {t["name"]: (t["sold"], t["available"]) for t in event["ticket_types"]}
    assert sold == {"Standing": (0, 50), "Seated": (2, 18)}
    assert event["tickets_sold"] == 2
    await assert_ledger_consistent(app)


async def test_booking_needs_a_token(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await client.post(BOOKINGS, json={"event_id": scene.event_id})
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await tickets_sold(client, scene.event_id) == 0


async def test_booking_with_a_malformed_token_is_unauthorised(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await client.post(
        BOOKINGS, json={"event_id": scene.event_id}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_booking_an_unknown_event_is_not_found(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await book(client, attendee, str(uuid.uuid4())), 404, "not_found")


async def test_booking_someone_elses_draft_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    draft = await create_event(client, organizer)
    assert_problem(await book(client, attendee, draft["id"]), 404, "not_found")


async def test_another_organizer_booking_a_draft_gets_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    rival = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    assert_problem(await book(client, rival, draft["id"]), 404, "not_found")


async def test_the_organizer_cannot_book_their_own_draft(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    assert_problem(await book(client, organizer, draft["id"]), 409, "event_not_bookable")


async def test_a_ticket_type_of_another_event_is_not_found(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    other = await create_published_event(client, scene.organizer, title="Other night")
    foreign_type = other["ticket_types"][0]["id"]
    response = await book(client, scene.attendee, scene.event_id, ticket_type_id=foreign_type)
    assert_problem(response, 404, "not_found")
    assert await tickets_sold(client, other["id"]) == 0
    assert await tickets_sold(client, scene.event_id) == 0
    await assert_ledger_consistent(app)


async def test_an_unknown_ticket_type_is_not_found(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await book(client, scene.attendee, scene.event_id, ticket_type_id=str(uuid.uuid4()))
    assert_problem(response, 404, "not_found")


async def test_asking_for_more_than_is_left_is_sold_out_and_says_how_many_are_left(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=3)
    await booked(client, scene.attendee, scene.event_id, quantity=2)
    late = await create_account(client)
    problem = assert_problem(await book(client, late, scene.event_id, quantity=2), 409, "sold_out")
    assert problem["available"] == 1
    assert "1" in problem["detail"]
    assert await tickets_sold(client, scene.event_id) == 2
    assert (await my_bookings(client, late)).json()["total"] == 0
    await assert_ledger_consistent(app)


async def test_a_sold_out_event_has_nothing_left(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    await booked(client, scene.attendee, scene.event_id)
    late = await create_account(client)
    problem = assert_problem(await book(client, late, scene.event_id), 409, "sold_out")
    assert problem["available"] == 0
    assert await tickets_sold(client, scene.event_id) == 1
    await assert_ledger_consistent(app)


async def test_the_last_seats_can_be_booked_exactly(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=3)
    await booked(client, scene.attendee, scene.event_id, quantity=3)
    event = await read_event(client, scene.event_id)
    assert (event["tickets_sold"], event["tickets_available"]) == (3, 0)
    await assert_ledger_consistent(app)


async def test_a_second_booking_for_the_same_event_is_already_booked(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    await booked(client, scene.attendee, scene.event_id, quantity=2)
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "already_booked")
    assert await tickets_sold(client, scene.event_id) == 2
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_a_second_booking_of_another_ticket_type_is_already_booked(client: AsyncClient) -> None:
    scene = await published_scene(client, ticket_types=TWO_TYPES)
    standing, seated = (t["id"] for t in scene.event["ticket_types"])
    await booked(client, scene.attendee, scene.event_id, ticket_type_id=standing)
    response = await book(client, scene.attendee, scene.event_id, ticket_type_id=seated)
    assert_problem(response, 409, "already_booked")


async def test_after_cancelling_the_user_may_book_again(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    first = await booked(client, scene.attendee, scene.event_id, quantity=2)
    assert (await cancel_booking(client, scene.attendee, first["id"])).status_code == 200
    second = await booked(client, scene.attendee, scene.event_id, quantity=3)
    assert second["id"] != first["id"]
    assert second["code"] != first["code"]
    assert await tickets_sold(client, scene.event_id) == 3
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 2
    await assert_ledger_consistent(app)


async def test_a_cancelled_event_is_not_bookable(client: AsyncClient) -> None:
    scene = await published_scene(client)
    cancelled = await client.post(
        f"/api/v1/events/{scene.event_id}/cancel", json={"reason": "Storm"}, headers=scene.organizer.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "event_not_bookable")


async def test_an_event_is_not_bookable_before_its_sales_open(client: AsyncClient) -> None:
    scene = await published_scene(client, sales_start_at=in_days(5))
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "event_not_bookable")
    assert await tickets_sold(client, scene.event_id) == 0


async def test_an_event_is_bookable_once_its_sales_have_opened(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, sales_start_at=in_days(5))
    await set_event_times(app, scene.event_id, sales_start_at=datetime.now(UTC) - timedelta(minutes=1))
    await booked(client, scene.attendee, scene.event_id)


async def test_an_event_is_not_bookable_after_its_sales_closed(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, sales_end_at=in_days(10))
    await set_event_times(app, scene.event_id, sales_end_at=datetime.now(UTC) - timedelta(minutes=1))
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "event_not_bookable")
    assert await tickets_sold(client, scene.event_id) == 0


async def test_a_started_event_is_not_bookable(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    await start_event(app, scene.event_id)
    assert_problem(await book(client, scene.attendee, scene.event_id), 409, "event_not_bookable")
    assert await tickets_sold(client, scene.event_id) == 0


@pytest.mark.parametrize("quantity", [0, -1])
async def test_a_quantity_below_one_is_rejected(client: AsyncClient, quantity: int) -> None:
    scene = await published_scene(client)
    problem = assert_problem(
        await book(client, scene.attendee, scene.event_id, quantity=quantity), 422, "validation_error"
    )
    assert ["body", "quantity"] in [error["loc"] for error in problem["errors"]]


async def test_a_quantity_above_the_events_maximum_is_rejected(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, max_tickets_per_booking=4)
    problem = assert_problem(
        await book(client, scene.attendee, scene.event_id, quantity=5), 422, "validation_error"
    )
    assert ["body", "quantity"] in [error["loc"] for error in problem["errors"]]
    assert await tickets_sold(client, scene.event_id) == 0
    await booked(client, scene.attendee, scene.event_id, quantity=4)
    await assert_ledger_consistent(app)


async def test_a_quantity_above_fifty_is_always_rejected(client: AsyncClient) -> None:
    scene = await published_scene(client, max_tickets_per_booking=50, capacity=500)
    problem = assert_problem(
        await book(client, scene.attendee, scene.event_id, quantity=51), 422, "validation_error"
    )
    assert ["body", "quantity"] in [error["loc"] for error in problem["errors"]]


async def test_the_ticket_type_is_required_when_the_event_has_several(client: AsyncClient) -> None:
    scene = await published_scene(client, ticket_types=TWO_TYPES)
    problem = assert_problem(await book(client, scene.attendee, scene.event_id), 422, "validation_error")
    assert ["body", "ticket_type_id"] in [error["loc"] for error in problem["errors"]]
    assert await tickets_sold(client, scene.event_id) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "cancelled"),
        ("user_id", "00000000-0000-4000-8000-000000000000"),
        ("unit_price", "0.01"),
        ("total_price", "0.00"),
        ("code", "AAAA-BBBB"),
    ],
)
async def test_fields_a_client_may_not_set_are_rejected(client: AsyncClient, field: str, value: Any) -> None:
    scene = await published_scene(client)
    problem = assert_problem(
        await book(client, scene.attendee, scene.event_id, **{field: value}), 422, "validation_error"
    )
    assert ["body", field] in [error["loc"] for error in problem["errors"]]
    assert await tickets_sold(client, scene.event_id) == 0


async def test_a_missing_event_id_is_rejected(client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await client.post(BOOKINGS, json={"quantity": 1}, headers=attendee.headers)
    problem = assert_problem(response, 422, "validation_error")
    assert ["body", "event_id"] in [error["loc"] for error in problem["errors"]]


async def test_an_event_id_that_is_not_a_uuid_is_rejected(client: AsyncClient) -> None:
    attendee = await create_account(client)
    problem = assert_problem(await book(client, attendee, "not-a-uuid"), 422, "validation_error")
    assert ["body", "event_id"] in [error["loc"] for error in problem["errors"]]


async def test_an_invalid_holder_email_is_rejected(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await book(client, scene.attendee, scene.event_id, holder_email="not-an-email")
    problem = assert_problem(response, 422, "validation_error")
    assert ["body", "holder_email"] in [error["loc"] for error in problem["errors"]]


async def test_the_ticket_type_may_be_named_when_the_event_has_only_one(client: AsyncClient) -> None:
    scene = await published_scene(client)
    only = scene.event["ticket_types"][0]["id"]
    booking = await booked(client, scene.attendee, scene.event_id, ticket_type_id=only)
    assert booking["ticket_type_id"] == only


async def test_timestamps_of_a_booking_are_in_utc(client: AsyncClient) -> None:
    scene = await published_scene(client, starts_at="2031-07-01T20:00:00+02:00", timezone="Europe/Berlin")
    booking = await booked(client, scene.attendee, scene.event_id)
    for moment in (booking["created_at"], booking["updated_at"], booking["event"]["starts_at"]):
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0), moment
    assert datetime.fromisoformat(booking["event"]["starts_at"]) == datetime(2031, 7, 1, 18, tzinfo=UTC)


async def test_an_event_without_an_end_has_a_null_end_in_the_summary(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert booking["event"]["ends_at"] is None


async def test_a_logged_out_token_cannot_book(client: AsyncClient) -> None:
    scene = await published_scene(client)
    logout = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": scene.attendee.refresh_token},
        headers=scene.attendee.headers,
    )
    assert logout.status_code == 204
    response = await book(client, scene.attendee, scene.event_id)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await tickets_sold(client, scene.event_id) == 0


async def test_an_overlong_holder_name_is_rejected(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await book(client, scene.attendee, scene.event_id, holder_name="x" * 201)
    problem = assert_problem(response, 422, "validation_error")
    assert ["body", "holder_name"] in [error["loc"] for error in problem["errors"]]
