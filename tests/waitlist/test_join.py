"""Joining, reading and leaving a waiting list (API.md, "Waiting list")."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import booked, cancel_booking, held, many_accounts, published_scene, start_event
from tests.factories import assert_problem, create_account, create_admin, create_event
from tests.waitlist.helpers import (
    ENTRY_FIELDS,
    WAITLIST,
    join,
    joined,
    leave,
    line_figures,
    line_url,
    my_entries,
    my_entry,
    sold_out,
)


async def test_people_join_a_sold_out_ticket_type_and_see_their_place_in_line(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=2)
    first, second = await many_accounts(client, 2)

    entry = await joined(client, first, scene.event_id, quantity=2)
    assert set(entry) == ENTRY_FIELDS
    assert entry["event_id"] == scene.event_id
    assert entry["ticket_type_id"] == scene.event["ticket_types"][0]["id"]
    assert (entry["quantity"], entry["status"], entry["position"], entry["hold"]) == (2, "waiting", 1, None)
    assert (await joined(client, second, scene.event_id))["position"] == 2

    # The public sees it sold out, and how many wait.
    assert await line_figures(client, scene.event_id) == [(2, 0, 2, 0)]
    event = (await client.get(f"/api/v1/events/{scene.event_id}")).json()
    assert (event["tickets_available"], event["waitlist_enabled"], event["waitlist_offer_hours"]) == (
        0,
        True,
        24,
    )
    assert [e["position"] for e in await my_entries(client, second)] == [2]


async def test_joining_while_tickets_are_on_sale_is_refused_buy_instead(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=3)
    await booked(client, scene.attendee, scene.event_id, quantity=2)
    body = assert_problem(
        await join(client, await create_account(client), scene.event_id, quantity=2), 409, "tickets_available"
    )
    assert "1 tickets on sale" in body["detail"]
    assert await line_figures(client, scene.event_id) == [(2, 0, 0, 1)]


async def test_tickets_all_held_by_checkouts_count_as_sold_out(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    await held(client, scene.attendee, scene.event_id)
    entry = await joined(client, await create_account(client), scene.event_id)
    assert entry["position"] == 1
    assert await line_figures(client, scene.event_id) == [(0, 1, 1, 0)]


async def test_one_place_in_line_per_person_and_event_and_none_while_booked(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    person = await create_account(client)
    await joined(client, person, scene.event_id)
    assert_problem(await join(client, person, scene.event_id), 409, "already_waiting")
    assert_problem(await join(client, scene.buyers[0], scene.event_id), 409, "already_booked")
    assert await line_figures(client, scene.event_id) == [(1, 0, 1, 0)]


async def test_after_leaving_a_person_may_join_again_at_the_back(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    person, other = await many_accounts(client, 2)
    first = await joined(client, person, scene.event_id)
    await joined(client, other, scene.event_id)

    assert (await leave(client, person, first["id"])).status_code == 204
    assert (await my_entry(client, other))["position"] == 1
    again = await joined(client, person, scene.event_id)
    assert again["position"] == 2
    statuses = sorted(e["status"] for e in await my_entries(client, person))
    assert statuses == ["left", "waiting"]
    assert await line_figures(client, scene.event_id) == [(1, 0, 2, 0)]
    # Leaving again, or an entry that has ended, changes nothing.
    assert (await leave(client, person, first["id"])).status_code == 204
    assert await line_figures(client, scene.event_id) == [(1, 0, 2, 0)]


async def test_only_events_on_sale_with_a_waiting_list_can_be_joined(
    app: FastAPI, client: AsyncClient
) -> None:
    person = await create_account(client)
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer, capacity=1)
    assert_problem(await join(client, person, draft["id"]), 404, "not_found")

    no_line = await sold_out(client, capacity=1, waitlist_enabled=False)
    assert no_line.event["waitlist_enabled"] is False
    assert_problem(await join(client, person, no_line.event_id), 409, "event_not_bookable")

    started = await sold_out(client, capacity=1)
    await start_event(app, started.event_id)
    assert_problem(await join(client, person, started.event_id), 409, "event_not_bookable")

    cancelled = await sold_out(client, capacity=1)
    await client.post(
        f"/api/v1/events/{cancelled.event_id}/cancel", json={}, headers=cancelled.organizer.headers
    )
    assert_problem(await join(client, person, cancelled.event_id), 409, "event_not_bookable")


async def test_a_join_must_say_what_and_how_many(client: AsyncClient) -> None:
    two_types = await published_scene(
        client,
        max_tickets_per_booking=2,
        ticket_types=[{"name": "A", "price": "1", "capacity": 1}, {"name": "B", "price": "1", "capacity": 1}],
    )
    person = await create_account(client)
    assert_problem(await join(client, person, two_types.event_id), 422, "validation_error")
    kind = two_types.event["ticket_types"][0]["id"]
    assert_problem(
        await join(client, person, two_types.event_id, ticket_type_id=kind, quantity=3),
        422,
        "validation_error",
    )
    assert_problem(
        await join(client, person, two_types.event_id, ticket_type_id=kind, quantity=0),
        422,
        "validation_error",
    )
    assert_problem(
        await join(client, person, two_types.event_id, ticket_type_id=kind, position=1),
        422,
        "validation_error",
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(await join(client, person, two_types.event_id, ticket_type_id=unknown), 404, "not_found")
    anonymous = await client.post(line_url(two_types.event_id), json={})
    assert_problem(anonymous, 401, "not_authenticated")


async def test_a_person_sees_only_their_own_entries_and_may_leave_only_those(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    person, stranger = await many_accounts(client, 2)
    entry = await joined(client, person, scene.event_id)
    assert await my_entries(client, stranger) == []
    assert_problem(await leave(client, stranger, entry["id"]), 404, "not_found")
    assert_problem(await leave(client, scene.organizer, entry["id"]), 404, "not_found")
    assert [e["id"] for e in await my_entries(client, person, status="waiting")] == [entry["id"]]
    assert await my_entries(client, person, status="left") == []
    assert_problem(
        await client.get(WAITLIST, params={"status": "nope"}, headers=person.headers), 422, "validation_error"
    )


async def test_the_organizer_reads_the_line_in_order_and_as_csv(app: FastAPI, client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    people = await many_accounts(client, 3)
    entries = [
        await joined(client, person, scene.event_id, quantity=1 + i % 2) for i, person in enumerate(people)
    ]
    await leave(client, people[1], entries[1]["id"])

    response = await client.get(line_url(scene.event_id), headers=scene.organizer.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3
    assert [(e["id"], e["status"], e["position"]) for e in page["items"]] == [
        (entries[0]["id"], "waiting", 1),
        (entries[1]["id"], "left", None),
        (entries[2]["id"], "waiting", 2),
    ]
    waiting = await client.get(
        line_url(scene.event_id), params={"status": "waiting", "limit": 1}, headers=scene.organizer.headers
    )
    assert [e["id"] for e in waiting.json()["items"]] == [entries[0]["id"]]
    assert waiting.json()["total"] == 2

    exported = await client.get(
        line_url(scene.event_id), headers={**scene.organizer.headers, "Accept": "text/csv"}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["position"], r["status"], r["email"], r["quantity"]) for r in rows] == [
        ("1", "waiting", people[0].email, "1"),
        ("", "left", people[1].email, "2"),
        ("2", "waiting", people[2].email, "1"),
    ]
    assert rows[0]["ticket_type"] == "General admission"
    assert rows[0]["joined_at"] == page["items"][0]["created_at"]
    by_format = await client.get(
        line_url(scene.event_id), params={"format": "csv"}, headers=scene.organizer.headers
    )
    assert by_format.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(by_format.text))) == rows

    admin = await create_admin(app, client)
    assert (await client.get(line_url(scene.event_id), headers=admin.headers)).json()["total"] == 3
    for outsider in (people[0], await create_account(client, role="organizer")):
        assert_problem(await client.get(line_url(scene.event_id), headers=outsider.headers), 404, "not_found")


async def test_csv_cells_are_not_formulas(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=1)
    person = await create_account(client)
    await client.patch("/api/v1/users/me", json={"full_name": "=HYPERLINK(1)"}, headers=person.headers)
    await joined(client, person, scene.event_id)
    exported = await client.get(
        line_url(scene.event_id), headers={**scene.organizer.headers, "Accept": "text/csv"}
    )
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["full_name"] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("hours", [0, 169])
async def test_the_offer_time_is_one_hour_to_a_week(client: AsyncClient, hours: int) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(
        "/api/v1/events",
        json={
            "title": "T",
            "venue": "V",
            "city": "C",
            "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "capacity": 1,
            "waitlist_offer_hours": hours,
        },
        headers=organizer.headers,
    )
    assert_problem(response, 422, "validation_error")


async def test_the_organizer_changes_the_waiting_list_settings(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=1)
    url = f"/api/v1/events/{scene.event_id}"
    changed = await client.patch(
        url, json={"waitlist_enabled": False, "waitlist_offer_hours": 2}, headers=scene.organizer.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["waitlist_enabled"], changed.json()["waitlist_offer_hours"]) == (False, 2)
    assert_problem(
        await client.patch(url, json={"waitlist_offer_hours": None}, headers=scene.organizer.headers),
        422,
        "validation_error",
    )
    assert_problem(
        await client.patch(url, json={"waitlist_enabled": None}, headers=scene.organizer.headers),
        422,
        "validation_error",
    )


async def test_a_cancelled_booking_lets_its_holder_join_again(client: AsyncClient) -> None:
    scene = await sold_out(client, capacity=2)
    buyer = scene.buyers[0]
    await cancel_booking(client, buyer, scene.bookings[0]["id"])
    # One ticket is on sale again: nobody waits, so it is sold, not queued for.
    assert_problem(await join(client, buyer, scene.event_id), 409, "tickets_available")
