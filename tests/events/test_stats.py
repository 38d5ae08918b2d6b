"""GET /events/{id}/stats: sales figures against hand-computed expectations."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import cancel, event_url, make_cast
from tests.factories import (
    Account,
    assert_problem,
    book,
    create_account,
    create_event,
    create_published_event,
)

PRICED_TYPES = [
    {"name": "Standing", "price": "12.50", "capacity": 100},
    {"name": "Seated", "price": "39.99", "capacity": 10},
    {"name": "Guest list", "price": "0", "capacity": 5},
]


async def stats_of(client: AsyncClient, account: Account, event_id: str) -> dict[str, Any]:
    response = await client.get(event_url(event_id, "stats"), headers=account.headers)
    assert response.status_code == 200, response.text
    stats: dict[str, Any] = response.json()
    return stats


async def booked(client: AsyncClient, account: Account, event_id: str, **body: Any) -> dict[str, Any]:
    response = await book(client, account, event_id, **body)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()
    return booking


async def test_stats_of_an_event_without_bookings_are_zero(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, ticket_types=PRICED_TYPES)
    stats = await stats_of(client, organizer, event["id"])
    assert set(stats) == {
        "capacity",
        "tickets_sold",
        "tickets_held",
        "tickets_available",
        "bookings_confirmed",
        "bookings_cancelled",
        "checked_in",
        "revenue",
        "ticket_types",
    }
    assert (stats["capacity"], stats["tickets_sold"], stats["tickets_available"]) == (115, 0, 115)
    assert (stats["bookings_confirmed"], stats["bookings_cancelled"], stats["checked_in"]) == (0, 0, 0)
    assert stats["revenue"] == [{"currency": "EUR", "revenue": "0.00"}]
    assert [
        (t["id"], t["name"], t["capacity"], t["sold"], t["available"], t["revenue"])
        for t in stats["ticket_types"]
    ] == [(t["id"], t["name"], t["capacity"], 0, t["capacity"], "0.00") for t in event["ticket_types"]]


async def test_stats_of_a_draft_are_zero_for_its_organizer(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer, capacity=40)
    stats = await stats_of(client, organizer, draft["id"])
    assert (stats["capacity"], stats["tickets_sold"], stats["tickets_available"], stats["revenue"]) == (
        40,
        0,
        40,
        [{"currency": "EUR", "revenue": "0.00"}],
    )
    assert stats["ticket_types"][0]["name"] == "General admission"


async def test_stats_add_up_confirmed_bookings_and_count_cancelled_ones(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    ann, ben, cat, dan = [await create_account(client) for _ in range(4)]
    event = await create_published_event(client, organizer, ticket_types=PRICED_TYPES)
    standing, seated, guest = (t["id"] for t in event["ticket_types"])
    await booked(client, ann, event["id"], ticket_type_id=standing, quantity=3)  # 37.50
    await booked(client, ben, event["id"], ticket_type_id=seated, quantity=2)  # 79.98
    await booked(client, cat, event["id"], ticket_type_id=guest, quantity=1)  # 0.00
    dropped = await booked(client, dan, event["id"], ticket_type_id=seated, quantity=4)  # cancelled
    await client.delete(f"/api/v1/bookings/{dropped['id']}", headers=dan.headers)
    stats = await stats_of(client, organizer, event["id"])
    assert (stats["capacity"], stats["tickets_sold"], stats["tickets_available"]) == (115, 6, 109)
    assert (stats["bookings_confirmed"], stats["bookings_cancelled"]) == (3, 1)
    assert stats["revenue"] == [{"currency": "EUR", "revenue": "117.48"}]
    assert [(t["name"], t["sold"], t["available"], t["revenue"]) for t in stats["ticket_types"]] == [
        ("Standing", 3, 97, "37.50"),
        ("Seated", 2, 8, "79.98"),
        ("Guest list", 1, 4, "0.00"),
    ]


async def test_a_quantity_change_is_reflected_in_revenue(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=PRICED_TYPES[:1])
    booking = await booked(client, attendee, event["id"], quantity=2)
    changed = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"quantity": 5}, headers=attendee.headers
    )
    assert changed.status_code == 200, changed.text
    stats = await stats_of(client, organizer, event["id"])
    assert (stats["tickets_sold"], stats["bookings_confirmed"], stats["revenue"]) == (
        5,
        1,
        [{"currency": "EUR", "revenue": "62.50"}],
    )


async def test_revenue_keeps_the_price_at_booking_time(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=PRICED_TYPES[:1])
    standing = event["ticket_types"][0]["id"]
    await booked(client, alice, event["id"], quantity=2)  # 2 x 12.50
    repriced = await client.patch(
        event_url(event["id"], "ticket-types", standing), json={"price": "20.10"}, headers=organizer.headers
    )
    assert repriced.status_code == 200, repriced.text
    await booked(client, bob, event["id"], quantity=1)  # 1 x 20.10
    stats = await stats_of(client, organizer, event["id"])
    assert stats["revenue"] == [{"currency": "EUR", "revenue": "45.10"}]
    assert stats["ticket_types"][0]["revenue"] == "45.10"


async def test_cents_add_up_exactly(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    buyers = [await create_account(client) for _ in range(3)]
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "Dime", "price": "0.10", "capacity": 50}]
    )
    for buyer in buyers:
        await booked(client, buyer, event["id"], quantity=1)
    stats = await stats_of(client, organizer, event["id"])
    assert stats["revenue"] == [{"currency": "EUR", "revenue": "0.30"}]


async def test_stats_after_the_event_is_cancelled(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=PRICED_TYPES)
    await booked(client, alice, event["id"], ticket_type_id=event["ticket_types"][0]["id"], quantity=2)
    await booked(client, bob, event["id"], ticket_type_id=event["ticket_types"][1]["id"], quantity=1)
    await cancel(client, organizer, event["id"])
    stats = await stats_of(client, organizer, event["id"])
    assert (stats["tickets_sold"], stats["tickets_available"]) == (0, 115)
    assert (stats["bookings_confirmed"], stats["bookings_cancelled"]) == (0, 2)
    assert stats["revenue"] == [{"currency": "EUR", "revenue": "0.00"}]
    assert [t["sold"] for t in stats["ticket_types"]] == [0, 0, 0]


async def test_an_admin_sees_the_same_stats_as_the_owner(app: FastAPI, client: AsyncClient) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner, ticket_types=PRICED_TYPES)
    await booked(
        client, cast.attendee, event["id"], ticket_type_id=event["ticket_types"][1]["id"], quantity=3
    )
    owner_stats = await stats_of(client, cast.owner, event["id"])
    assert owner_stats == await stats_of(client, cast.admin, event["id"])
    assert owner_stats["revenue"] == [{"currency": "EUR", "revenue": "119.97"}]


async def test_stats_of_an_unknown_event_are_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.get(
        event_url("00000000-0000-0000-0000-000000000000", "stats"), headers=organizer.headers
    )
    assert_problem(response, 404, "not_found")
