"""Booking codes: short, readable at a door, unambiguous and unique."""

import re

from httpx import AsyncClient

from tests.bookings.helpers import (
    CODE_PATTERN,
    booked,
    cancel_booking,
    change_booking,
    guest_list,
    published_scene,
    read_booking,
)


async def test_a_code_is_two_groups_of_four_unambiguous_symbols(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert re.fullmatch(CODE_PATTERN, booking["code"]), booking["code"]
    assert not set(booking["code"]) & set("0O1I")


async def test_codes_are_unique_and_well_formed_across_many_bookings(client: AsyncClient) -> None:
    scene = await published_scene(client)
    codes = []
    for _ in range(40):
        booking = await booked(client, scene.attendee, scene.event_id)
        codes.append(booking["code"])
        assert (await cancel_booking(client, scene.attendee, booking["id"])).status_code == 200
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(CODE_PATTERN, code) for code in codes), codes


async def test_the_code_survives_changes_and_cancellation(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    changed = await change_booking(
        client, scene.attendee, booking["id"], quantity=2, holder_name="New Holder"
    )
    assert changed.json()["code"] == booking["code"]
    cancelled = await cancel_booking(client, scene.attendee, booking["id"])
    assert cancelled.json()["code"] == booking["code"]
    assert (await read_booking(client, scene.attendee, booking["id"])).json()["code"] == booking["code"]


async def test_the_organizer_finds_a_booking_by_its_code(client: AsyncClient) -> None:
    scene = await published_scene(client)
    booking = await booked(client, scene.attendee, scene.event_id)
    page = (await guest_list(client, scene.organizer, scene.event_id, q=booking["code"])).json()
    assert [item["id"] for item in page["items"]] == [booking["id"]]
