"""Who may change an event: owner and admin may; anyone else gets 401, 403 or 404 as API.md says."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.events.helpers import CALLERS, Cast, event_url, make_cast
from tests.factories import assert_problem, create_event, create_published_event

TWO_TYPES = [
    {"name": "Standing", "price": "20.00", "capacity": 10},
    {"name": "Seated", "price": "35.00", "capacity": 5},
]

# name: (method, path under the event, body); {first} and {second} are the event's ticket type ids.
ACTIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "update": ("PATCH", "", {"title": "Taken over"}),
    "publish": ("POST", "publish", None),
    "cancel": ("POST", "cancel", None),
    "delete": ("DELETE", "", None),
    "add_ticket_type": ("POST", "ticket-types", {"name": "VIP", "price": "80.00", "capacity": 2}),
    "update_ticket_type": ("PATCH", "ticket-types/{first}", {"price": "1.00"}),
    "delete_ticket_type": ("DELETE", "ticket-types/{second}", None),
}
SUCCESS = {
    "update": 200,
    "publish": 200,
    "cancel": 200,
    "delete": 204,
    "add_ticket_type": 201,
    "update_ticket_type": 200,
    "delete_ticket_type": 204,
}
DRAFT_ACTIONS = [name for name in ACTIONS if name != "cancel"]
PUBLISHED_ACTIONS = [name for name in ACTIONS if name != "publish"]


async def perform(
    client: AsyncClient, cast: Cast, caller: str, event: dict[str, Any], action: str
) -> Response:
    method, path, body = ACTIONS[action]
    first, second = (t["id"] for t in event["ticket_types"])
    url = event_url(event["id"], *filter(None, [path.format(first=first, second=second)]))
    return await client.request(method, url, json=body, headers=cast.headers(caller))


async def owner_view(client: AsyncClient, cast: Cast, event_id: str) -> dict[str, Any]:
    response = await client.get(event_url(event_id), headers=cast.owner.headers)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_an_anonymous_caller_changes_nothing(app: FastAPI, client: AsyncClient, action: str) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await perform(client, cast, "anonymous", event, action)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await owner_view(client, cast, event["id"]) == event


@pytest.mark.parametrize("caller", ["other_organizer", "attendee"])
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_a_stranger_sees_a_published_event_but_may_not_change_it(
    app: FastAPI, client: AsyncClient, caller: str, action: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner, ticket_types=TWO_TYPES)
    assert_problem(await perform(client, cast, caller, event, action), 403, "forbidden")
    assert await owner_view(client, cast, event["id"]) == event


@pytest.mark.parametrize("caller", ["other_organizer", "attendee"])
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_a_stranger_gets_not_found_for_a_draft(
    app: FastAPI, client: AsyncClient, caller: str, action: str
) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await perform(client, cast, caller, draft, action)
    body = assert_problem(response, 404, "not_found")
    assert (
        body["detail"]
        == assert_problem(
            await client.get(event_url("00000000-0000-0000-0000-000000000000"), headers=cast.headers(caller)),
            404,
            "not_found",
        )["detail"]
    )
    assert await owner_view(client, cast, draft["id"]) == draft


@pytest.mark.parametrize("caller", ["owner", "admin"])
@pytest.mark.parametrize("action", DRAFT_ACTIONS)
async def test_the_owner_and_an_admin_may_change_a_draft(
    app: FastAPI, client: AsyncClient, caller: str, action: str
) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await perform(client, cast, caller, draft, action)
    assert response.status_code == SUCCESS[action], response.text


@pytest.mark.parametrize("caller", ["owner", "admin"])
@pytest.mark.parametrize("action", PUBLISHED_ACTIONS)
async def test_the_owner_and_an_admin_may_change_a_published_event(
    app: FastAPI, client: AsyncClient, caller: str, action: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await perform(client, cast, caller, event, action)
    assert response.status_code == SUCCESS[action], response.text


async def test_an_event_changed_by_an_admin_keeps_its_organizer(app: FastAPI, client: AsyncClient) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await perform(client, cast, "admin", draft, "update")
    assert response.json()["organizer_id"] == cast.owner.id
    assert response.json()["title"] == "Taken over"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ["stats", "bookings"])
async def test_stats_and_guest_list_of_a_published_event_are_for_owner_and_admin_only(
    app: FastAPI, client: AsyncClient, caller: str, route: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner, ticket_types=TWO_TYPES)
    response = await client.get(event_url(event["id"], route), headers=cast.headers(caller))
    if caller in ("owner", "admin"):
        assert response.status_code == 200, response.text
    elif caller == "anonymous":
        assert_problem(response, 401, "not_authenticated")
    else:
        assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ["stats", "bookings"])
async def test_stats_and_guest_list_of_a_draft_are_for_owner_and_admin_only(
    app: FastAPI, client: AsyncClient, caller: str, route: str
) -> None:
    cast = await make_cast(app, client)
    draft = await create_event(client, cast.owner)
    response = await client.get(event_url(draft["id"], route), headers=cast.headers(caller))
    if caller in ("owner", "admin"):
        assert response.status_code == 200, response.text
    elif caller == "anonymous":
        assert_problem(response, 401, "not_authenticated")
    else:
        assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("caller", ["other_organizer", "attendee"])
async def test_a_strangers_csv_export_of_the_guest_list_is_not_found(
    app: FastAPI, client: AsyncClient, caller: str
) -> None:
    cast = await make_cast(app, client)
    event = await create_published_event(client, cast.owner)
    response = await client.get(
        event_url(event["id"], "bookings"), headers={**cast.headers(caller), "Accept": "text/csv"}
    )
    assert_problem(response, 404, "not_found")
