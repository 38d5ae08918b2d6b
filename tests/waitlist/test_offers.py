"""Returned tickets go to the people in line, first come, first served, as offers: holds for the
event's ``waitlist_offer_hours`` (API.md, "Waiting list"; docs/architecture.md, "Waiting list")."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from boxoffice.worker import expire_holds_now, offer_free_tickets_now
from tests.bookings.helpers import (
    booked,
    cancel_booking,
    change_booking,
    confirm,
    held,
    hold,
    hold_url,
    many_accounts,
    published_scene,
    run_out,
    start_event,
)
from tests.factories import assert_ledger_consistent, assert_problem, book, create_account, set_event_times
from tests.waitlist.helpers import (
    active_offers,
    join,
    joined,
    leave,
    line_figures,
    my_entries,
    my_entry,
    sold_out,
)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_cancellation_offers_the_ticket_to_the_head_of_the_line_who_books_it(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=2, waitlist_offer_hours=6)
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)

    before = datetime.now(UTC)
    assert (await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])).status_code == 200

    offer = await my_entry(client, first)
    assert (offer["status"], offer["position"]) == ("offered", None)
    hold = offer["hold"]
    assert (hold["status"], hold["quantity"], hold["booking_id"]) == ("active", 1, None)
    assert (
        before + timedelta(hours=6) <= _instant(hold["expires_at"]) <= datetime.now(UTC) + timedelta(hours=6)
    )
    assert (await my_entry(client, second))["position"] == 1
    # Offered, not on sale: one held, one still waiting, nothing for the public.
    assert await line_figures(client, scene.event_id) == [(1, 1, 1, 0)]
    assert_problem(await book(client, await create_account(client), scene.event_id), 409, "sold_out")

    booking = await confirm(client, first, hold["id"])
    assert booking.status_code == 201, booking.text
    entry = await my_entry(client, first)
    assert (entry["status"], entry["hold"]["status"], entry["hold"]["booking_id"]) == (
        "booked",
        "confirmed",
        booking.json()["id"],
    )
    assert await line_figures(client, scene.event_id) == [(2, 0, 1, 0)]
    await assert_ledger_consistent(app)


async def test_the_line_is_served_first_come_first_served(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=3)
    people = await many_accounts(client, 3)
    for person in people:
        await joined(client, person, scene.event_id)

    for served, (buyer, booking) in enumerate(zip(scene.buyers, scene.bookings, strict=True), start=1):
        await cancel_booking(client, buyer, booking["id"])
        statuses = [(await my_entry(client, person))["status"] for person in people]
        assert statuses == ["offered"] * served + ["waiting"] * (3 - served)
    assert await line_figures(client, scene.event_id) == [(0, 3, 0, 0)]
    await assert_ledger_consistent(app)


async def test_a_head_wanting_more_than_returned_keeps_its_place_and_nobody_skips_ahead(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=2)
    head, behind = await many_accounts(client, 2)
    await joined(client, head, scene.event_id, quantity=2)
    await joined(client, behind, scene.event_id, quantity=1)

    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    # One ticket came back, the head wants two: it is set aside for the line; the person behind,
    # who wants one, does not skip ahead, and neither they nor anyone else may buy it.
    assert [(await my_entry(client, p))["status"] for p in (head, behind)] == ["waiting", "waiting"]
    assert await line_figures(client, scene.event_id) == [(1, 0, 2, 0)]
    assert_problem(await book(client, await create_account(client), scene.event_id), 409, "sold_out")
    assert_problem(await hold(client, await create_account(client), scene.event_id), 409, "sold_out")
    assert_problem(await book(client, behind, scene.event_id), 409, "sold_out")
    assert_problem(
        await change_booking(client, scene.buyers[1], scene.bookings[1]["id"], quantity=2), 409, "sold_out"
    )

    await cancel_booking(client, scene.buyers[1], scene.bookings[1]["id"])
    offer = await my_entry(client, head)
    assert (offer["status"], offer["hold"]["quantity"]) == ("offered", 2)
    assert (await my_entry(client, behind))["position"] == 1
    assert await line_figures(client, scene.event_id) == [(0, 2, 1, 0)]
    await assert_ledger_consistent(app)


async def test_a_head_that_leaves_lets_the_set_aside_tickets_go_to_the_next(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=1)
    head, behind = await many_accounts(client, 2)
    mine = await joined(client, head, scene.event_id, quantity=2)
    await joined(client, behind, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    assert (await my_entry(client, behind))["status"] == "waiting"

    assert (await leave(client, head, mine["id"])).status_code == 204
    assert (await my_entry(client, behind))["status"] == "offered"
    assert await line_figures(client, scene.event_id) == [(0, 1, 0, 0)]
    await assert_ledger_consistent(app)


async def test_a_lowered_quantity_returns_tickets_to_the_line(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=3)
    big = await booked(client, scene.attendee, scene.event_id, quantity=3)
    waiting = await create_account(client)
    await joined(client, waiting, scene.event_id, quantity=2)

    assert (await change_booking(client, scene.attendee, big["id"], quantity=1)).status_code == 200
    assert (await my_entry(client, waiting))["hold"]["quantity"] == 2
    assert await line_figures(client, scene.event_id) == [(1, 2, 0, 0)]
    await assert_ledger_consistent(app)


async def test_released_and_expired_holds_return_their_tickets_to_the_line(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=2)
    checkout = await held(client, scene.attendee, scene.event_id)
    other = await create_account(client)
    running_out = await held(client, other, scene.event_id)
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)

    assert (await client.delete(hold_url(checkout["id"]), headers=scene.attendee.headers)).status_code == 204
    assert (await my_entry(client, first))["status"] == "offered"

    await run_out(app, running_out["id"])
    # A sale does not expire a hold whose tickets belong to the line; the worker's sweep does, and
    # hands them over in the same transaction.
    assert_problem(await book(client, await create_account(client), scene.event_id), 409, "sold_out")
    assert (await my_entry(client, second))["status"] == "waiting"
    assert await expire_holds_now(app.state.database) == 1
    assert (await my_entry(client, second))["status"] == "offered"
    assert await line_figures(client, scene.event_id) == [(0, 2, 0, 0)]
    await assert_ledger_consistent(app)


async def test_a_raised_capacity_goes_to_the_line_first(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    people = await many_accounts(client, 2)
    for person in people:
        await joined(client, person, scene.event_id)
    ticket_type = scene.event["ticket_types"][0]["id"]
    url = f"/api/v1/events/{scene.event_id}/ticket-types/{ticket_type}"

    raised = await client.patch(url, json={"capacity": 4}, headers=scene.organizer.headers)
    assert raised.status_code == 200, raised.text
    assert (raised.json()["held"], raised.json()["waiting"], raised.json()["available"]) == (2, 0, 1)
    assert [(await my_entry(client, p))["status"] for p in people] == ["offered", "offered"]
    # Nobody waits any more: the last new ticket is on sale.
    assert (await book(client, await create_account(client), scene.event_id)).status_code == 201
    await assert_ledger_consistent(app)


async def test_an_expired_offer_passes_to_the_next_in_line(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    offer = (await my_entry(client, first))["hold"]

    await run_out(app, offer["id"])
    assert (await my_entry(client, first))["hold"]["status"] == "expired"  # reads expired at once
    assert await expire_holds_now(app.state.database) == 1

    assert (await my_entry(client, first))["status"] == "expired"
    assert (await my_entry(client, second))["status"] == "offered"
    assert_problem(await confirm(client, first, offer["id"]), 409, "hold_expired")
    assert await line_figures(client, scene.event_id) == [(0, 1, 0, 0)]
    await assert_ledger_consistent(app)


async def test_a_declined_offer_passes_to_the_next_in_line(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=2)
    first, second, third = await many_accounts(client, 3)
    entry = await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)
    await joined(client, third, scene.event_id)
    for buyer, booking in zip(scene.buyers, scene.bookings, strict=True):
        await cancel_booking(client, buyer, booking["id"])

    # Declined by leaving the list ...
    assert (await leave(client, first, entry["id"])).status_code == 204
    mine = await my_entry(client, first)
    assert (mine["status"], mine["hold"]["status"]) == ("left", "released")
    assert (await my_entry(client, third))["status"] == "offered"
    # ... or by releasing the offer's hold.
    offer = (await my_entry(client, second))["hold"]
    assert (await client.delete(hold_url(offer["id"]), headers=second.headers)).status_code == 204
    assert (await my_entry(client, second))["status"] == "left"
    # Nobody waits: the ticket is on sale again.
    assert await line_figures(client, scene.event_id) == [(0, 1, 0, 1)]
    assert (await book(client, await create_account(client), scene.event_id)).status_code == 201
    await assert_ledger_consistent(app)


async def test_when_the_line_is_empty_returned_tickets_are_on_sale_again(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=2)
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    await cancel_booking(client, scene.buyers[1], scene.bookings[1]["id"])
    assert await line_figures(client, scene.event_id) == [(0, 1, 0, 1)]
    assert (await book(client, scene.buyers[0], scene.event_id)).status_code == 201
    await assert_ledger_consistent(app)


async def test_someone_who_booked_meanwhile_leaves_the_line_and_the_next_is_served(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(
        client,
        ticket_types=[
            {"name": "Standing", "price": "10", "capacity": 1},
            {"name": "Seated", "price": "20", "capacity": 2},
        ],
    )
    standing, seated = (t["id"] for t in scene.event["ticket_types"])
    standing_booking = await booked(client, scene.attendee, scene.event_id, ticket_type_id=standing)
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id, ticket_type_id=standing)
    await joined(client, second, scene.event_id, ticket_type_id=standing)
    await booked(client, first, scene.event_id, ticket_type_id=seated)  # changes their mind

    await cancel_booking(client, scene.attendee, standing_booking["id"])
    assert (await my_entry(client, first))["status"] == "left"
    assert (await my_entry(client, second))["status"] == "offered"
    assert await line_figures(client, scene.event_id) == [(0, 1, 0, 0), (1, 0, 0, 1)]
    await assert_ledger_consistent(app)


async def test_someone_holding_a_checkout_is_passed_over_once_and_keeps_their_place(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(
        client,
        ticket_types=[
            {"name": "Standing", "price": "10", "capacity": 2},
            {"name": "Seated", "price": "20", "capacity": 2},
        ],
    )
    standing, seated = (t["id"] for t in scene.event["ticket_types"])
    buyers = await many_accounts(client, 2)
    bookings = [await booked(client, buyer, scene.event_id, ticket_type_id=standing) for buyer in buyers]
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id, ticket_type_id=standing)
    await joined(client, second, scene.event_id, ticket_type_id=standing)
    checkout = await held(client, first, scene.event_id, ticket_type_id=seated)

    await cancel_booking(client, buyers[0], bookings[0]["id"])
    assert [(await my_entry(client, p))["status"] for p in (first, second)] == ["waiting", "offered"]
    assert (await my_entry(client, first))["position"] == 1

    await client.delete(hold_url(checkout["id"]), headers=first.headers)
    await cancel_booking(client, buyers[1], bookings[1]["id"])
    assert (await my_entry(client, first))["status"] == "offered"
    await assert_ledger_consistent(app)


async def test_the_worker_offers_free_tickets_a_line_was_not_offered(
    app: FastAPI, client: AsyncClient
) -> None:
    """A line can have free tickets nobody was offered, e.g. when sales reopen after they were
    returned while closed: the worker's sweep offers them."""
    scene = await sold_out(client, capacity=1)
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    await set_event_times(app, scene.event_id, sales_end_at=datetime.now(UTC) - timedelta(seconds=1))
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    assert (await my_entry(client, person))["status"] == "waiting"  # sales are closed: kept for the line
    assert await offer_free_tickets_now(app.state.database) == 0

    await set_event_times(app, scene.event_id, sales_end_at=datetime.now(UTC) + timedelta(days=1))
    assert await offer_free_tickets_now(app.state.database) == 1
    assert (await my_entry(client, person))["status"] == "offered"
    assert await offer_free_tickets_now(app.state.database) == 0
    await assert_ledger_consistent(app)


