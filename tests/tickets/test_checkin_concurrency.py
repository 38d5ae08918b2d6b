"""Real parallel check-ins against a real database: each request has its own connection and
transaction, so the database, not Python, decides which scanner admits a ticket."""

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from tests.bookings.helpers import cancel_booking
from tests.factories import assert_ledger_consistent, assert_problem
from tests.processes import boxoffice_serve
from tests.tickets.helpers import check_in, checkins_url, door_scene, door_token, tickets_of, undo


def _no_server_errors(responses: list[Response]) -> None:
    errors = [r.text for r in responses if r.status_code >= 500]
    assert not errors, errors[:3]


async def test_twenty_scanners_admitting_one_ticket_at_once_admit_it_once(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    tokens = [await door_token(client, door.organizer, door.event_id, name=f"Door {n}") for n in range(10)]
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    callers = [*tokens, *[door.organizer.access_token] * 10]

    responses = await asyncio.gather(
        *(check_in(client, caller, door.event_id, ticket["code"]) for caller in callers)
    )

    _no_server_errors(responses)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 19}
    [admitted] = [r.json() for r in responses if r.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            assert (
                assert_problem(response, 409, "already_checked_in")["checked_in_at"] == admitted["created_at"]
            )
    page = (await client.get(checkins_url(door.event_id), headers=door.organizer.headers)).json()
    assert [c["id"] for c in page["items"]] == [admitted["id"]]


async def test_one_scan_sent_twenty_times_at_once_gets_its_first_answer_every_time(
    client: AsyncClient,
) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])

    responses = await asyncio.gather(
        *(check_in(client, token, door.event_id, ticket["code"], nonce="scan-7") for _ in range(20))
    )

    _no_server_errors(responses)
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    page = (await client.get(checkins_url(door.event_id), headers=door.organizer.headers)).json()
    assert page["total"] == 1


async def test_twenty_undos_at_once_undo_once(client: AsyncClient) -> None:
    door = await door_scene(client, quantity=1)
    token = await door_token(client, door.organizer, door.event_id)
    [ticket] = await tickets_of(client, door.attendee, door.booking["id"])
    checkin = (await check_in(client, token, door.event_id, ticket["code"])).json()

    responses = await asyncio.gather(*(undo(client, token, door.event_id, checkin["id"]) for _ in range(20)))

    _no_server_errors(responses)
    assert Counter(r.status_code for r in responses) == {204: 1, 404: 19}


@pytest.mark.parametrize("what", ["booking", "event"])
async def test_scans_racing_a_cancellation_end_cleanly_and_admit_each_ticket_at_most_once(
    app: FastAPI, client: AsyncClient, what: str
) -> None:
    door = await door_scene(client, quantity=3)
    token = await door_token(client, door.organizer, door.event_id)
    tickets = await tickets_of(client, door.attendee, door.booking["id"])
    work = [check_in(client, token, door.event_id, t["code"]) for t in tickets for _ in range(5)]
    if what == "booking":
        work.insert(7, cancel_booking(client, door.attendee, door.booking["id"]))
    else:
        url = f"/api/v1/events/{door.event_id}/cancel"
        work.insert(7, client.post(url, json={}, headers=door.organizer.headers))

    responses = await asyncio.gather(*work)

    _no_server_errors(responses)
    assert all(r.status_code in (200, 201, 409) for r in responses), [r.text for r in responses]
    scans = [r for r in responses if r.request.url.path.endswith("/checkins")]
    assert {r.json()["code"] for r in scans if r.status_code == 409} <= {
        "already_checked_in",
        "ticket_cancelled",
    }
    admitted = Counter(r.json()["ticket_id"] for r in scans if r.status_code == 201)
    assert all(count == 1 for count in admitted.values())
    final = await tickets_of(client, door.attendee, door.booking["id"])
    assert [t["status"] for t in final] == ["cancelled"] * 3
    assert {t["id"] for t in final if t["checked_in_at"] is not None} == set(admitted)
    await assert_ledger_consistent(app)


@pytest.mark.slow
async def test_two_server_processes_admit_a_ticket_once(database_url: str, tmp_path: Path) -> None:
    """Scanners at two `boxoffice serve` processes admit one ticket at once: still one admission,
    decided by the database."""
    settings = {"rate_limits_enabled": "false", "run_worker": "false", "secret_key": "door-test-" + "k" * 32}
    with (
        boxoffice_serve(database_url, tmp_path / "first", **settings) as first,
        boxoffice_serve(database_url, tmp_path / "second", **settings) as second,
    ):
        async with (
            AsyncClient(base_url=first.base, timeout=30) as one,
            AsyncClient(base_url=second.base, timeout=30) as two,
        ):
            door = await door_scene(one, quantity=1)
            token = await door_token(one, door.organizer, door.event_id)
            [ticket] = await tickets_of(one, door.attendee, door.booking["id"])

            responses = await asyncio.gather(
                *(
                    check_in(http, token, door.event_id, ticket["code"])
                    for _ in range(10)
                    for http in (one, two)
                )
            )

            _no_server_errors(responses)
            assert Counter(r.status_code for r in responses) == {201: 1, 409: 19}
            [admitted] = [r.json() for r in responses if r.status_code == 201]
            refused = {r.json()["checked_in_at"] for r in responses if r.status_code == 409}
            assert refused == {admitted["created_at"]}
