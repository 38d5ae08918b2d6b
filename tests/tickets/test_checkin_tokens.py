"""Check-in tokens (API.md, "Tickets and check-in"): made by the organizer for a door device, shown
once, stored hashed, revocable; they check in, undo and read keys for their one event, and nothing
else anywhere."""

import hashlib
import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select

from boxoffice.models import AuditEntry, CheckinToken
from tests.bookings.helpers import booked, held
from tests.factories import assert_problem, bearer, create_account, create_admin, create_published_event
from tests.tickets.helpers import (
    check_in,
    checkin_keys,
    door_scene,
    door_token,
    tickets_of,
    tokens_url,
    undo,
)


async def test_an_organizer_makes_a_token_that_is_shown_once_and_stored_hashed(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=1)

    response = await client.post(
        tokens_url(door.event_id), json={"name": "Main entrance"}, headers=door.organizer.headers
    )

    assert response.status_code == 201, response.text
    made = response.json()
    assert set(made) == {"id", "name", "token", "created_at"}
    assert made["name"] == "Main entrance"
    assert made["token"].startswith("boci_")
    assert len(made["token"]) >= 40
    listed = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()
    assert listed["total"] == 1
    assert listed["items"] == [{"id": made["id"], "name": "Main entrance", "created_at": made["created_at"]}]
    async with app.state.database.reader() as session:
        stored = await session.get_one(CheckinToken, uuid.UUID(made["id"]))
    assert stored.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["token"] not in {stored.token_hash, stored.name}


async def test_a_token_checks_in_undoes_and_reads_keys_for_its_event(
    app: FastAPI, client: AsyncClient
) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id, name="Side door")
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])

    checked = await check_in(client, token, door.event_id, ticket["code"])
    assert checked.status_code == 201, checked.text
    token_id = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()["items"][
        0
    ]["id"]
    assert checked.json()["by"] == {"kind": "checkin_token", "id": token_id, "name": "Side door"}
    assert (await undo(client, token, door.event_id, checked.json()["id"])).status_code == 204
    keys = await checkin_keys(client, token, door.event_id)
    assert keys.status_code == 200
    assert set(keys.json()) == {"event_id", "public_key", "algorithm", "revoked"}

    async with app.state.database.reader() as session:
        entries = (await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "checkin"))).all()
    assert {e.action for e in entries} == {"checkin.created", "checkin.undone"}
    assert all(e.actor_id is None and token_id in e.details and "Side door" in e.details for e in entries)


async def test_a_token_is_useless_at_another_events_door(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id)
    other_event = await create_published_event(client, door.organizer, title="Other night")
    elsewhere = await booked(client, door.attendee, other_event["id"])
    [foreign] = await tickets_of(client, door.attendee, elsewhere["id"])
    checkin = (await check_in(client, door.organizer.access_token, other_event["id"], foreign["code"])).json()

    assert_problem(await check_in(client, token, other_event["id"], foreign["code"]), 404, "not_found")
    assert_problem(await undo(client, token, other_event["id"], checkin["id"]), 404, "not_found")
    assert_problem(await checkin_keys(client, token, other_event["id"]), 404, "not_found")
    assert_problem(await check_in(client, token, door.event_id, foreign["code"]), 404, "not_found")


async def test_a_revoked_token_stops_working_at_once(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id)
    kept = await door_token(client, door.organizer, door.event_id, name="Door 2")
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    token_id = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()["items"][
        1
    ]["id"]

    revoked = await client.delete(f"{tokens_url(door.event_id)}/{token_id}", headers=door.organizer.headers)

    assert revoked.status_code == 204
    assert_problem(await check_in(client, token, door.event_id, ticket["code"]), 401, "not_authenticated")
    assert_problem(await checkin_keys(client, token, door.event_id), 401, "not_authenticated")
    assert (await check_in(client, kept, door.event_id, ticket["code"])).status_code == 201
    listed = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()
    assert [t["name"] for t in listed["items"]] == ["Door 2"]
    again = await client.delete(f"{tokens_url(door.event_id)}/{token_id}", headers=door.organizer.headers)
    assert_problem(again, 404, "not_found")
    assert_problem(
        await check_in(client, "boci_made-up", door.event_id, ticket["code"]), 401, "not_authenticated"
    )


