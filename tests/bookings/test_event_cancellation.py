"""Cancelling an event cancels its confirmed bookings and returns every seat."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.bookings.helpers import (
    Scene,
    booked,
    cancel_booking,
    change_booking,
    many_accounts,
    my_bookings,
    published_scene,
    read_booking,
    read_event,
)
from tests.factories import Account, assert_ledger_consistent, assert_problem, create_admin

TYPES = [
    {"name": "Standing", "price": "15", "capacity": 30},
    {"name": "Seated", "price": "30", "capacity": 10},
]


async def cancel_event(client: AsyncClient, account: Account, event_id: str, **body: Any) -> Response:
    return await client.post(f"/api/v1/events/{event_id}/cancel", json=body, headers=account.headers)


async def scene_with_bookings(client: AsyncClient) -> tuple[Scene, list[Account], list[dict[str, Any]]]:
    """An event with two ticket types and three bookings of both types."""
    scene = await published_scene(client, ticket_types=TYPES)
    standing, seated = (t["id"] for t in scene.event["ticket_types"])
    holders = [scene.attendee, *await many_accounts(client, 2)]
    bookings = [
        await booked(client, holders[0], scene.event_id, ticket_type_id=standing, quantity=3),
        await booked(client, holders[1], scene.event_id, ticket_type_id=seated, quantity=2),
        await booked(client, holders[2], scene.event_id, ticket_type_id=standing, quantity=1),
    ]
    return scene, holders, bookings


async def test_cancelling_an_event_cancels_every_confirmed_booking(app: FastAPI, client: AsyncClient) -> None:
    scene, holders, bookings = await scene_with_bookings(client)
    response = await cancel_event(client, scene.organizer, scene.event_id, reason="The band is ill")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    for holder, booking in zip(holders, bookings, strict=True):
        reread = (await read_booking(client, holder, booking["id"])).json()
        assert reread["status"] == "cancelled"
        assert reread["cancelled_at"]
        assert "The band is ill" in reread["cancellation_reason"]
        assert reread["event"]["status"] == "cancelled"
    await assert_ledger_consistent(app)


async def test_cancelling_an_event_returns_every_seat(app: FastAPI, client: AsyncClient) -> None:
    scene, _, _ = await scene_with_bookings(client)
    assert (await read_event(client, scene.event_id))["tickets_sold"] == 6
    await cancel_event(client, scene.organizer, scene.event_id, reason="Venue flooded")
    event = await read_event(client, scene.event_id)
    assert event["tickets_sold"] == 0
    assert event["tickets_available"] == 40
    assert [t["sold"] for t in event["ticket_types"]] == [0, 0]
    await assert_ledger_consistent(app)


async def test_an_event_cancelled_without_a_reason_still_gives_its_bookings_one(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await client.post(f"/api/v1/events/{scene.event_id}/cancel", headers=scene.organizer.headers)
    assert response.status_code == 200, response.text
    reread = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert reread["status"] == "cancelled"
    assert reread["cancellation_reason"]
    await assert_ledger_consistent(app)


async def test_an_admin_cancelling_an_event_cancels_its_bookings(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    admin = await create_admin(app, client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    assert (await cancel_event(client, admin, scene.event_id, reason="Policy")).status_code == 200
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["status"] == "cancelled"
    assert (await read_event(client, scene.event_id))["tickets_sold"] == 0
    await assert_ledger_consistent(app)


async def test_a_booking_cancelled_earlier_keeps_its_own_reason(app: FastAPI, client: AsyncClient) -> None:
    scene, holders, bookings = await scene_with_bookings(client)
    earlier = (await cancel_booking(client, holders[1], bookings[1]["id"])).json()
    await cancel_event(client, scene.organizer, scene.event_id, reason="The band is ill")
    reread = (await read_booking(client, holders[1], bookings[1]["id"])).json()
    assert reread["cancellation_reason"] == earlier["cancellation_reason"]
    assert reread["cancelled_at"] == earlier["cancelled_at"]
    assert "The band is ill" not in reread["cancellation_reason"]
    await assert_ledger_consistent(app)


async def test_holders_see_their_cancelled_bookings_in_their_list(client: AsyncClient) -> None:
    scene, holders, _ = await scene_with_bookings(client)
    await cancel_event(client, scene.organizer, scene.event_id, reason="Storm")
    page = (await my_bookings(client, holders[0], status="cancelled")).json()
    assert page["total"] == 1
    assert page["items"][0]["event"]["status"] == "cancelled"
    assert (await my_bookings(client, holders[0], status="confirmed")).json()["total"] == 0


async def test_bookings_of_a_cancelled_event_cannot_be_changed_or_cancelled(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    await cancel_event(client, scene.organizer, scene.event_id, reason="Storm")
    response = await change_booking(client, scene.attendee, booking["id"], quantity=2)
    assert_problem(response, 409, "already_cancelled")
    assert_problem(await cancel_booking(client, scene.attendee, booking["id"]), 409, "already_cancelled")


async def test_the_stats_count_the_cancelled_bookings(client: AsyncClient) -> None:
    scene, _, _ = await scene_with_bookings(client)
    await cancel_event(client, scene.organizer, scene.event_id, reason="Storm")
    stats = (
        await client.get(f"/api/v1/events/{scene.event_id}/stats", headers=scene.organizer.headers)
    ).json()
    assert (stats["bookings_confirmed"], stats["bookings_cancelled"], stats["tickets_sold"]) == (0, 3, 0)


async def test_deleting_an_event_with_bookings_cancels_them(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    deleted = await client.delete(f"/api/v1/events/{scene.event_id}", headers=scene.organizer.headers)
    assert deleted.status_code == 204, deleted.text
    reread = (await read_booking(client, scene.attendee, booking["id"])).json()
    assert reread["status"] == "cancelled"
    assert reread["cancellation_reason"]
    await assert_ledger_consistent(app)
