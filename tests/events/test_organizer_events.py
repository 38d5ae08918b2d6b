"""GET /organizer/events: the caller's own events, drafts included, with their sales figures."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import ORGANIZER_EVENTS, assert_field_error, cancel, titles
from tests.factories import (
    Account,
    assert_problem,
    book,
    create_account,
    create_admin,
    create_event,
    create_published_event,
    set_event_times,
)


async def my_events(client: AsyncClient, organizer: Account, **params: Any) -> dict[str, Any]:
    response = await client.get(ORGANIZER_EVENTS, params=params, headers=organizer.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def one_of_each(client: AsyncClient, organizer: Account) -> None:
    """A draft, a published and a cancelled event of ``organizer``."""
    await create_event(client, organizer, title="Draft")
    await create_published_event(client, organizer, title="Published")
    cancelled = await create_published_event(client, organizer, title="Cancelled")
    await cancel(client, organizer, cancelled["id"])


async def test_an_organizer_sees_all_their_own_events_drafts_included(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    other = await create_account(client, role="organizer")
    await one_of_each(client, organizer)
    await create_event(client, other, title="Other draft")
    await create_published_event(client, other, title="Other published")
    page = await my_events(client, organizer)
    assert sorted(titles(page)) == ["Cancelled", "Draft", "Published"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)
    assert {event["organizer_id"] for event in page["items"]} == {organizer.id}


async def test_an_organizer_without_events_gets_an_empty_page(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    other = await create_account(client, role="organizer")
    await one_of_each(client, other)
    assert await my_events(client, organizer) == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_past_events_are_included(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, title="Last year")
    await set_event_times(app, event["id"], starts_at=datetime.now(UTC) - timedelta(days=365))
    assert titles(await my_events(client, organizer)) == ["Last year"]


@pytest.mark.parametrize("status", ["draft", "published", "cancelled"])
async def test_the_status_filter(client: AsyncClient, status: str) -> None:
    organizer = await create_account(client, role="organizer")
    await one_of_each(client, organizer)
    page = await my_events(client, organizer, status=status)
    assert titles(page) == [status.capitalize()]
    assert page["items"][0]["status"] == status
    assert page["total"] == 1


@pytest.mark.parametrize("status", ["deleted", "DRAFT", "all", ""])
async def test_an_unknown_status_is_rejected(client: AsyncClient, status: str) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.get(ORGANIZER_EVENTS, params={"status": status}, headers=organizer.headers)
    assert_field_error(response, ["query", "status"])


async def test_the_q_filter(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    other = await create_account(client, role="organizer")
    await create_event(client, organizer, title="Poetry Slam")
    await create_published_event(client, organizer, title="Jazz", venue="Slam Hall")
    await create_event(client, organizer, title="Opera")
    await create_event(client, other, title="Poetry Slam too")
    page = await my_events(client, organizer, q="SLAM")
    assert sorted(titles(page)) == ["Jazz", "Poetry Slam"]
    assert page["total"] == 2


async def test_q_with_like_wildcards_is_literal(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await create_event(client, organizer, title="50% off night")
    await create_event(client, organizer, title="Fifty night")
    assert titles(await my_events(client, organizer, q="%")) == ["50% off night"]
    assert (await my_events(client, organizer, q="_"))["total"] == 0


async def test_status_and_q_combine(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    await create_event(client, organizer, title="Jazz draft")
    await create_published_event(client, organizer, title="Jazz live")
    await create_published_event(client, organizer, title="Rock live")
    page = await my_events(client, organizer, status="published", q="jazz")
    assert titles(page) == ["Jazz live"]
    assert page["total"] == 1


async def test_q_beyond_200_characters_is_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.get(ORGANIZER_EVENTS, params={"q": "q" * 201}, headers=organizer.headers)
    assert_field_error(response, ["query", "q"])


async def test_sales_figures_follow_bookings(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(
        client,
        organizer,
        ticket_types=[
            {"name": "Early", "price": "10.00", "capacity": 5},
            {"name": "Late", "price": "15.00", "capacity": 20},
        ],
    )
    early, late = event["ticket_types"]
    await book(client, alice, event["id"], ticket_type_id=early["id"], quantity=5)
    await book(client, bob, event["id"], ticket_type_id=late["id"], quantity=2)
    [listed] = (await my_events(client, organizer))["items"]
    assert (listed["capacity"], listed["tickets_sold"], listed["tickets_available"]) == (25, 7, 18)
    assert [(t["sold"], t["available"]) for t in listed["ticket_types"]] == [(5, 0), (2, 18)]


async def test_a_cancelled_booking_is_taken_out_of_the_figures(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    booking = (await book(client, attendee, event["id"], quantity=3)).json()
    await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
    [listed] = (await my_events(client, organizer))["items"]
    assert (listed["tickets_sold"], listed["tickets_available"]) == (0, 10)


async def test_pagination_of_own_events(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    for number in range(5):
        await create_event(client, organizer, title=f"Draft {number}")
    first = await my_events(client, organizer, limit=2)
    second = await my_events(client, organizer, limit=2, offset=2)
    third = await my_events(client, organizer, limit=2, offset=4)
    beyond = await my_events(client, organizer, limit=2, offset=9)
    assert [len(page["items"]) for page in (first, second, third, beyond)] == [2, 2, 1, 0]
    assert {page["total"] for page in (first, second, third, beyond)} == {5}
    walked = titles(first) + titles(second) + titles(third)
    assert sorted(walked) == [f"Draft {n}" for n in range(5)]


@pytest.mark.parametrize(("param", "value"), [("limit", 0), ("limit", 101), ("offset", -1)])
async def test_an_out_of_range_page_parameter_is_rejected(
    client: AsyncClient, param: str, value: int
) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.get(ORGANIZER_EVENTS, params={param: value}, headers=organizer.headers)
    assert_field_error(response, ["query", param])


async def test_an_admin_sees_only_their_own_events(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    admin = await create_admin(app, client)
    await one_of_each(client, organizer)
    await create_event(client, admin, title="Admin draft")
    assert titles(await my_events(client, admin)) == ["Admin draft"]


async def test_an_attendee_may_not_list_organizer_events(client: AsyncClient) -> None:
    attendee = await create_account(client)
    assert_problem(await client.get(ORGANIZER_EVENTS, headers=attendee.headers), 403, "forbidden")


async def test_an_anonymous_caller_may_not_list_organizer_events(client: AsyncClient) -> None:
    response = await client.get(ORGANIZER_EVENTS)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
