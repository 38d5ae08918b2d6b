"""Admins and organizers losing their role: never no admin left, and no management kept."""

import asyncio
from collections import Counter

from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import create_account, create_admin, create_event

USERS = "/api/v1/admin/users"


async def _admins(client: AsyncClient, viewer_headers: dict[str, str]) -> list[str]:
    page = (
        await client.get(USERS, params={"role": "admin", "is_active": True}, headers=viewer_headers)
    ).json()
    return [user["id"] for user in page["items"]]


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    app: FastAPI, client: AsyncClient
) -> None:
    for _ in range(3):
        first, second = await create_admin(app, client), await create_admin(app, client)
        responses = await asyncio.gather(
            client.patch(f"{USERS}/{second.id}", json={"role": "attendee"}, headers=first.headers),
            client.patch(f"{USERS}/{first.id}", json={"role": "attendee"}, headers=second.headers),
        )
        assert Counter(r.status_code for r in responses) == Counter({200: 1, 403: 1}), [
            r.text for r in responses
        ]
        winner = first if responses[0].status_code == 200 else second
        admins = await _admins(client, winner.headers)
        assert winner.id in admins
        assert ({first.id, second.id} & set(admins)) == {winner.id}


async def test_two_admins_disabling_each_other_at_once_leave_one_active(
    app: FastAPI, client: AsyncClient
) -> None:
    first, second = await create_admin(app, client), await create_admin(app, client)
    responses = await asyncio.gather(
        client.patch(f"{USERS}/{second.id}", json={"is_active": False}, headers=first.headers),
        client.patch(f"{USERS}/{first.id}", json={"is_active": False}, headers=second.headers),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 401], [200, 403]), [r.text for r in responses]


async def test_an_organizer_demoted_to_attendee_no_longer_manages_their_events(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    demoted = await client.patch(f"{USERS}/{organizer.id}", json={"role": "attendee"}, headers=admin.headers)
    assert demoted.status_code == 200

    url = f"/api/v1/events/{event['id']}"
    attempts = [
        await client.patch(url, json={"title": "Mine still"}, headers=organizer.headers),
        await client.post(f"{url}/publish", headers=organizer.headers),
        await client.get(f"{url}/stats", headers=organizer.headers),
        await client.get(f"{url}/bookings", headers=organizer.headers),
        await client.delete(url, headers=organizer.headers),
        await client.get("/api/v1/organizer/events", headers=organizer.headers),
    ]
    assert all(r.status_code in (403, 404) for r in attempts), [(r.status_code, r.text) for r in attempts]
