"""GET /events: the public catalogue, its filters, sorting and pagination."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import (
    EVENTS,
    ORGANIZER_EVENTS,
    assert_field_error,
    cancel,
    catalogue,
    event_url,
    ids,
    titles,
)
from tests.factories import (
    Account,
    book,
    create_account,
    create_event,
    create_published_event,
    in_days,
    publish_event,
    set_event_times,
)


async def publish(client: AsyncClient, organizer: Account, title: str, **overrides: Any) -> dict[str, Any]:
    return await create_published_event(client, organizer, title=title, **overrides)


async def three_events(client: AsyncClient) -> list[dict[str, Any]]:
    """Charlie (in 10 days), Alpha (in 30), Bravo (in 20), created in that order: start, creation
    and title orders all differ."""
    organizer = await create_account(client, role="organizer")
    return [
        await publish(client, organizer, "Charlie", starts_at=in_days(10)),
        await publish(client, organizer, "Alpha", starts_at=in_days(30)),
        await publish(client, organizer, "Bravo", starts_at=in_days(20)),
    ]


async def test_the_catalogue_lists_published_and_cancelled_events_only(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    await create_event(client, organizer, title="Draft")
    await publish(client, organizer, "Published")
    cancelled = await publish(client, organizer, "Cancelled")
    await cancel(client, organizer, cancelled["id"])
    deleted_with_bookings = await publish(client, organizer, "Deleted with bookings")
    await book(client, attendee, deleted_with_bookings["id"])
    await client.delete(event_url(deleted_with_bookings["id"]), headers=organizer.headers)
    deleted_unsold = await publish(client, organizer, "Deleted unsold")
    await client.delete(event_url(deleted_unsold["id"]), headers=organizer.headers)
    page = await catalogue(client, sort="title")
    assert titles(page) == ["Cancelled", "Published"]
    assert page["total"] == 2


async def test_drafts_are_not_listed_even_to_their_organizer(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await create_event(client, organizer, title="Draft")
    response = await client.get(EVENTS, headers=organizer.headers)
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_a_listed_event_has_every_field_with_money_as_strings(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client, organizer, ticket_types=[{"name": "Standing", "price": 12.5, "capacity": 3}]
    )
    [listed] = (await catalogue(client))["items"]
    assert listed == event
    assert listed["ticket_types"][0]["price"] == "12.50"


async def test_a_listed_event_is_served_alike_wherever_it_is_read(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_event(
        client,
        organizer,
        title="Ünïcode Night",
        description='Everything set: "quotes", emoji 🎷 and a long line ' + "x" * 300,
        address="Königstraße 1",
        category="music",
        starts_at="2031-07-14T21:00:00.5+02:00",
        ends_at="2031-07-14T23:45:00+02:00",
        sales_start_at="2030-06-01T08:00:00-04:00",
        sales_end_at="2031-07-14T12:00:00+09:00",
        timezone="Europe/Paris",
        currency="CHF",
        max_tickets_per_booking=4,
        ticket_types=[
            {"name": "Standing", "price": "12.5", "capacity": 10},
            {"name": "Free", "price": 0, "capacity": 3},
        ],
    )
    await set_event_times(app, event["id"], sales_start_at=datetime.now(UTC) - timedelta(days=1))
    await publish_event(client, organizer, event["id"])
    booked = await book(
        client, attendee, event["id"], ticket_type_id=event["ticket_types"][0]["id"], quantity=2
    )
    assert booked.status_code == 201, booked.text
    # A change answers with the event as the ORM loads it: the other reads must serve it the same.
    changed = await client.patch(
        event_url(event["id"]), json={"title": "Ünïcode Night"}, headers=organizer.headers
    )
    as_written = changed.json()
    [in_catalogue] = (await catalogue(client))["items"]
    [in_organizer_list] = (await client.get(ORGANIZER_EVENTS, headers=organizer.headers)).json()["items"]
    read_alone = (await client.get(event_url(event["id"]))).json()
    assert in_catalogue == in_organizer_list == read_alone == as_written
    assert (read_alone["tickets_sold"], read_alone["ticket_types"][0]["available"]) == (2, 8)
    assert read_alone["ticket_types"][0]["price"] == "12.50"
    assert read_alone["starts_at"].replace("+00:00", "Z") == "2031-07-14T19:00:00.500000Z"


async def test_the_catalogue_is_anonymous_and_answers_the_page_shape(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client)
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)


async def test_past_events_are_left_out_by_default(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    past = await publish(client, organizer, "Yesterday")
    await publish(client, organizer, "Tomorrow", starts_at=in_days(1))
    await set_event_times(app, past["id"], starts_at=datetime.now(UTC) - timedelta(days=1))
    assert titles(await catalogue(client)) == ["Tomorrow"]
    assert titles(await catalogue(client, upcoming_only="true")) == ["Tomorrow"]
    page = await catalogue(client, upcoming_only="false")
    assert titles(page) == ["Yesterday", "Tomorrow"]
    assert page["total"] == 2


@pytest.mark.parametrize(
    ("field", "value", "q"),
    [
        ("title", "Moonlight Sonata", "moonlight"),
        ("description", "With the Vienna Philharmonic", "philharmonic"),
        ("venue", "Elbphilharmonie", "ELBPHIL"),
        ("city", "Hamburg", "hamburg"),
    ],
)
async def test_q_matches_each_searchable_field_case_insensitively(
    client: AsyncClient, field: str, value: str, q: str
) -> None:
    organizer = await create_account(client, role="organizer")
    wanted = await publish(client, organizer, "Wanted", **({field: value} if field != "title" else {}))
    if field == "title":
        await client.patch(event_url(wanted["id"]), json={"title": value}, headers=organizer.headers)
    await publish(client, organizer, "Other", description="Nothing", venue="Hall", city="Paris")
    page = await catalogue(client, q=q)
    assert ids(page) == [wanted["id"]]
    assert page["total"] == 1


async def test_q_matches_a_substring_in_the_middle_of_a_word(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Unbelievable Evening")
    assert titles(await catalogue(client, q="BELIEV")) == ["Unbelievable Evening"]


async def test_q_does_not_match_the_category_or_address(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Evening", category="zydeco", address="Xylophonweg 3")
    assert (await catalogue(client, q="zydeco"))["total"] == 0
    assert (await catalogue(client, q="xylophon"))["total"] == 0


async def test_q_is_trimmed(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Jazz Brunch")
    assert titles(await catalogue(client, q="  brunch  ")) == ["Jazz Brunch"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", ["100% Techno"]),
        ("0%", ["100% Techno"]),
        ("_", ["snake_case meetup"]),
        ("e_c", ["snake_case meetup"]),
        ("\\", ["AC\\DC tribute"]),
        ("c\\d", ["AC\\DC tribute"]),
        ("'n'", ["Rock 'n' Roll"]),
        ('"best"', ['The "Best" Show']),
        ("' OR '1'='1", []),
        ("'; DROP TABLE event; --", []),
        ("%%", []),
        ("[a-z]", []),
        ("*", []),
    ],
)
async def test_hostile_q_is_matched_literally(client: AsyncClient, q: str, expected: list[str]) -> None:
    organizer = await create_account(client, role="organizer")
    for title in ("100% Techno", "snake_case meetup", "snakeXcase meetup", "AC\\DC tribute", "ACDC tribute"):
        await publish(client, organizer, title)
    for title in ("Rock 'n' Roll", 'The "Best" Show', "Plain Evening"):
        await publish(client, organizer, title)
    page = await catalogue(client, q=q, sort="title")
    assert sorted(titles(page)) == sorted(expected)
    assert page["total"] == len(expected)


async def test_hostile_q_leaves_the_catalogue_intact(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Survivor")
    await catalogue(client, q="'; DELETE FROM event; --")
    assert titles(await catalogue(client)) == ["Survivor"]


async def test_q_of_200_characters_is_accepted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    title = "x" * 200
    await publish(client, organizer, title)
    assert titles(await catalogue(client, q="X" * 200)) == [title]


async def test_q_beyond_200_characters_is_rejected(client: AsyncClient) -> None:
    response = await client.get(EVENTS, params={"q": "x" * 201})
    assert_field_error(response, ["query", "q"])


async def test_a_very_long_q_is_rejected(client: AsyncClient) -> None:
    response = await client.get(EVENTS, params={"q": "ü" * 2000})
    assert_field_error(response, ["query", "q"])


@pytest.mark.parametrize("q", ["école", "ÉCOLE", "École", "ÉcOlE"])
async def test_q_matches_accented_text_case_insensitively(client: AsyncClient, q: str) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Concert de l'École")
    await publish(client, organizer, "Ecole sans accent")
    assert titles(await catalogue(client, q=q)) == ["Concert de l'École"]


@pytest.mark.parametrize("q", ["zürich", "ZÜRICH", "Zürich"])
async def test_q_matches_a_non_ascii_city(client: AsyncClient, q: str) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Street Parade", city="Zürich")
    await publish(client, organizer, "Other", city="Zurich")
    assert titles(await catalogue(client, q=q)) == ["Street Parade"]


@pytest.mark.parametrize("city", ["Zürich", "zürich", "ZÜRICH"])
async def test_the_city_filter_is_case_insensitive_with_non_ascii(client: AsyncClient, city: str) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Street Parade", city="Zürich")
    await publish(client, organizer, "Oktoberfest", city="München")
    page = await catalogue(client, city=city)
    assert titles(page) == ["Street Parade"]
    assert page["total"] == 1


async def test_the_city_filter_alone(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "A", city="Berlin", starts_at=in_days(1))
    await publish(client, organizer, "B", city="Hamburg")
    await publish(client, organizer, "C", city="berlin", starts_at=in_days(2))
    page = await catalogue(client, city="Berlin")
    assert titles(page) == ["A", "C"]
    assert page["total"] == 2


async def test_the_same_filters_with_other_values_find_other_events(client: AsyncClient) -> None:
    # Each combination of filters is one statement, built once and reused: the values must not be.
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Jazz Night", city="Berlin", category="music")
    await publish(client, organizer, "Tech Talk", city="Hamburg", category="tech")
    await publish(client, organizer, "Jazz Brunch", city="Hamburg", category="food")
    for city, q, expected in [
        ("Berlin", "jazz", ["Jazz Night"]),
        ("Hamburg", "jazz", ["Jazz Brunch"]),
        ("Hamburg", "talk", ["Tech Talk"]),
        ("Berlin", "talk", []),
    ]:
        page = await catalogue(client, city=city, q=q)
        assert (titles(page), page["total"]) == (expected, len(expected))


async def test_the_category_filter_alone(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await publish(client, organizer, "Gig", category="Music")
    await publish(client, organizer, "Talk", category="tech")
    await publish(client, organizer, "Uncategorised")
    for category in ("music", "MUSIC"):
        page = await catalogue(client, category=category)
        assert titles(page) == ["Gig"]
        assert page["total"] == 1


async def test_starts_after_alone(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, starts_after=in_days(15))
    assert titles(page) == ["Bravo", "Alpha"]
    assert page["total"] == 2


async def test_starts_before_alone(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, starts_before=in_days(25))
    assert titles(page) == ["Charlie", "Bravo"]
    assert page["total"] == 2


async def test_starts_after_and_before_together(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, starts_after=in_days(15), starts_before=in_days(25))
    assert titles(page) == ["Bravo"]
    assert page["total"] == 1


async def test_time_bounds_with_another_offset_mean_the_same_instant(client: AsyncClient) -> None:
    await three_events(client)
    bound = datetime.fromisoformat(in_days(15)).astimezone(timezone(timedelta(hours=-5)))
    assert titles(await catalogue(client, starts_after=bound.isoformat())) == ["Bravo", "Alpha"]
    assert titles(await catalogue(client, starts_before=bound.isoformat())) == ["Charlie"]


async def test_a_window_with_no_events_is_empty(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, starts_after=in_days(31), starts_before=in_days(60))
    assert page["items"] == []
    assert page["total"] == 0


@pytest.mark.parametrize("param", ["starts_after", "starts_before"])
async def test_a_time_bound_without_an_offset_is_rejected(client: AsyncClient, param: str) -> None:
    response = await client.get(EVENTS, params={param: "2031-01-01T00:00:00"})
    assert_field_error(response, ["query", param])


@pytest.mark.parametrize("param", ["starts_after", "starts_before"])
async def test_a_time_bound_that_is_not_a_datetime_is_rejected(client: AsyncClient, param: str) -> None:
    response = await client.get(EVENTS, params={param: "next tuesday"})
    assert_field_error(response, ["query", param])


async def test_the_organizer_filter_alone(client: AsyncClient) -> None:
    first = await create_account(client, role="organizer")
    second = await create_account(client, role="organizer")
    await publish(client, first, "Mine")
    await publish(client, second, "Theirs")
    await create_event(client, first, title="My draft")
    page = await catalogue(client, organizer_id=first.id)
    assert titles(page) == ["Mine"]
    assert page["total"] == 1


async def test_an_organizer_filter_that_is_not_a_uuid_is_rejected(client: AsyncClient) -> None:
    assert_field_error(await client.get(EVENTS, params={"organizer_id": "me"}), ["query", "organizer_id"])


async def test_an_unknown_organizer_has_no_events(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, organizer_id="00000000-0000-0000-0000-000000000000")
    assert page == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_filters_combine(app: FastAPI, client: AsyncClient) -> None:
    first = await create_account(client, role="organizer")
    second = await create_account(client, role="organizer")
    match = await publish(client, first, "Jazz at Dawn", city="Wien", category="music", starts_at=in_days(20))
    await publish(client, second, "Jazz at Noon", city="Wien", category="music", starts_at=in_days(20))
    await publish(client, first, "Jazz at Dusk", city="Graz", category="music", starts_at=in_days(20))
    await publish(client, first, "Jazz Talk", city="Wien", category="talk", starts_at=in_days(20))
    await publish(client, first, "Rock at Dawn", city="Wien", category="music", starts_at=in_days(20))
    await publish(client, first, "Jazz Later", city="Wien", category="music", starts_at=in_days(50))
    past = await publish(client, first, "Jazz Past", city="Wien", category="music")
    await set_event_times(app, past["id"], starts_at=datetime.now(UTC) - timedelta(days=1))
    params = {
        "q": "jazz",
        "city": "wien",
        "category": "music",
        "organizer_id": first.id,
        "starts_after": in_days(-10),
        "starts_before": in_days(40),
    }
    page = await catalogue(client, **params)
    assert ids(page) == [match["id"]]
    assert page["total"] == 1
    with_past = await catalogue(client, **params, upcoming_only="false")
    assert titles(with_past) == ["Jazz Past", "Jazz at Dawn"]
    assert with_past["total"] == 2


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["Charlie", "Bravo", "Alpha"]),
        ("starts_at", ["Charlie", "Bravo", "Alpha"]),
        ("-starts_at", ["Alpha", "Bravo", "Charlie"]),
        ("created_at", ["Charlie", "Alpha", "Bravo"]),
        ("-created_at", ["Bravo", "Alpha", "Charlie"]),
        ("title", ["Alpha", "Bravo", "Charlie"]),
        ("-title", ["Charlie", "Bravo", "Alpha"]),
    ],
)
async def test_sorting(client: AsyncClient, sort: str | None, expected: list[str]) -> None:
    await three_events(client)
    params = {"sort": sort} if sort else {}
    assert titles(await catalogue(client, **params)) == expected


@pytest.mark.parametrize("sort", ["price", "starts_at desc", "+title", "TITLE", ""])
async def test_an_unknown_sort_is_rejected(client: AsyncClient, sort: str) -> None:
    assert_field_error(await client.get(EVENTS, params={"sort": sort}), ["query", "sort"])


async def test_a_limit_of_one_gives_one_item_and_the_full_total(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, limit=1)
    assert titles(page) == ["Charlie"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 0)


async def test_pages_of_one_walk_the_whole_catalogue_in_order(client: AsyncClient) -> None:
    await three_events(client)
    walked = [titles(await catalogue(client, limit=1, offset=offset, sort="title")) for offset in range(3)]
    assert walked == [["Alpha"], ["Bravo"], ["Charlie"]]


async def test_the_last_page_is_partial(client: AsyncClient) -> None:
    await three_events(client)
    page = await catalogue(client, limit=2, offset=2)
    assert titles(page) == ["Alpha"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 2)


@pytest.mark.parametrize("offset", [3, 4, 1000])
async def test_an_offset_past_the_end_is_an_empty_page_with_the_total(
    client: AsyncClient, offset: int
) -> None:
    await three_events(client)
    page = await catalogue(client, offset=offset)
    assert page == {"items": [], "total": 3, "limit": 20, "offset": offset}


async def test_the_default_page_is_twenty_and_a_limit_of_a_hundred_is_accepted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    for number in range(21):
        await publish(client, organizer, f"Event {number:02d}", starts_at=in_days(number + 1))
    default = await catalogue(client)
    assert len(default["items"]) == 20
    assert default["total"] == 21
    assert titles(default) == [f"Event {n:02d}" for n in range(20)]
    everything = await catalogue(client, limit=100)
    assert len(everything["items"]) == 21
    assert (everything["total"], everything["limit"]) == (21, 100)
    rest = await catalogue(client, offset=20)
    assert titles(rest) == ["Event 20"]


@pytest.mark.parametrize(
    ("param", "value"),
    [("limit", 0), ("limit", 101), ("limit", -1), ("limit", "ten"), ("offset", -1), ("offset", "x")],
)
async def test_an_out_of_range_page_parameter_is_rejected(
    client: AsyncClient, param: str, value: Any
) -> None:
    assert_field_error(await client.get(EVENTS, params={param: value}), ["query", param])


async def test_the_total_counts_every_match_not_the_page(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    for number in range(5):
        await publish(client, organizer, f"Salsa {number}", city="Madrid")
    await publish(client, organizer, "Tango", city="Madrid")
    await create_event(client, organizer, title="Salsa draft", city="Madrid")
    page = await catalogue(client, q="salsa", limit=2, offset=1)
    assert len(page["items"]) == 2
    assert page["total"] == 5
    assert (await catalogue(client, city="madrid", limit=1))["total"] == 6


async def test_cancelled_events_are_listed_with_their_status(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await publish(client, organizer, "Called off")
    await cancel(client, organizer, event["id"])
    [listed] = (await catalogue(client, q="called off"))["items"]
    assert listed["status"] == "cancelled"
