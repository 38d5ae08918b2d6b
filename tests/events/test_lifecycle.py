"""draft → published → cancelled, draft → deleted: every transition and every refusal."""

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from tests.events.helpers import ORGANIZER_EVENTS, assert_field_error, cancel, catalogue, event_url, parse_utc
from tests.factories import (
    assert_ledger_consistent,
    assert_problem,
    book,
    create_account,
    create_event,
    create_published_event,
    set_event_times,
)


async def test_publishing_a_draft_makes_it_public(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = await client.post(event_url(draft["id"], "publish"), headers=organizer.headers)
    assert response.status_code == 200, response.text
    event = response.json()
    assert event["status"] == "published"
    assert parse_utc(event["published_at"]) >= before
    assert event["cancelled_at"] is None
    assert (await client.get(event_url(draft["id"]))).status_code == 200


async def test_a_published_event_cannot_be_published_again(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.post(event_url(event["id"], "publish"), headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")


async def test_a_cancelled_event_cannot_be_published(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await cancel(client, organizer, event["id"])
    response = await client.post(event_url(event["id"], "publish"), headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")
    assert (await client.get(event_url(event["id"]))).json()["status"] == "cancelled"


async def test_a_draft_whose_start_has_passed_cannot_be_published(app: FastAPI, client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    await set_event_times(app, draft["id"], starts_at=datetime.now(UTC) - timedelta(hours=1))
    response = await client.post(event_url(draft["id"], "publish"), headers=organizer.headers)
    assert_problem(response, 422, "validation_error")
    read = await client.get(event_url(draft["id"]), headers=organizer.headers)
    assert read.json()["status"] == "draft"


async def test_publishing_an_unknown_event_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(
        event_url("00000000-0000-0000-0000-000000000000", "publish"), headers=organizer.headers
    )
    assert_problem(response, 404, "not_found")


async def test_an_event_id_that_is_not_a_uuid_is_a_validation_error(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    response = await client.post(event_url("not-a-uuid", "publish"), headers=organizer.headers)
    assert_field_error(response, ["path", "event_id"])


async def test_cancelling_a_published_event_keeps_it_public(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    before = datetime.now(UTC) - timedelta(seconds=1)
    cancelled = await cancel(client, organizer, event["id"], reason="Storm warning")
    assert cancelled["status"] == "cancelled"
    assert parse_utc(cancelled["cancelled_at"]) >= before
    read = await client.get(event_url(event["id"]))
    assert read.status_code == 200
    assert read.json()["status"] == "cancelled"
    assert event["id"] in [e["id"] for e in (await catalogue(client))["items"]]


async def test_a_draft_cannot_be_cancelled(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    response = await client.post(event_url(draft["id"], "cancel"), headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")


async def test_a_cancelled_event_cannot_be_cancelled_again(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    await cancel(client, organizer, event["id"])
    response = await client.post(event_url(event["id"], "cancel"), headers=organizer.headers)
    assert_problem(response, 409, "invalid_transition")


async def test_a_cancel_body_with_unknown_fields_is_rejected(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    response = await client.post(
        event_url(event["id"], "cancel"), json={"status": "draft"}, headers=organizer.headers
    )
    assert_field_error(response, ["body", "status"])
    assert (await client.get(event_url(event["id"]))).json()["status"] == "published"


async def test_cancelling_an_event_cancels_its_confirmed_bookings_and_returns_the_seats(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    first = (await book(client, alice, event["id"], quantity=3)).json()
    second = (await book(client, bob, event["id"], quantity=2)).json()
    assert (await client.get(event_url(event["id"]))).json()["tickets_sold"] == 5
    cancelled = await cancel(client, organizer, event["id"], reason="The band broke up")
    assert cancelled["tickets_sold"] == 0
    assert cancelled["tickets_available"] == 10
    assert cancelled["ticket_types"][0]["sold"] == 0
    for account, booking in ((alice, first), (bob, second)):
        read = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=account.headers)).json()
        assert read["status"] == "cancelled"
        assert read["cancellation_reason"] == "The band broke up"
        assert read["cancelled_at"] is not None
        assert read["event"]["status"] == "cancelled"
    assert (await client.get(event_url(event["id"]))).json()["tickets_sold"] == 0
    await assert_ledger_consistent(app)


async def test_cancelling_without_a_reason_still_gives_the_bookings_one(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking = (await book(client, attendee, event["id"])).json()
    await cancel(client, organizer, event["id"])
    read = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)).json()
    assert read["status"] == "cancelled"
    assert read["cancellation_reason"]


async def test_a_cancelled_event_cannot_be_booked(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    await cancel(client, organizer, event["id"])
    assert_problem(await book(client, attendee, event["id"]), 409, "event_not_bookable")


async def test_a_draft_cannot_be_booked_by_its_organizer(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    assert_problem(await book(client, organizer, draft["id"]), 409, "event_not_bookable")


async def test_deleting_a_draft_removes_it(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    response = await client.delete(event_url(draft["id"]), headers=organizer.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(event_url(draft["id"]), headers=organizer.headers), 404, "not_found")
    assert (await client.get(ORGANIZER_EVENTS, headers=organizer.headers)).json()["total"] == 0


async def test_deleting_a_deleted_draft_is_not_found(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    await client.delete(event_url(draft["id"]), headers=organizer.headers)
    assert_problem(await client.delete(event_url(draft["id"]), headers=organizer.headers), 404, "not_found")


async def test_deleting_a_published_event_without_bookings_hides_it(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    assert (await client.delete(event_url(event["id"]), headers=organizer.headers)).status_code == 204
    assert (await catalogue(client))["total"] == 0
    assert (await client.get(ORGANIZER_EVENTS, headers=organizer.headers)).json()["total"] == 0
    assert_problem(await client.get(event_url(event["id"])), 404, "not_found")


async def test_deleting_an_event_with_bookings_cancels_them_and_hides_the_event(
    app: FastAPI, client: AsyncClient
) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer, capacity=10)
    booking = (await book(client, attendee, event["id"], quantity=4)).json()
    assert (await client.delete(event_url(event["id"]), headers=organizer.headers)).status_code == 204
    assert event["id"] not in [e["id"] for e in (await catalogue(client))["items"]]
    assert (await catalogue(client))["total"] == 0
    mine = (await client.get(ORGANIZER_EVENTS, headers=organizer.headers)).json()
    assert mine["total"] == 0
    assert mine["items"] == []
    kept = await client.get(f"/api/v1/bookings/{booking['id']}", headers=attendee.headers)
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "cancelled"
    assert kept.json()["cancellation_reason"]
    listed = (await client.get("/api/v1/bookings", headers=attendee.headers)).json()
    assert [b["id"] for b in listed["items"]] == [booking["id"]]
    await assert_ledger_consistent(app)


async def test_deleting_an_event_hides_it_from_an_organizer_id_search(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    await book(client, attendee, event["id"])
    await client.delete(event_url(event["id"]), headers=organizer.headers)
    page = await catalogue(client, organizer_id=organizer.id, upcoming_only="false")
    assert page["total"] == 0


async def test_deleting_a_cancelled_event_with_bookings_hides_it(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    await book(client, attendee, event["id"])
    await cancel(client, organizer, event["id"], reason="Rain")
    assert (await client.delete(event_url(event["id"]), headers=organizer.headers)).status_code == 204
    assert (await catalogue(client))["total"] == 0
    assert (await client.get(ORGANIZER_EVENTS, headers=organizer.headers)).json()["total"] == 0


async def test_a_deleted_event_cannot_be_booked(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    alice, bob = await create_account(client), await create_account(client)
    event = await create_published_event(client, organizer)
    await book(client, alice, event["id"])
    await client.delete(event_url(event["id"]), headers=organizer.headers)
    response = await book(client, bob, event["id"])
    assert response.status_code in (404, 409), response.text
    assert_problem(
        response, response.status_code, "not_found" if response.status_code == 404 else "event_not_bookable"
    )