async def test_event_cancellation_empties_the_line(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    first, second = await many_accounts(client, 2)
    await joined(client, first, scene.event_id)
    await joined(client, second, scene.event_id)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])

    cancelled = await client.post(
        f"/api/v1/events/{scene.event_id}/cancel", json={}, headers=scene.organizer.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    for person in (first, second):
        assert (await my_entry(client, person))["status"] == "expired"
    assert (await my_entry(client, first))["hold"]["status"] == "released"
    assert await line_figures(client, scene.event_id) == [(0, 0, 0, 1)]
    assert await active_offers(app) == []
    assert await my_entries(client, first, status="waiting") == []
    await assert_ledger_consistent(app)


async def test_a_waiting_person_booking_through_the_public_path_is_refused(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await sold_out(client, capacity=1)
    person = await create_account(client)
    await joined(client, person, scene.event_id, quantity=2)
    await cancel_booking(client, scene.buyers[0], scene.bookings[0]["id"])
    assert_problem(await book(client, person, scene.event_id), 409, "sold_out")
    assert_problem(await join(client, person, scene.event_id), 409, "already_waiting")
    await assert_ledger_consistent(app)


async def test_once_the_event_has_started_its_line_ends(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    await start_event(app, scene.event_id)

    assert await offer_free_tickets_now(app.state.database) == 0
    entry = await my_entry(client, person)
    assert (entry["status"], entry["position"]) == ("expired", None)
    assert await line_figures(client, scene.event_id) == [(1, 0, 0, 0)]
    await assert_ledger_consistent(app)


async def test_a_ticket_type_with_people_waiting_cannot_be_deleted(client: AsyncClient) -> None:
    scene = await published_scene(
        client,
        ticket_types=[
            {"name": "Standing", "price": "10", "capacity": 1},
            {"name": "Seated", "price": "20", "capacity": 1},
        ],
    )
    standing = scene.event["ticket_types"][0]["id"]
    await held(client, scene.attendee, scene.event_id, ticket_type_id=standing)
    await joined(client, await create_account(client), scene.event_id, ticket_type_id=standing)
    url = f"/api/v1/events/{scene.event_id}/ticket-types/{standing}"
    assert_problem(await client.delete(url, headers=scene.organizer.headers), 409, "has_sales")
