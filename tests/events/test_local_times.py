"""Events carry their start and end in their own time zone beside UTC, wherever an event is shown."""

from datetime import datetime
from zoneinfo import ZoneInfo

from httpx import AsyncClient

from tests.factories import book, create_account, create_event, create_published_event

SUMMER, WINTER = "2031-07-01T18:00:00Z", "2031-12-01T18:00:00Z"


async def test_an_event_shows_local_start_and_end_with_the_zones_offset(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    summer = await create_event(
        client, organizer, timezone="Europe/Berlin", starts_at=SUMMER, ends_at="2031-07-01T21:30:00Z"
    )
    assert (summer["starts_at"], summer["starts_at_local"]) == (SUMMER, "2031-07-01T20:00:00+02:00")
    assert summer["ends_at_local"] == "2031-07-01T23:30:00+02:00"
    winter = await create_event(client, organizer, timezone="America/New_York", starts_at=WINTER)
    assert winter["starts_at_local"] == "2031-12-01T13:00:00-05:00"
    assert winter["ends_at_local"] is None


async def test_the_catalogue_and_bookings_carry_local_times_too(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    buyer = await create_account(client)
    event = await create_published_event(client, organizer, timezone="Asia/Kolkata", starts_at=SUMMER)
    listed = (await client.get("/api/v1/events", params={"q": event["title"]})).json()["items"]
    assert [item["starts_at_local"] for item in listed if item["id"] == event["id"]] == [
        "2031-07-01T23:30:00+05:30"
    ]
    booking = (await book(client, buyer, event["id"])).json()
    local = datetime.fromisoformat(booking["event"]["starts_at_local"])
    assert local == datetime.fromisoformat(SUMMER)
    assert local.utcoffset() == datetime(2031, 7, 1, tzinfo=ZoneInfo("Asia/Kolkata")).utcoffset()
