"""The contract's permission table as a matrix: every endpoint by every kind of caller.

Callers: nobody (no token), an attendee with nothing to do with the resources, the attendee who holds
them (booking, hold, ticket, waiting-list entry), an organizer who owns none of them, the organizer
who owns the events, an admin, and a check-in token of the owner's event. Each cell is the class of
answer the contract prescribes: let in (any status but 401, 403 and 404, such as 200, 201 or a 409
about the resource's state), 401, 403 (the caller may see the resource but lacks the role) or 404
(the caller may not see it: resources are not leaked).

Calls that change nothing that matters to the others run in one world, one after another; a call
that would (a deletion, a cancellation, a logout) runs in a fresh world of its own for each caller
it lets in. Every route of the API's own OpenAPI document must be in the matrix.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import (
    Account,
    bearer,
    book,
    create_account,
    create_admin,
    create_event,
    create_published_event,
)

ROLES = ("anonymous", "attendee", "holder", "organizer", "owner", "admin", "door")
IN = "in"  # let in: not 401, 403 or 404
DENIED = {401, 403, 404}


@dataclass
class World:
    people: dict[str, Account | None]
    door_token: str
    ids: dict[str, str]
    ticket_codes: list[str]

    def headers(self, role: str) -> dict[str, str]:
        if role == "door":
            return bearer(self.door_token)
        account = self.people[role]
        return account.headers if account else {}


async def build_world(app: FastAPI, client: AsyncClient) -> World:
    owner = await create_account(client, role="organizer")
    organizer = await create_account(client, role="organizer")
    holder, attendee, other = [await create_account(client) for _ in range(3)]
    admin = await create_admin(app, client)
    event = await create_published_event(
        client,
        owner,
        ticket_types=[
            {"name": "Standing", "price": "10.00", "capacity": 50},
            {"name": "Unsold", "price": "20.00", "capacity": 5},
        ],
    )
    standing = event["ticket_types"][0]["id"]
    unsold = event["ticket_types"][1]["id"]
    draft = await create_event(client, owner)
    for_holds = await create_published_event(client, owner)
    full = await create_published_event(client, owner, capacity=1)
    booking = (await book(client, holder, event["id"], ticket_type_id=standing)).json()
    others = (await book(client, other, event["id"], ticket_type_id=standing, quantity=2)).json()
    assert (await book(client, other, full["id"])).status_code == 201
    entry = (
        await client.post(f"/api/v1/events/{full['id']}/waitlist", json={}, headers=holder.headers)
    ).json()
    hold = (
        await client.post("/api/v1/holds", json={"event_id": for_holds["id"]}, headers=holder.headers)
    ).json()
    [ticket] = (await client.get(f"/api/v1/bookings/{booking['id']}/tickets", headers=holder.headers)).json()
    other_tickets = (
        await client.get(f"/api/v1/bookings/{others['id']}/tickets", headers=other.headers)
    ).json()
    created = await client.post(
        f"/api/v1/events/{event['id']}/checkin-tokens", json={"name": "Door"}, headers=owner.headers
    )
    checkin = await client.post(
        f"/api/v1/events/{event['id']}/checkins",
        json={"code": other_tickets[0]["code"]},
        headers=owner.headers,
    )
    ids = {
        "event_id": event["id"],
        "draft_id": draft["id"],
        "full_event_id": full["id"],
        "hold_event_id": for_holds["id"],
        "ticket_type_id": standing,
        "unsold_type_id": unsold,
        "booking_id": booking["id"],
        "hold_id": hold["id"],
        "entry_id": entry["id"],
        "ticket_id": ticket["id"],
        "checkin_id": checkin.json()["id"],
        "token_id": created.json()["id"],
        "user_id": attendee.id,
    }
    people: dict[str, Account | None] = {
        "anonymous": None,
        "attendee": attendee,
        "holder": holder,
        "organizer": organizer,
        "owner": owner,
        "admin": admin,
    }
    return World(people, created.json()["token"], ids, [t["code"] for t in other_tickets])


Body = Callable[[World], Any] | None


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as the OpenAPI document names it
    expected: dict[str, int | str]
    body: Body = None
    changes_things: bool = False  # a let-in call must run in a world of its own
    concrete: str | None = None  # the path with other ids than the usual ones (a draft)

    def url(self, world: World) -> str:
        return (self.concrete or self.path).format(**world.ids)


def row(**cells: int | str) -> dict[str, int | str]:
    """A matrix row; ``everyone``, ``users`` (every account; then nobody gets 401 and a check-in
    token 403) and ``others`` fill unnamed cells."""
    filled: dict[str, int | str] = {}
    for role in ROLES:
        if role in cells:
            filled[role] = cells[role]
        elif role == "anonymous" and "users" in cells:
            filled[role] = 401
        elif role == "door" and "users" in cells:
            filled[role] = 403  # a genuine token, for nothing but its event's door
        elif role not in {"anonymous", "door"} and "users" in cells:
            filled[role] = cells["users"]
        elif "others" in cells:
            filled[role] = cells["others"]
        else:
            filled[role] = cells["everyone"]
    return filled


PUBLIC = row(everyone=IN)
ANY_USER = row(users=IN)
# Creating events and reading one's own list: organizers and admins.
ORGANIZERS = row(users=403, organizer=IN, owner=IN, admin=IN)
# Changing a published event: visible to all, so a caller without the role is refused (403).
OWNER_CHANGES_PUBLIC = row(users=403, owner=IN, admin=IN)
# The owner's eyes only (stats, guest list, check-ins, tokens): 404 for anyone else.
OWNER_ONLY = row(users=404, owner=IN, admin=IN)
OWNER_OR_DOOR = row(users=404, owner=IN, admin=IN, door=IN)
ADMIN_ONLY = row(users=403, admin=IN)
HOLDER_OWNER_ADMIN = row(users=404, holder=IN, owner=IN, admin=IN)
HOLDER_ADMIN = row(users=404, holder=IN, admin=IN)
HOLDER_ONLY = row(users=404, holder=IN)


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


ENDPOINTS = [
    # Accounts: the body, not the caller, decides (a spent or forged token is 401 for anyone).
    Endpoint(
        "POST",
        "/api/v1/auth/register",
        PUBLIC,
        lambda w: {
            "email": f"{uuid.uuid4().hex}@example.com",
            "password": "s3cret-passw0rd",
            "full_name": "N",
        },
    ),
    Endpoint(
        "POST",
        "/api/v1/auth/login",
        PUBLIC,
        lambda w: {"email": w.people["holder"].email, "password": w.people["holder"].password},  # type: ignore[union-attr]
    ),
    Endpoint("POST", "/api/v1/auth/refresh", row(everyone=401), lambda w: {"refresh_token": "forged"}),
    Endpoint("POST", "/api/v1/auth/logout", ANY_USER, lambda w: {}, changes_things=True),
    Endpoint("POST", "/api/v1/auth/password/forgot", PUBLIC, lambda w: {"email": "x@example.com"}),
    Endpoint(
        "POST",
        "/api/v1/auth/password/reset",
        row(everyone=IN),  # 400 token_invalid for a forged token, whoever sends it
        lambda w: {"token": "forged", "new_password": "another-passw0rd"},
    ),
    Endpoint("GET", "/api/v1/users/me", ANY_USER),
    Endpoint("PATCH", "/api/v1/users/me", ANY_USER, lambda w: {"full_name": "Renamed"}),
    # Events.
    Endpoint("GET", "/api/v1/events", PUBLIC),
    Endpoint("POST", "/api/v1/events", ORGANIZERS, lambda w: {**_event(), "title": _unique("New")}),
    Endpoint("GET", "/api/v1/events/{event_id}", row(everyone=IN, door=403)),
    Endpoint(
        "GET",
        "/api/v1/events/{event_id}",
        row(users=404, anonymous=404, door=403, owner=IN, admin=IN),
        concrete="/api/v1/events/{draft_id}",
    ),
    Endpoint(
        "PATCH", "/api/v1/events/{event_id}", OWNER_CHANGES_PUBLIC, lambda w: {"description": "New words"}
    ),
    Endpoint(
        "PATCH",
        "/api/v1/events/{event_id}",
        OWNER_ONLY,
        lambda w: {"description": "New words"},
        concrete="/api/v1/events/{draft_id}",
    ),
    Endpoint("DELETE", "/api/v1/events/{event_id}", OWNER_CHANGES_PUBLIC, changes_things=True),
    Endpoint(
        "POST",
        "/api/v1/events/{event_id}/publish",
        OWNER_ONLY,
        changes_things=True,
        concrete="/api/v1/events/{draft_id}/publish",
    ),
    Endpoint(
        "POST", "/api/v1/events/{event_id}/cancel", OWNER_CHANGES_PUBLIC, lambda w: {}, changes_things=True
    ),
    Endpoint("GET", "/api/v1/organizer/events", ORGANIZERS),
    Endpoint(
        "POST",
        "/api/v1/events/{event_id}/ticket-types",
        OWNER_CHANGES_PUBLIC,
        lambda w: {"name": _unique("Type"), "price": "5.00", "capacity": 10},
    ),
    Endpoint(
        "PATCH",
        "/api/v1/events/{event_id}/ticket-types/{ticket_type_id}",
        OWNER_CHANGES_PUBLIC,
        lambda w: {"name": _unique("Renamed")},
    ),
    Endpoint(
        "DELETE",
        "/api/v1/events/{event_id}/ticket-types/{ticket_type_id}",
        OWNER_CHANGES_PUBLIC,
        changes_things=True,
        concrete="/api/v1/events/{event_id}/ticket-types/{unsold_type_id}",
    ),
    Endpoint("GET", "/api/v1/events/{event_id}/stats", OWNER_ONLY),
    # Bookings and holds.
    Endpoint(
        "POST",
        "/api/v1/bookings",
        ANY_USER,
        lambda w: {"event_id": w.ids["event_id"], "ticket_type_id": w.ids["ticket_type_id"]},
    ),
    Endpoint("GET", "/api/v1/bookings", ANY_USER),
    Endpoint("POST", "/api/v1/holds", ANY_USER, lambda w: {"event_id": w.ids["hold_event_id"]}),
    Endpoint("GET", "/api/v1/holds/{hold_id}", HOLDER_ADMIN),
    Endpoint("DELETE", "/api/v1/holds/{hold_id}", HOLDER_ADMIN, changes_things=True),
    Endpoint("POST", "/api/v1/holds/{hold_id}/extend", HOLDER_ONLY),
    Endpoint("POST", "/api/v1/holds/{hold_id}/confirm", HOLDER_ONLY, lambda w: {}, changes_things=True),
    Endpoint("GET", "/api/v1/bookings/{booking_id}", HOLDER_OWNER_ADMIN),
    Endpoint(
        "PATCH",
        "/api/v1/bookings/{booking_id}",
        row(users=404, holder=IN, owner=403, admin=IN),  # the organizer sees it, may not change it
        lambda w: {"holder_name": "Someone Else"},
    ),
    Endpoint("DELETE", "/api/v1/bookings/{booking_id}", HOLDER_OWNER_ADMIN, changes_things=True),
    Endpoint("GET", "/api/v1/events/{event_id}/bookings", OWNER_ONLY),
    # Tickets and the door.
    Endpoint("GET", "/api/v1/bookings/{booking_id}/tickets", HOLDER_OWNER_ADMIN),
    Endpoint("GET", "/api/v1/tickets/{ticket_id}/qr.svg", HOLDER_OWNER_ADMIN),
    Endpoint("GET", "/api/v1/tickets/{ticket_id}/qr.png", HOLDER_OWNER_ADMIN),
    Endpoint(
        "PATCH",
        "/api/v1/tickets/{ticket_id}",
        row(users=404, holder=IN, owner=403, admin=IN),
        lambda w: {"holder_name": "Grace Hopper"},
    ),
    Endpoint(
        "POST", "/api/v1/events/{event_id}/checkins", OWNER_OR_DOOR, lambda w: {"code": w.ticket_codes[1]}
    ),
    Endpoint("GET", "/api/v1/events/{event_id}/checkins", OWNER_ONLY),
    Endpoint("DELETE", "/api/v1/events/{event_id}/checkins/{checkin_id}", OWNER_OR_DOOR, changes_things=True),
    Endpoint("GET", "/api/v1/events/{event_id}/checkin-keys", OWNER_OR_DOOR),
    Endpoint("POST", "/api/v1/events/{event_id}/checkin-tokens", OWNER_ONLY, lambda w: {"name": "Gate"}),
    Endpoint("GET", "/api/v1/events/{event_id}/checkin-tokens", OWNER_ONLY),
    Endpoint(
        "DELETE", "/api/v1/events/{event_id}/checkin-tokens/{token_id}", OWNER_ONLY, changes_things=True
    ),
    # Waiting lists.
    Endpoint(
        "POST",
        "/api/v1/events/{event_id}/waitlist",
        ANY_USER,
        lambda w: {},
        concrete="/api/v1/events/{full_event_id}/waitlist",
    ),
    Endpoint(
        "GET",
        "/api/v1/events/{event_id}/waitlist",
        OWNER_ONLY,
        concrete="/api/v1/events/{full_event_id}/waitlist",
    ),
    Endpoint("GET", "/api/v1/waitlist", ANY_USER),
    Endpoint("DELETE", "/api/v1/waitlist/{entry_id}", HOLDER_ONLY, changes_things=True),
    # Administration.
    Endpoint("GET", "/api/v1/admin/users", ADMIN_ONLY),
    Endpoint("GET", "/api/v1/admin/users/{user_id}", ADMIN_ONLY),
    Endpoint("PATCH", "/api/v1/admin/users/{user_id}", ADMIN_ONLY, lambda w: {"is_active": True}),
    Endpoint("GET", "/api/v1/admin/stats", ADMIN_ONLY),
    Endpoint("GET", "/api/v1/admin/audit-log", ADMIN_ONLY),
    # Operations.
    Endpoint("GET", "/healthz", PUBLIC),
    Endpoint("GET", "/readyz", PUBLIC),
    Endpoint("GET", "/metrics", PUBLIC),
]


def _event() -> dict[str, Any]:
    from tests.factories import event_body

    return event_body()


async def _call(client: AsyncClient, world: World, endpoint: Endpoint, role: str) -> int:
    body = endpoint.body(world) if endpoint.body else None
    response = await client.request(
        endpoint.method, endpoint.url(world), json=body, headers=world.headers(role)
    )
    assert response.status_code < 500, (endpoint.method, endpoint.path, role, response.text)
    return response.status_code


def _matches(expected: int | str, status: int) -> bool:
    return status not in DENIED if expected == IN else status == expected


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {
        (method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations
    }
    assert routes == {(e.method, e.path) for e in ENDPOINTS}


async def test_every_endpoint_answers_every_kind_of_caller_as_the_permission_table_says(
    app: FastAPI, client: AsyncClient
) -> None:
    shared = await build_world(app, client)
    mismatches = []
    for endpoint in ENDPOINTS:
        for role in ROLES:
            expected = endpoint.expected[role]
            if endpoint.changes_things and expected == IN:
                world = await build_world(app, client)
            else:
                world = shared
            status = await _call(client, world, endpoint, role)
            if not _matches(expected, status):
                mismatches.append((endpoint.method, endpoint.url(world), role, expected, status))
    assert mismatches == [], "\n".join(map(str, mismatches))


async def test_ids_of_another_users_resources_answer_404(app: FastAPI, client: AsyncClient) -> None:
    """Everything an attendee holds, tried by another attendee with their own things: not found."""
    world = await build_world(app, client)
    stranger = world.people["attendee"]
    assert stranger is not None
    for path in (
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/tickets",
        "/api/v1/holds/{hold_id}",
        "/api/v1/tickets/{ticket_id}/qr.svg",
    ):
        response = await client.get(path.format(**world.ids), headers=stranger.headers)
        assert response.status_code == 404, (path, response.text)
    for method, path in (
        ("PATCH", "/api/v1/bookings/{booking_id}"),
        ("DELETE", "/api/v1/bookings/{booking_id}"),
        ("DELETE", "/api/v1/holds/{hold_id}"),
        ("POST", "/api/v1/holds/{hold_id}/confirm"),
        ("DELETE", "/api/v1/waitlist/{entry_id}"),
        ("PATCH", "/api/v1/tickets/{ticket_id}"),
    ):
        body = {"holder_name": "Mallory"} if method == "PATCH" else {} if method == "POST" else None
        response = await client.request(method, path.format(**world.ids), json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path, response.text)


async def test_ids_of_another_organizers_events_are_refused(app: FastAPI, client: AsyncClient) -> None:
    """Another organizer may see a published event, not change it (403), and not see its insides or
    a draft (404); a check-in token of one event opens no other event's door."""
    world = await build_world(app, client)
    rival = world.people["organizer"]
    assert rival is not None
    event = world.ids["event_id"]
    assert (
        await client.patch(f"/api/v1/events/{event}", json={"title": "Mine"}, headers=rival.headers)
    ).status_code == 403
    for path in ("stats", "bookings", "checkins", "checkin-tokens", "checkin-keys"):
        assert (await client.get(f"/api/v1/events/{event}/{path}", headers=rival.headers)).status_code == 404
    draft = world.ids["draft_id"]
    assert (await client.get(f"/api/v1/events/{draft}", headers=rival.headers)).status_code == 404

    own = await create_published_event(client, rival)
    door = world.headers("door")
    assert (await client.get(f"/api/v1/events/{own['id']}/checkin-keys", headers=door)).status_code in (
        401,
        404,
    )
    scanned = await client.post(
        f"/api/v1/events/{own['id']}/checkins", json={"code": world.ticket_codes[1]}, headers=door
    )
    assert scanned.status_code in (401, 404)
