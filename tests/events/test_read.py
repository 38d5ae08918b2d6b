"""GET /events/{id}: public events to anyone, drafts only to their organizer and admins."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import CALLERS, cancel, event_url, make_cast, parse_utc
from tests.factories import assert_problem, bearer, book, create_account, create_event, create_published_event


@pytest.mark.parametrize("caller", CALLERS)
async def test_a_published_event_is_visible_to_everyone(
    app: FastAPI, client: AsyncClient, caller: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner)
    response = await client.get(event_url(event["id"]), headers=cast.headers(caller))
    assert response.status_code == 200, response.text
    assert response.json() == event


@pytest.mark.parametrize("caller", CALLERS)
async def test_a_cancelled_event_is_visible_to_everyone(
    app: FastAPI, client: AsyncClient, caller: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner)
    await cancel(client, cast.owner, event["id"])
    response = await client.get(event_url(event["id"]), headers=cast.headers(caller))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("caller", ["owner", "admin"])
async def test_a_draft_is_visible_to_its_organizer_and_admins(
    app: FastAPI, client: AsyncClient, caller: str
) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner)
    response = await client.get(event_url(draft["id"]), headers=cast.headers(caller))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "draft"


@pytest.mark.parametrize("caller", ["other_organizer", "attendee", "anonymous"])
async def test_a_draft_is_not_found_for_anyone_else(app: FastAPI, client: AsyncClient, caller: str) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner)
    response = await client.get(event_url(draft["id"]), headers=cast.headers(caller))
    body = assert_problem(response, 404, "not_found")
    unknown = await client.get(
        event_url("00000000-0000-0000-0000-000000000000"), headers=cast.headers(caller)
    )
    assert body["detail"] == assert_problem(unknown, 404, "not_found")["detail"]


async def test_an_unknown_event_is_not_found(client: AsyncClient) -> None:
    assert_problem(await client.get(event_url("00000000-0000-0000-0000-000000000000")), 404, "not_found")


async def test_an_event_id_that_is_not_a_uuid_is_rejected(client: AsyncClient) -> None:
    assert_problem(await client.get(event_url("42")), 422, "validation_error")


async def test_an_invalid_token_is_refused_even_on_a_public_read(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.get(event_url(event["id"]), headers=bearer("not-a-token"))
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_logged_out_token_is_refused_even_on_a_public_read(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    assert (await client.post("/api/v1/auth/logout", headers=attendee.headers)).status_code == 204
    response = await client.get(event_url(event["id"]), headers=attendee.headers)
    assert_problem(response, 401, "not_authenticated")


async def test_an_unknown_event_is_not_found_for_a_signed_in_caller_too(client: AsyncClient) -> None:
    attendee = await create_account(client)
    response = await client.get(event_url("00000000-0000-4000-8000-000000000000"), headers=attendee.headers)
    assert_problem(response, 404, "not_found")


async def test_a_read_event_serves_every_timestamp_in_utc(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client,
        organizer,
        starts_at="2031-07-14T21:00:00+02:00",
        ends_at="2031-07-14T23:45:00+02:00",
        sales_start_at="2031-06-01T08:00:00-04:00",
        sales_end_at="2031-07-14T12:00:00+09:00",
        timezone="Europe/Paris",
    )
    read = (await client.get(event_url(event["id"]))).json()
    assert read["starts_at"].replace("+00:00", "Z") == "2031-07-14T19:00:00Z"
    assert read["ends_at"].replace("+00:00", "Z") == "2031-07-14T21:45:00Z"
    assert read["sales_start_at"].replace("+00:00", "Z") == "2031-06-01T12:00:00Z"
    assert read["sales_end_at"].replace("+00:00", "Z") == "2031-07-14T03:00:00Z"
    for field in ("created_at", "updated_at", "published_at"):
        parse_utc(read[field])
    assert read["timezone"] == "Europe/Paris"


async def test_a_read_event_shows_its_sales_figures(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(
        client,
        organizer,
        ticket_types=[
            {"name": "Standing", "price": "12.50", "capacity": 10},
            {"name": "Seated", "price": "30.00", "capacity": 4},
        ],
    )
    standing, seated = event["ticket_types"]
    await book(client, alice, event["id"], ticket_type_id=standing["id"], quantity=3)
    await book(client, bob, event["id"], ticket_type_id=seated["id"], quantity=4)
    read = (await client.get(event_url(event["id"]))).json()
    assert (read["capacity"], read["tickets_sold"], read["tickets_available"]) == (14, 7, 7)
    assert [(t["sold"], t["available"]) for t in read["ticket_types"]] == [(3, 7), (4, 0)]
    assert [t["price"] for t in read["ticket_types"]] == ["12.50", "30.00"]
