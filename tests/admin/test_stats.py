"""GET /admin/stats: platform-wide totals against figures worked out by hand."""

from fastapi import FastAPI
from httpx import AsyncClient

from tests.admin.helpers import platform_stats, updated_user
from tests.factories import (
    book,
    create_account,
    create_admin,
    create_event,
    create_published_event,
)

PRICED = [
    {"name": "Standard", "price": "12.50", "capacity": 10},
    {"name": "VIP", "price": "40.00", "capacity": 5},
]


async def test_a_platform_with_only_its_admin_has_zero_everywhere(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    assert await platform_stats(client, admin) == {
        "users": {"attendee": 0, "organizer": 0, "admin": 1},
        "events": {"draft": 0, "published": 0, "cancelled": 0},
        "bookings_confirmed": 0,
        "bookings_cancelled": 0,
        "tickets_sold": 0,
        "revenue": [],
    }


async def test_the_totals_match_a_known_platform(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    alice = await create_account(client)
    bob = await create_account(client)
    await create_event(client, organizer)
    concert = await create_published_event(client, organizer, ticket_types=PRICED)
    standard, vip = (t["id"] for t in concert["ticket_types"])
    free = await create_published_event(client, organizer, capacity=50)
    doomed = await create_published_event(client, organizer, ticket_types=PRICED)

    # Confirmed: 2 x 12.50 + 1 x 40.00 + 4 x 0.00 = 65.00 for 7 tickets.
    assert (await book(client, alice, concert["id"], ticket_type_id=standard, quantity=2)).status_code == 201
    assert (await book(client, bob, concert["id"], ticket_type_id=vip, quantity=1)).status_code == 201
    assert (await book(client, bob, free["id"], quantity=4)).status_code == 201
    # Cancelled by its holder: 3 x 0.00.
    cancelled = (await book(client, alice, free["id"], quantity=3)).json()
    response = await client.delete(f"/api/v1/bookings/{cancelled['id']}", headers=alice.headers)
    assert response.status_code == 200, response.text
    # Cancelled with its event: 2 x 40.00.
    doomed_vip = doomed["ticket_types"][1]["id"]
    assert (await book(client, alice, doomed["id"], ticket_type_id=doomed_vip, quantity=2)).status_code == 201
    response = await client.post(f"/api/v1/events/{doomed['id']}/cancel", headers=organizer.headers, json={})
    assert response.status_code == 200, response.text

    assert await platform_stats(client, admin) == {
        "users": {"attendee": 2, "organizer": 1, "admin": 1},
        "events": {"draft": 1, "published": 2, "cancelled": 1},
        "bookings_confirmed": 3,
        "bookings_cancelled": 2,
        "tickets_sold": 7,
        "revenue": [{"currency": "EUR", "revenue": "65.00"}],
    }


async def test_a_quantity_change_moves_tickets_and_revenue(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=PRICED[:1])
    booking = (await book(client, attendee, event["id"], quantity=4)).json()
    response = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"quantity": 1}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text

    stats = await platform_stats(client, admin)
    assert (stats["bookings_confirmed"], stats["tickets_sold"], stats["revenue"]) == (
        1,
        1,
        [{"currency": "EUR", "revenue": "12.50"}],
    )


async def test_disabled_users_still_count_under_their_role(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    await updated_user(client, admin, organizer.id, is_active=False)
    assert (await platform_stats(client, admin))["users"] == {"attendee": 0, "organizer": 1, "admin": 1}


async def test_a_role_change_moves_the_user_between_counts(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, role="admin")
    assert (await platform_stats(client, admin))["users"] == {"attendee": 0, "organizer": 0, "admin": 2}


async def test_revenue_is_reported_per_currency_never_added_up(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    buyer = await create_account(client)
    for currency, price in (("USD", "10.00"), ("EUR", "12.50"), ("JPY", "1500.00"), ("EUR", "7.50")):
        event = await create_published_event(
            client,
            organizer,
            currency=currency,
            ticket_types=[{"name": "Seat", "price": price, "capacity": 5}],
        )
        assert (await book(client, buyer, event["id"], quantity=2)).status_code == 201

    assert (await platform_stats(client, admin))["revenue"] == [
        {"currency": "EUR", "revenue": "40.00"},
        {"currency": "JPY", "revenue": "3000.00"},
        {"currency": "USD", "revenue": "20.00"},
    ]
