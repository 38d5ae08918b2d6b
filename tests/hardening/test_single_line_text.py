"""Single-line fields refuse control and line-separator characters: they reach mail headers."""

import pytest
from httpx import AsyncClient

from boxoffice.core.schemas import one_line
from boxoffice.notifications.messages import calendar_file
from tests.events.helpers import EVENTS, assert_field_error
from tests.factories import book, create_account, create_event, create_published_event, event_body, register

BREAKERS = {
    "cr": "\r",
    "lf": "\n",
    "crlf": "\r\n",
    "line_separator": "\u2028",
    "paragraph_separator": "\u2029",
    "next_line": "\u0085",
    "tab": "\t",
    "escape": "\x1b",
}
EVENT_FIELDS = ["title", "venue", "city", "address", "category"]


@pytest.mark.parametrize("field", EVENT_FIELDS)
@pytest.mark.parametrize("breaker", sorted(BREAKERS))
async def test_an_event_text_field_with_a_line_break_is_refused(
    client: AsyncClient, field: str, breaker: str
) -> None:
    organizer = await create_account(client, role="organizer")
    body = {**event_body(), field: f"Jazz{BREAKERS[breaker]}Bcc: victim@example.com"}
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert_field_error(response, ["body", field])


async def test_a_ticket_type_name_with_a_line_break_is_refused(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    body = {**event_body(), "ticket_types": [{"name": "VIP\r\nX-Evil: 1", "price": "1.00", "capacity": 5}]}
    body.pop("capacity", None)
    response = await client.post(EVENTS, json=body, headers=organizer.headers)
    assert response.status_code == 422


async def test_an_event_title_cannot_gain_a_line_break_by_update(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.patch(
        f"{EVENTS}/{event['id']}", json={"title": "A\u2028B"}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "title"])


async def test_a_full_name_with_a_line_break_is_refused(client: AsyncClient) -> None:
    response = await register(client, full_name="Ada\nLovelace")
    assert_field_error(response, ["body", "full_name"])


async def test_a_holder_name_with_a_line_break_is_refused(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    response = await book(client, attendee, event["id"], holder_name="Ada\u0085Lovelace")
    assert_field_error(response, ["body", "holder_name"])


async def test_a_line_break_at_either_end_is_trimmed_not_refused(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(EVENTS, json={**event_body(), "title": "Jazz\n"}, headers=organizer.headers)
    assert response.status_code == 201
    assert response.json()["title"] == "Jazz"


def test_one_line_makes_any_text_fit_a_header() -> None:
    assert one_line("a\r\nb\u2028c\u0085d\te") == "a  b c d e"


def test_the_calendar_file_escapes_line_breaks_and_folds_long_lines() -> None:
    title = "Harbour\r\nBlues " + "é" * 120  # stored before titles were single-line
    context = {
        "event": {
            "title": title,
            "timezone": "Europe/Berlin",
            "starts_at": "2031-01-10T19:00:00+00:00",
            "ends_at": "2031-01-10T22:00:00+00:00",
            "venue": "Quasimodo",
            "address": None,
            "city": "Berlin",
        },
        "booking": {"id": "b1", "code": "K7QM-3XTP", "quantity": 2, "ticket_type": "General"},
    }
    ics = calendar_file(context).encode()
    lines = ics.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)  # RFC 5545 3.1: octets, not characters
    assert b"\r" not in b"".join(lines)
    assert b"\n" not in b"".join(lines)
    unfolded = ics.replace(b"\r\n ", b"").decode()
    assert "SUMMARY:Harbour\\nBlues " + "é" * 120 in unfolded
    assert "BEGIN:VTIMEZONE" in unfolded
    assert "DTSTART;TZID=Europe/Berlin:20310110T200000" in unfolded
