"""Checkout holds (API.md, "Holds"): create, read, extend, confirm, release, and what they do to the
seat ledger."""

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from tests.bookings.helpers import (
    HOLD_FIELDS,
    HOLDS,
    booked,
    cancel_booking,
    confirm,
    held,
    hold,
    hold_url,
    my_bookings,
    published_scene,
    read_event,
    run_out,
    start_event,
    ticket_type_figures,
)
from tests.factories import (
    assert_ledger_consistent,
    assert_problem,
    create_account,
    create_admin,
    create_event,
    create_published_event,
)


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def test_a_hold_takes_tickets_for_the_events_hold_time(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10, hold_minutes=15)
    before = datetime.now(UTC)
    response = await hold(client, scene.attendee, scene.event_id, quantity=3)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert set(answer) == HOLD_FIELDS
    assert answer["status"] == "active"
    assert answer["quantity"] == 3
    assert answer["booking_id"] is None
    assert answer["ticket_type_id"] == scene.event["ticket_types"][0]["id"]
    expires = _parse(answer["expires_at"])
    assert expires.utcoffset() == timedelta(0)
    assert before + timedelta(minutes=15) <= expires <= datetime.now(UTC) + timedelta(minutes=15)
    assert await ticket_type_figures(client, scene.event_id) == [(0, 3, 7)]
    event = await read_event(client, scene.event_id)
    assert (event["tickets_sold"], event["tickets_held"], event["tickets_available"]) == (0, 3, 7)
    await assert_ledger_consistent(app)


