"""Input that is valid JSON but hostile or extreme: an error is a 4xx problem, never a 500."""

import pytest
from httpx import AsyncClient

from tests.events.helpers import EVENTS, assert_field_error, catalogue, event_url
from tests.factories import create_account, create_event, create_published_event, event_body

# Valid RFC 3339 timestamps whose UTC instant falls outside what a datetime can hold.
BEYOND_THE_CALENDAR = ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"]


@pytest.mark.parametrize(
    ("field", "moment"),
    [
        ("starts_at", BEYOND_THE_CALENDAR[0]),
        ("ends_at", BEYOND_THE_CALENDAR[0]),
        ("sales_start_at", BEYOND_THE_CALENDAR[1]),
        ("sales_end_at", BEYOND_THE_CALENDAR[1]),
    ],
)
async def test_a_datetime_beyond_the_calendar_in_utc_is_a_validation_error_on_create(
    client: AsyncClient, field: str, moment: str
) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json={**event_body(), field: moment}, headers=organizer.headers)
    assert_field_error(response, ["body", field])


async def test_a_datetime_beyond_the_calendar_in_utc_is_a_validation_error_on_update(
    client: AsyncClient,
) -> None:
    moment = BEYOND_THE_CALENDAR[0]
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(
        event_url(event["id"]), json={"starts_at": moment}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "starts_at"])


@pytest.mark.parametrize(
    ("param", "moment"), [("starts_after", BEYOND_THE_CALENDAR[1]), ("starts_before", BEYOND_THE_CALENDAR[0])]
)
async def test_a_time_bound_beyond_the_calendar_in_utc_is_a_validation_error(
    client: AsyncClient, param: str, moment: str
) -> None:
    response = await client.get(EVENTS, params={param: moment})
    assert_field_error(response, ["query", param])


@pytest.mark.parametrize("q", ["\x00", "jazz\x00"])
async def test_a_nul_character_in_q_matches_nothing_and_breaks_nothing(client: AsyncClient, q: str) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer, title="Jazz Night")
    response = await client.get(EVENTS, params={"q": q})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["total"] == 0


async def test_a_nul_character_in_the_city_filter_breaks_nothing(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer)
    response = await client.get(EVENTS, params={"city": "\x00"})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["total"] == 0


async def test_a_nul_character_in_a_title_is_refused_or_kept_intact(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json=event_body(title="Jazz\x00Night"), headers=organizer.headers)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        assert response.json()["title"] == "Jazz\x00Night"


async def test_the_largest_offset_is_an_empty_page(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer)
    page = await catalogue(client, offset=2**31 - 1)
    assert (page["items"], page["total"]) == ([], 1)
