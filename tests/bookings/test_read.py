"""GET /bookings/{id} (who may see a booking) and GET /bookings (the caller's own, filtered, paged)."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import (
    BOOKINGS,
    booked,
    booking_url,
    cancel_booking,
    my_bookings,
    published_scene,
    read_booking,
)
from tests.factories import (
    assert_problem,
    create_account,
    create_admin,
    create_published_event,
    in_days,
    set_event_times,
)


async def test_the_holder_reads_their_booking(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id, quantity=2)
    response = await read_booking(client, scene.attendee, booking["id"])
    assert response.status_code == 200
    assert response.json() == booking


async def test_the_event_owner_reads_a_booking_of_their_event(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await read_booking(client, scene.organizer, booking["id"])
    assert response.status_code == 200
    assert response.json()["id"] == booking["id"]


async def test_an_admin_reads_any_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    admin = await create_admin(app, client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await read_booking(client, admin, booking["id"])
    assert response.status_code == 200
    assert response.json()["id"] == booking["id"]


@pytest.mark.parametrize("role", ["attendee", "organizer"])
async def test_anyone_else_gets_not_found_for_a_booking(client: AsyncClient, role: str) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    stranger = await create_account(client, role=role)
    assert_problem(await read_booking(client, stranger, booking["id"]), 404, "not_found")


async def test_an_unknown_booking_is_not_found(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await read_booking(client, attendee, str(uuid.uuid4())), 404, "not_found")


async def test_reading_a_booking_needs_a_token(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    response = await client.get(booking_url(booking["id"]))
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_cancelled_booking_can_still_be_read(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    await cancel_booking(client, scene.attendee, booking["id"])
    response = await read_booking(client, scene.attendee, booking["id"])
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


async def test_my_bookings_lists_only_the_callers_own(client: AsyncClient) -> None:
    scene = await published_scene(client)
    neighbour = await create_account(client)
    mine = await booked(client, scene.attendee, scene.event_id)
    await booked(client, neighbour, scene.event_id)
    page = (await my_bookings(client, scene.attendee)).json()
    assert [item["id"] for item in page["items"]] == [mine["id"]]
    assert page["total"] == 1
    assert page["items"][0]["user_id"] == scene.attendee.id


async def test_an_organizer_does_not_see_their_events_bookings_in_their_own_list(client: AsyncClient) -> None:
    scene = await published_scene(client)
    await booked(client, scene.attendee, scene.event_id)
    page = (await my_bookings(client, scene.organizer)).json()
    assert page["items"] == []
    assert page["total"] == 0


async def test_my_bookings_is_empty_for_a_new_account(client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await my_bookings(client, attendee)
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_my_bookings_needs_a_token(client: AsyncClient) -> None:
    response = await client.get(BOOKINGS)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_my_bookings_filters_by_status(client: AsyncClient) -> None:
    scene = await published_scene(client)
    first = await booked(client, scene.attendee, scene.event_id)
    await cancel_booking(client, scene.attendee, first["id"])
    second = await booked(client, scene.attendee, scene.event_id)
    cancelled = (await my_bookings(client, scene.attendee, status="cancelled")).json()
    confirmed = (await my_bookings(client, scene.attendee, status="confirmed")).json()
    assert [item["id"] for item in cancelled["items"]] == [first["id"]]
    assert cancelled["total"] == 1
    assert [item["id"] for item in confirmed["items"]] == [second["id"]]
    assert confirmed["total"] == 1
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 2


async def test_an_unknown_status_filter_is_rejected(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await my_bookings(client, attendee, status="pending"), 422, "validation_error")


async def test_my_bookings_filters_by_event(client: AsyncClient) -> None:
    scene = await published_scene(client)
    other = await create_published_event(client, scene.organizer, title="Another night")
    here = await booked(client, scene.attendee, scene.event_id)
    await booked(client, scene.attendee, other["id"])
    page = (await my_bookings(client, scene.attendee, event_id=scene.event_id)).json()
    assert [item["id"] for item in page["items"]] == [here["id"]]
    assert page["total"] == 1


async def test_my_bookings_can_leave_out_past_events(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client)
    soon = await create_published_event(client, scene.organizer, title="Tomorrow", starts_at=in_days(1))
    upcoming = await booked(client, scene.attendee, scene.event_id)
    past = await booked(client, scene.attendee, soon["id"])
    await set_event_times(app, soon["id"], starts_at=datetime.now(UTC) - timedelta(days=1))
    only_upcoming = (await my_bookings(client, scene.attendee, upcoming_only="true")).json()
    assert [item["id"] for item in only_upcoming["items"]] == [upcoming["id"]]
    assert only_upcoming["total"] == 1
    everything = (await my_bookings(client, scene.attendee, upcoming_only="false")).json()
    assert {item["id"] for item in everything["items"]} == {upcoming["id"], past["id"]}
    assert everything["total"] == 2


async def test_my_bookings_are_paginated(client: AsyncClient) -> None:
    scene = await published_scene(client)
    ids = []
    for _ in range(5):
        booking = await booked(client, scene.attendee, scene.event_id)
        ids.append(booking["id"])
        await cancel_booking(client, scene.attendee, booking["id"])
    pages = [
        (await my_bookings(client, scene.attendee, limit=2, offset=offset)).json() for offset in (0, 2, 4)
    ]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert all(page["total"] == 5 for page in pages)
    assert [(page["limit"], page["offset"]) for page in pages] == [(2, 0), (2, 2), (2, 4)]
    seen = [item["id"] for page in pages for item in page["items"]]
    assert sorted(seen) == sorted(ids)
    beyond = (await my_bookings(client, scene.attendee, limit=2, offset=10)).json()
    assert beyond["items"] == []
    assert beyond["total"] == 5


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "many"}])
async def test_bad_pagination_is_rejected(client: AsyncClient, params: dict[str, object]) -> None:
    attendee = await create_account(client)
    assert_problem(await my_bookings(client, attendee, **params), 422, "validation_error")


async def test_a_limit_of_one_hundred_is_allowed(client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await my_bookings(client, attendee, limit=100)
    assert response.status_code == 200
    assert response.json()["limit"] == 100


async def test_the_embedded_event_follows_changes_to_the_event(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    renamed = await client.patch(
        f"/api/v1/events/{scene.event_id}",
        json={"title": "Renamed Night", "venue": "New Hall"},
        headers=scene.organizer.headers,
    )
    assert renamed.status_code == 200, renamed.text
    summary = (await read_booking(client, scene.attendee, booking["id"])).json()["event"]
    assert (summary["title"], summary["venue"]) == ("Renamed Night", "New Hall")


async def test_an_event_filter_that_is_not_a_uuid_is_rejected(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await my_bookings(client, attendee, event_id="nope"), 422, "validation_error")