async def test_only_the_organizer_and_admins_manage_tokens(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    admin = await create_admin(app, client)
    other_organizer = await create_account(client, role="organizer")
    token = await door_token(client, door.organizer, door.event_id)
    token_id = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()["items"][
        0
    ]["id"]
    url = tokens_url(door.event_id)

    for account in (door.attendee, other_organizer):
        assert_problem(await client.post(url, json={"name": "X"}, headers=account.headers), 404, "not_found")
        assert_problem(await client.get(url, headers=account.headers), 404, "not_found")
        assert_problem(await client.delete(f"{url}/{token_id}", headers=account.headers), 404, "not_found")
    assert_problem(await client.post(url, json={"name": "X"}, headers=bearer(token)), 403, "forbidden")
    assert_problem(await client.get(url, headers=bearer(token)), 403, "forbidden")
    assert_problem(
        await client.post(url, json={"name": ""}, headers=door.organizer.headers), 422, "validation_error"
    )
    assert_problem(
        await client.post(url, json={"name": "X", "event_id": door.event_id}, headers=door.organizer.headers),
        422,
        "validation_error",
    )
    assert (await client.post(url, json={"name": "Admin's"}, headers=admin.headers)).status_code == 201
    assert (await client.delete(f"{url}/{token_id}", headers=admin.headers)).status_code == 204
    assert (await client.get(url, headers=admin.headers)).json()["total"] == 1

    async with app.state.database.reader() as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "checkin_token"))
        )
    assert sorted(actions) == ["checkin_token.created", "checkin_token.created", "checkin_token.revoked"]


# The routes a check-in token is for (tested above); every other route must refuse it.
DOOR_ROUTES = {
    ("POST", "/api/v1/events/{event_id}/checkins"),
    ("DELETE", "/api/v1/events/{event_id}/checkins/{checkin_id}"),
    ("GET", "/api/v1/events/{event_id}/checkin-keys"),
}
# Routes that never look at a caller's token: anyone may call them, and a check-in token gets exactly
# what a caller without any token gets.
ANONYMOUS_ROUTES = {
    ("GET", "/api/v1/events"),  # the public catalogue reads no token at all
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/password/forgot"),
    ("POST", "/api/v1/auth/password/reset"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}
# Bodies for routes whose caller is checked after the body is read (the sale path checks its token in
# the booking writer): a valid body, so that it is the token that is refused, not the body.
BODIES = {
    ("POST", "/api/v1/bookings"): lambda ids: {"event_id": ids["event_id"]},
    ("POST", "/api/v1/holds"): lambda ids: {"event_id": ids["event_id"]},
}


async def test_a_check_in_token_is_refused_by_every_other_endpoint(app: FastAPI, client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    checkin = (await check_in(client, door.organizer.access_token, door.event_id, ticket["code"])).json()
    hold = await held(client, await create_account(client), door.event_id)
    token_id = (await client.get(tokens_url(door.event_id), headers=door.organizer.headers)).json()["items"][
        0
    ]["id"]
    # The door's own event and its real things: the hardest case for a token of that event.
    ids = {
        "event_id": door.event_id,
        "booking_id": door.booking["id"],
        "ticket_id": ticket["id"],
        "checkin_id": checkin["id"],
        "hold_id": hold["id"],
        "user_id": door.attendee.id,
        "ticket_type_id": door.event["ticket_types"][0]["id"],
        "token_id": token_id,
    }
    # Every route of the API's own description of itself.
    routes = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if (method.upper(), path) not in DOOR_ROUTES
    ]
    assert len(routes) > 40
    tried: list[tuple[str, str, int]] = []

    for method, path in routes:
        url = path.format(**{name: ids.get(name, str(uuid.uuid4())) for name in _path_params(path)})
        body = BODIES[(method, path)](ids) if (method, path) in BODIES else {}
        with_token = await _call(client, method, url, body, bearer(token))
        tried.append((method, path, with_token.status_code))
        if (method, path) in ANONYMOUS_ROUTES:
            anonymous = await _call(client, method, url, body, {})
            assert with_token.status_code == anonymous.status_code, (method, path)
            continue
        body_seen = assert_problem(with_token, 403, "forbidden")
        assert "check-in token" in body_seen["detail"], (method, path)

    assert ("GET", "/api/v1/events/{event_id}/bookings", 403) in tried  # the guest list
    assert ("GET", "/api/v1/events/{event_id}/checkins", 403) in tried  # the door's list is the organizer's
    assert ("GET", "/api/v1/events/{event_id}", 403) in tried  # even a public read
    assert (await check_in(client, token, door.event_id, ticket["code"])).status_code == 409, (
        "still a door token"
    )


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


async def _call(
    client: AsyncClient, method: str, url: str, body: dict[str, Any], headers: dict[str, str]
) -> Response:
    if method in {"POST", "PUT", "PATCH"}:
        return await client.request(method, url, json=body, headers=headers)
    return await client.request(method, url, headers=headers)
