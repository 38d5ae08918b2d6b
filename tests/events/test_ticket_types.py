"""POST/PATCH/DELETE /events/{id}/ticket-types: adding, changing and removing kinds of ticket."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import assert_field_error, cancel, event_url, ticket_type_url
from tests.factories import (
    assert_ledger_consistent,
    assert_problem,
    book,
    create_account,
    create_event,
    create_published_event,
)

TWO_TYPES = [
    {"name": "Standing", "price": "20.00", "capacity": 10},
    {"name": "Seated", "price": "35.00", "capacity": 5},
]


async def test_adding_a_ticket_type_answers_201_with_it(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, capacity=50)
    response = await client.post(
        event_url(event["id"], "ticket-types"),
        json={"name": "VIP", "price": "99.9", "capacity": 5},
        headers=organizer.headers,
    )
    assert response.status_code == 201, response.text
    added = response.json()
    assert set(added) == {"id", "name", "price", "capacity", "sold", "held", "waiting", "available"}
    assert (added["name"], added["price"], added["capacity"], added["sold"], added["available"]) == (
        "VIP",
        "99.90",
        5,
        0,
        5,
    )
    read = (await client.get(event_url(event["id"]), headers=organizer.headers)).json()
    assert [t["name"] for t in read["ticket_types"]] == ["General admission", "VIP"]
    assert read["capacity"] == 55


async def test_a_ticket_type_may_be_added_to_a_published_event_and_booked(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=50)
    added = (
        await client.post(
            event_url(event["id"], "ticket-types"),
            json={"name": "Late", "price": "5", "capacity": 2},
            headers=organizer.headers,
        )
    ).json()
    booked = await book(client, attendee, event["id"], ticket_type_id=added["id"], quantity=2)
    assert booked.status_code == 201, booked.text
    assert booked.json()["total_price"] == "10.00"


async def test_a_ticket_type_cannot_be_added_to_a_cancelled_event(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await cancel(client, organizer, event["id"])
    response = await client.post(
        event_url(event["id"], "ticket-types"),
        json={"name": "VIP", "price": "10.00", "capacity": 5},
        headers=organizer.headers,
    )
    assert_problem(response, 409, "invalid_transition")


async def test_a_ticket_type_name_is_unique_within_its_event(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, ticket_types=TWO_TYPES)
    response = await client.post(
        event_url(event["id"], "ticket-types"),
        json={"name": "Seated", "price": "1.00", "capacity": 1},
        headers=organizer.headers,
    )
    assert_field_error(response, ["body", "name"])


async def test_an_event_has_at_most_twenty_ticket_types(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    types = [{"name": f"T{n}", "price": "1.00", "capacity": 1} for n in range(20)]
    event = await create_event(client, organizer, ticket_types=types)
    response = await client.post(
        event_url(event["id"], "ticket-types"),
        json={"name": "One too many", "price": "1.00", "capacity": 1},
        headers=organizer.headers,
    )
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "price": "1.00", "capacity": 1}, "name"),
        ({"name": "n" * 101, "price": "1.00", "capacity": 1}, "name"),
        ({"name": "X", "price": "-1.00", "capacity": 1}, "price"),
        ({"name": "X", "price": "1.005", "capacity": 1}, "price"),
        ({"name": "X", "price": "1.00", "capacity": 0}, "capacity"),
        ({"price": "1.00", "capacity": 1}, "name"),
        ({"name": "X", "capacity": 1}, "price"),
        ({"name": "X", "price": "1.00"}, "capacity"),
        ({"name": "X", "price": "1.00", "capacity": 1, "sold": 1}, "sold"),
    ],
)
async def test_an_invalid_new_ticket_type_is_rejected(
    client: AsyncClient, body: dict[str, Any], field: str
) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    response = await client.post(event_url(event["id"], "ticket-types"), json=body, headers=organizer.headers)
    assert_field_error(response, ["body", field])


async def test_a_ticket_type_may_be_renamed_repriced_and_resized(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    response = await client.patch(
        ticket_type_url(event["id"], seated["id"]),
        json={"name": "Balcony", "price": 42.5, "capacity": 8},
        headers=organizer.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": seated["id"],
        "name": "Balcony",
        "price": "42.50",
        "capacity": 8,
        "sold": 0,
        "held": 0,
        "waiting": 0,
        "available": 8,
    }
    read = (await client.get(event_url(event["id"]), headers=organizer.headers)).json()
    assert read["capacity"] == 18
    assert read["ticket_types"][1]["name"] == "Balcony"


@pytest.mark.parametrize(("field", "value"), [("name", "Renamed"), ("price", "0"), ("capacity", 3)])
async def test_a_ticket_type_update_changes_only_the_given_field(
    client: AsyncClient, field: str, value: Any
) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, ticket_types=TWO_TYPES)
    standing = event["ticket_types"][0]
    response = await client.patch(
        ticket_type_url(event["id"], standing["id"]), json={field: value}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text
    expected = {**standing, field: "0.00" if field == "price" else value}
    if field == "capacity":
        expected["available"] = value
    assert response.json() == expected


async def test_a_ticket_type_may_be_resized_above_what_is_sold(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    general = event["ticket_types"][0]
    await book(client, attendee, event["id"], quantity=4)
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]), json={"capacity": 4}, headers=organizer.headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["capacity"], response.json()["sold"], response.json()["available"]) == (4, 4, 0)
    await assert_ledger_consistent(app)


async def test_a_capacity_below_what_is_sold_is_refused(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    general = event["ticket_types"][0]
    await book(client, attendee, event["id"], quantity=4)
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]), json={"capacity": 3}, headers=organizer.headers
    )
    assert_problem(response, 409, "capacity_below_sold")
    read = (await client.get(event_url(event["id"]))).json()
    assert read["ticket_types"][0]["capacity"] == 10
    await assert_ledger_consistent(app)


async def test_a_refused_capacity_change_keeps_the_other_changes_out_too(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    general = event["ticket_types"][0]
    await book(client, attendee, event["id"], quantity=4)
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]),
        json={"name": "Renamed", "capacity": 1},
        headers=organizer.headers,
    )
    assert_problem(response, 409, "capacity_below_sold")
    assert (await client.get(event_url(event["id"]))).json()["ticket_types"][0]["name"] == "General admission"


@pytest.mark.parametrize("field", ["name", "price", "capacity"])
async def test_a_ticket_type_field_cannot_be_nulled(client: AsyncClient, field: str) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    general = event["ticket_types"][0]
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]), json={field: None}, headers=organizer.headers
    )
    assert_field_error(response, ["body", field])


@pytest.mark.parametrize(
    ("field", "value"), [("price", "-1"), ("price", "1.234"), ("capacity", 0), ("name", ""), ("sold", 0)]
)
async def test_an_invalid_ticket_type_update_is_rejected(client: AsyncClient, field: str, value: Any) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    general = event["ticket_types"][0]
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]), json={field: value}, headers=organizer.headers
    )
    assert_field_error(response, ["body", field])


async def test_renaming_to_a_sibling_name_is_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    response = await client.patch(
        ticket_type_url(event["id"], seated["id"]), json={"name": "Standing"}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "name"])


async def test_a_ticket_type_of_a_cancelled_event_cannot_be_changed(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    general = event["ticket_types"][0]
    await cancel(client, organizer, event["id"])
    response = await client.patch(
        ticket_type_url(event["id"], general["id"]), json={"price": "5.00"}, headers=organizer.headers
    )
    assert_problem(response, 409, "invalid_transition")


async def test_a_ticket_type_of_a_cancelled_event_cannot_be_deleted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    await cancel(client, organizer, event["id"])
    response = await client.delete(ticket_type_url(event["id"], seated["id"]), headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")
    assert len((await client.get(event_url(event["id"]))).json()["ticket_types"]) == 2


async def test_an_unsold_ticket_type_may_be_deleted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    response = await client.delete(ticket_type_url(event["id"], seated["id"]), headers=organizer.headers)
    assert response.status_code == 204
    assert response.content == b""
    read = (await client.get(event_url(event["id"]))).json()
    assert [t["name"] for t in read["ticket_types"]] == ["Standing"]
    assert read["capacity"] == 10


async def test_a_ticket_type_with_bookings_cannot_be_deleted(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    await book(client, attendee, event["id"], ticket_type_id=seated["id"], quantity=2)
    response = await client.delete(ticket_type_url(event["id"], seated["id"]), headers=organizer.headers)
    assert_problem(response, 409, "has_sales")
    assert len((await client.get(event_url(event["id"]))).json()["ticket_types"]) == 2
    await assert_ledger_consistent(app)


async def test_a_ticket_type_whose_bookings_were_cancelled_still_has_sales(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, ticket_types=TWO_TYPES)
    seated = event["ticket_types"][1]
    booking = (await book(client, attendee, event["id"], ticket_type_id=seated["id"])).json()
    await client.delete(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
    response = await client.delete(ticket_type_url(event["id"], seated["id"]), headers=organizer.headers)
    assert_problem(response, 409, "has_sales")


async def test_the_last_ticket_type_cannot_be_deleted(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer)
    general = event["ticket_types"][0]
    response = await client.delete(ticket_type_url(event["id"], general["id"]), headers=organizer.headers)
    assert_problem(response, 422, "validation_error")
    assert (
        len((await client.get(event_url(event["id"]), headers=organizer.headers)).json()["ticket_types"]) == 1
    )


async def test_an_unknown_ticket_type_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_event(client, organizer, ticket_types=TWO_TYPES)
    unknown = ticket_type_url(event["id"], "00000000-0000-0000-0000-000000000000")
    assert_problem(
        await client.patch(unknown, json={"name": "x"}, headers=organizer.headers), 404, "not_found"
    )
    assert_problem(await client.delete(unknown, headers=organizer.headers), 404, "not_found")


async def test_a_ticket_type_of_another_event_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    first = await create_event(client, organizer, ticket_types=TWO_TYPES)
    second = await create_event(client, organizer, ticket_types=TWO_TYPES)
    foreign = ticket_type_url(first["id"], second["ticket_types"][0]["id"])
    assert_problem(
        await client.patch(foreign, json={"name": "x"}, headers=organizer.headers), 404, "not_found"
    )
    assert_problem(await client.delete(foreign, headers=organizer.headers), 404, "not_found")
    assert (
        len((await client.get(event_url(second["id"]), headers=organizer.headers)).json()["ticket_types"])
        == 2
    )