async def test_hold_time_defaults_to_ten_minutes_and_is_refused_outside_1_to_120(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    assert (await create_event(client, organizer))["hold_minutes"] == 10
    for minutes in (0, 121, "ten"):
        response = await client.post(
            "/api/v1/events",
            json={"title": "T", "venue": "V", "city": "C", "starts_at": "2031-01-01T20:00:00Z", "capacity": 5,
                  "hold_minutes": minutes},
            headers=organizer.headers,
        )  # fmt: skip
        assert_problem(response, 422, "validation_error")
    event = await create_event(client, organizer, hold_minutes=30)
    changed = await client.patch(
        f"/api/v1/events/{event['id']}", json={"hold_minutes": 45}, headers=organizer.headers
    )
    assert changed.json()["hold_minutes"] == 45
    refused = await client.patch(
        f"/api/v1/events/{event['id']}", json={"hold_minutes": None}, headers=organizer.headers
    )
    assert_problem(refused, 422, "validation_error")


async def test_a_hold_that_does_not_fit_is_sold_out_and_says_how_many_are_left(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=5)
    await held(client, await create_account(client), scene.event_id, quantity=4)
    refused = await hold(client, scene.attendee, scene.event_id, quantity=2)
    assert assert_problem(refused, 409, "sold_out")["available"] == 1
    booking = await client.post(
        "/api/v1/bookings", json={"event_id": scene.event_id, "quantity": 2}, headers=scene.attendee.headers
    )
    assert assert_problem(booking, 409, "sold_out")["available"] == 1


async def test_one_active_hold_per_user_and_event(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    await held(client, scene.attendee, scene.event_id)
    assert_problem(await hold(client, scene.attendee, scene.event_id), 409, "hold_limit")
    other = await create_published_event(client, scene.organizer)
    assert (await hold(client, scene.attendee, other["id"])).status_code == 201


async def test_no_hold_while_holding_a_confirmed_booking(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    await booked(client, scene.attendee, scene.event_id)
    assert_problem(await hold(client, scene.attendee, scene.event_id), 409, "already_booked")


async def test_a_hold_follows_the_booking_rules(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10, max_tickets_per_booking=2)
    assert_problem(await client.post(HOLDS, json={"event_id": scene.event_id}), 401, "not_authenticated")
    assert_problem(await hold(client, scene.attendee, scene.event_id, quantity=3), 422, "validation_error")
    assert_problem(await hold(client, scene.attendee, scene.event_id, quantity=0), 422, "validation_error")
    assert_problem(await hold(client, scene.attendee, str(uuid.uuid4())), 404, "not_found")
    wrong_type = await hold(client, scene.attendee, scene.event_id, ticket_type_id=str(uuid.uuid4()))
    assert_problem(wrong_type, 404, "not_found")
    unknown_field = await hold(client, scene.attendee, scene.event_id, holder_name="Nope")
    assert_problem(unknown_field, 422, "validation_error")
    draft = await create_event(client, scene.organizer)
    assert_problem(await hold(client, scene.attendee, draft["id"]), 404, "not_found")
    await start_event(app, scene.event_id)
    assert_problem(await hold(client, scene.attendee, scene.event_id), 409, "event_not_bookable")


async def test_an_event_with_several_ticket_types_needs_the_type_named(client: AsyncClient) -> None:
    types = [
        {"name": "Standing", "price": "10.00", "capacity": 5},
        {"name": "Seated", "price": "20.00", "capacity": 2},
    ]
    scene = await published_scene(client, ticket_types=types)
    assert_problem(await hold(client, scene.attendee, scene.event_id), 422, "validation_error")
    seated = scene.event["ticket_types"][1]["id"]
    answer = await held(client, scene.attendee, scene.event_id, ticket_type_id=seated, quantity=2)
    assert answer["ticket_type_id"] == seated
    assert await ticket_type_figures(client, scene.event_id) == [(0, 0, 5), (0, 2, 0)]


async def test_a_hold_is_read_by_its_user_and_admins_only(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    own = await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert own.status_code == 200
    assert own.json() == mine
    admin = await create_admin(app, client)
    assert (await client.get(hold_url(mine["id"]), headers=admin.headers)).json() == mine
    for stranger in (await create_account(client), scene.organizer):
        assert_problem(await client.get(hold_url(mine["id"]), headers=stranger.headers), 404, "not_found")
    assert_problem(await client.get(hold_url(mine["id"])), 401, "not_authenticated")
    assert_problem(await client.get(hold_url(str(uuid.uuid4())), headers=admin.headers), 404, "not_found")


async def test_a_hold_whose_time_ran_out_reads_as_expired_at_once(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    await run_out(app, mine["id"])
    read = await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert read.json()["status"] == "expired"


async def test_extending_moves_the_expiry_on_by_the_hold_time_up_to_three_hold_times(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10, hold_minutes=10)
    mine = await held(client, scene.attendee, scene.event_id)
    first = _parse(mine["expires_at"])
    extended = await client.post(hold_url(mine["id"], "extend"), headers=scene.attendee.headers)
    assert extended.status_code == 200, extended.text
    assert _parse(extended.json()["expires_at"]) == first + timedelta(minutes=10)
    again = await client.post(hold_url(mine["id"], "extend"), headers=scene.attendee.headers)
    assert _parse(again.json()["expires_at"]) == _parse(mine["created_at"]) + timedelta(minutes=30)
    capped = await client.post(hold_url(mine["id"], "extend"), headers=scene.attendee.headers)
    assert_problem(capped, 409, "hold_limit")
    read = await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert read.json()["expires_at"] == again.json()["expires_at"]


async def test_only_its_user_extends_an_active_hold(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    admin = await create_admin(app, client)
    for other in (admin, await create_account(client)):
        assert_problem(
            await client.post(hold_url(mine["id"], "extend"), headers=other.headers), 404, "not_found"
        )
    await run_out(app, mine["id"])
    late = await client.post(hold_url(mine["id"], "extend"), headers=scene.attendee.headers)
    assert_problem(late, 409, "hold_expired")


async def test_confirming_turns_the_held_tickets_into_a_booking(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id, quantity=2)
    response = await confirm(client, scene.attendee, mine["id"], holder_name="Ada Lovelace")
    assert response.status_code == 201, response.text
    booking = response.json()
    assert (booking["quantity"], booking["status"], booking["holder_name"]) == (
        2,
        "confirmed",
        "Ada Lovelace",
    )
    assert booking["holder_email"] == scene.attendee.email
    assert booking["ticket_type_id"] == mine["ticket_type_id"]
    read = (await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)).json()
    assert (read["status"], read["booking_id"]) == ("confirmed", booking["id"])
    assert await ticket_type_figures(client, scene.event_id) == [(2, 0, 8)]
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_confirming_needs_no_body(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    response = await client.post(hold_url(mine["id"], "confirm"), headers=scene.attendee.headers)
    assert response.status_code == 201, response.text


async def test_a_confirmed_hold_cannot_be_confirmed_released_or_extended_again(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    assert (await confirm(client, scene.attendee, mine["id"])).status_code == 201
    assert_problem(await confirm(client, scene.attendee, mine["id"]), 409, "already_booked")
    released = await client.delete(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert_problem(released, 409, "invalid_transition")
    extended = await client.post(hold_url(mine["id"], "extend"), headers=scene.attendee.headers)
    assert_problem(extended, 409, "hold_expired")
    assert await ticket_type_figures(client, scene.event_id) == [(1, 0, 9)]
    await assert_ledger_consistent(app)


async def test_only_its_user_confirms_a_hold(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    admin = await create_admin(app, client)
    for other in (admin, scene.organizer, await create_account(client)):
        assert_problem(await confirm(client, other, mine["id"]), 404, "not_found")
    assert_problem(await confirm(client, scene.attendee, str(uuid.uuid4())), 404, "not_found")
    assert_problem(await client.post(hold_url(mine["id"], "confirm")), 401, "not_authenticated")
    assert_problem(await confirm(client, scene.attendee, mine["id"], quantity=3), 422, "validation_error")


async def test_confirming_while_already_booked_is_refused_and_keeps_the_hold(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id, quantity=2)
    await booked(client, scene.attendee, scene.event_id)
    assert_problem(await confirm(client, scene.attendee, mine["id"]), 409, "already_booked")
    read = (await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)).json()
    assert read["status"] == "active"
    assert await ticket_type_figures(client, scene.event_id) == [(1, 2, 7)]
    await assert_ledger_consistent(app)


async def test_an_expired_hold_is_still_confirmed_if_its_tickets_can_be_taken_again(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=3)
    mine = await held(client, scene.attendee, scene.event_id, quantity=2)
    await run_out(app, mine["id"])
    # Someone else's hold finds the expired one in its way and returns its tickets first.
    await held(client, await create_account(client), scene.event_id, quantity=2)
    assert await ticket_type_figures(client, scene.event_id) == [(0, 2, 1)]
    assert_problem(await confirm(client, scene.attendee, mine["id"]), 409, "hold_expired")
    await assert_ledger_consistent(app)
    roomy = await published_scene(client, capacity=10)
    second = await held(client, roomy.attendee, roomy.event_id, quantity=2)
    await run_out(app, second["id"])
    await held(
        client, await create_account(client), roomy.event_id, quantity=8
    )  # expires `second` on its way
    assert await ticket_type_figures(client, roomy.event_id) == [(0, 8, 2)]
    response = await confirm(client, roomy.attendee, second["id"])
    assert response.status_code == 201, response.text
    assert await ticket_type_figures(client, roomy.event_id) == [(2, 8, 0)]
    await assert_ledger_consistent(app)


async def test_a_hold_whose_time_ran_out_but_still_holds_its_tickets_is_confirmed(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=2)
    mine = await held(client, scene.attendee, scene.event_id, quantity=2)
    await run_out(app, mine["id"])
    response = await confirm(client, scene.attendee, mine["id"])
    assert response.status_code == 201, response.text
    assert await ticket_type_figures(client, scene.event_id) == [(2, 0, 0)]
    await assert_ledger_consistent(app)


async def test_confirming_with_an_idempotency_key_replays_the_first_answer(
    app: FastAPI, client: AsyncClient
) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id)
    first = await confirm(client, scene.attendee, mine["id"], key="checkout-7")
    assert first.status_code == 201, first.text
    again = await confirm(client, scene.attendee, mine["id"], key="checkout-7")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other_body = await confirm(client, scene.attendee, mine["id"], key="checkout-7", holder_name="Someone")
    assert_problem(other_body, 422, "idempotency_key_mismatch")
    assert (await my_bookings(client, scene.attendee)).json()["total"] == 1
    await assert_ledger_consistent(app)


async def test_releasing_gives_the_tickets_back_at_once(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=4)
    mine = await held(client, scene.attendee, scene.event_id, quantity=4)
    assert await ticket_type_figures(client, scene.event_id) == [(0, 4, 0)]
    released = await client.delete(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert released.status_code == 204
    assert await ticket_type_figures(client, scene.event_id) == [(0, 0, 4)]
    read = (await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)).json()
    assert read["status"] == "released"
    assert_problem(await confirm(client, scene.attendee, mine["id"]), 409, "hold_expired")
    again = await client.delete(hold_url(mine["id"]), headers=scene.attendee.headers)
    assert again.status_code == 204
    assert await ticket_type_figures(client, scene.event_id) == [(0, 0, 4)]
    assert (await hold(client, scene.attendee, scene.event_id)).status_code == 201
    await assert_ledger_consistent(app)


async def test_an_admin_may_release_a_hold_and_it_is_audited(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=4)
    mine = await held(client, scene.attendee, scene.event_id)
    for stranger in (scene.organizer, await create_account(client)):
        assert_problem(await client.delete(hold_url(mine["id"]), headers=stranger.headers), 404, "not_found")
    admin = await create_admin(app, client)
    assert (await client.delete(hold_url(mine["id"]), headers=admin.headers)).status_code == 204
    audit = await client.get(
        "/api/v1/admin/audit-log", params={"action": "hold.released"}, headers=admin.headers
    )
    assert [entry["target_id"] for entry in audit.json()["items"]] == [mine["id"]]
    await assert_ledger_consistent(app)


async def test_cancelling_the_event_releases_its_holds(app: FastAPI, client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    mine = await held(client, scene.attendee, scene.event_id, quantity=3)
    await booked(client, await create_account(client), scene.event_id, quantity=2)
    cancelled = await client.post(f"/api/v1/events/{scene.event_id}/cancel", headers=scene.organizer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["tickets_held"] == 0
    read = (await client.get(hold_url(mine["id"]), headers=scene.attendee.headers)).json()
    assert read["status"] == "released"
    assert_problem(await confirm(client, scene.attendee, mine["id"]), 409, "hold_expired")
    await assert_ledger_consistent(app)


async def test_held_tickets_count_against_capacity_changes_and_ticket_type_removal(
    app: FastAPI, client: AsyncClient
) -> None:
    types = [
        {"name": "Standing", "price": "10.00", "capacity": 5},
        {"name": "Seated", "price": "20.00", "capacity": 5},
    ]
    scene = await published_scene(client, ticket_types=types)
    standing, seated = (t["id"] for t in scene.event["ticket_types"])
    await held(client, scene.attendee, scene.event_id, ticket_type_id=seated, quantity=3)
    await booked(client, await create_account(client), scene.event_id, ticket_type_id=seated, quantity=1)
    url = f"/api/v1/events/{scene.event_id}/ticket-types/{seated}"
    lowered = await client.patch(url, json={"capacity": 3}, headers=scene.organizer.headers)
    body = assert_problem(lowered, 409, "capacity_below_sold")
    assert (body["sold"], body["held"]) == (1, 3)
    assert (await client.patch(url, json={"capacity": 4}, headers=scene.organizer.headers)).status_code == 200
    removable = await client.post(
        f"/api/v1/events/{scene.event_id}/ticket-types",
        json={"name": "Balcony", "price": "5.00", "capacity": 2},
        headers=scene.organizer.headers,
    )
    balcony = removable.json()["id"]
    await held(client, await create_account(client), scene.event_id, ticket_type_id=balcony)
    removal = await client.delete(
        f"/api/v1/events/{scene.event_id}/ticket-types/{balcony}", headers=scene.organizer.headers
    )
    assert_problem(removal, 409, "has_sales")
    assert standing
    await assert_ledger_consistent(app)


async def test_stats_show_held_tickets(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    await held(client, scene.attendee, scene.event_id, quantity=3)
    await booked(client, await create_account(client), scene.event_id, quantity=2)
    stats = (
        await client.get(f"/api/v1/events/{scene.event_id}/stats", headers=scene.organizer.headers)
    ).json()
    assert (stats["tickets_sold"], stats["tickets_held"], stats["tickets_available"]) == (2, 3, 5)
    [figures] = stats["ticket_types"]
    assert (figures["sold"], figures["held"], figures["available"]) == (2, 3, 5)
    mine = (await client.get("/api/v1/organizer/events", headers=scene.organizer.headers)).json()["items"]
    assert (mine[0]["tickets_held"], mine[0]["ticket_types"][0]["held"]) == (3, 3)


async def test_a_cancelled_booking_lets_its_holder_hold_again(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=10)
    booking = await booked(client, scene.attendee, scene.event_id)
    assert (await cancel_booking(client, scene.attendee, booking["id"])).status_code == 200
    assert (await hold(client, scene.attendee, scene.event_id)).status_code == 201
