"""Each recorded action lands in the audit log exactly once, with its actor, target and request."""

import hashlib
import json
import uuid
from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from boxoffice.core.db import utcnow
from boxoffice.models import PasswordResetToken
from tests.admin.helpers import audit_entries, the_one_entry, updated_user
from tests.factories import (
    DEFAULT_PASSWORD,
    Account,
    assert_problem,
    book,
    create_account,
    create_admin,
    create_event,
    create_published_event,
    login,
    unique_email,
)

NEW_PASSWORD = "brand-new-passw0rd"


async def booked_id(client: AsyncClient, account: Account, event_id: str, **overrides: object) -> str:
    response = await book(client, account, event_id, **overrides)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_booking_is_recorded_once_with_its_actor_target_and_origin(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    response = await client.post(
        "/api/v1/bookings",
        json={"event_id": event["id"], "quantity": 2},
        headers={**attendee.headers, "X-Request-ID": "booking-audit-0001"},
    )
    assert response.status_code == 201, response.text

    entry = await the_one_entry(client, admin, action="booking.created")
    assert entry["target_type"] == "booking"
    assert entry["target_id"] == response.json()["id"]
    assert entry["actor_id"] == attendee.id
    assert entry["request_id"] == "booking-audit-0001"
    assert entry["ip_address"] == "127.0.0.1"
    assert entry["details"]["quantity"] == 2
    assert entry["details"]["event_id"] == event["id"]


async def test_an_idempotent_replay_records_no_second_booking(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    headers = {**attendee.headers, "Idempotency-Key": "replay-me"}
    first = await client.post("/api/v1/bookings", json={"event_id": event["id"]}, headers=headers)
    again = await client.post("/api/v1/bookings", json={"event_id": event["id"]}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    entry = await the_one_entry(client, admin, action="booking.created")
    assert entry["target_id"] == first.json()["id"]


async def test_a_booking_change_is_recorded_once(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booked_id(client, attendee, event["id"], quantity=1)
    response = await client.patch(
        f"/api/v1/bookings/{booking_id}", json={"quantity": 3}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text

    entry = await the_one_entry(client, admin, action="booking.changed")
    assert (entry["target_type"], entry["target_id"], entry["actor_id"]) == (
        "booking",
        booking_id,
        attendee.id,
    )


async def test_a_holders_cancellation_is_recorded_with_the_holder_as_actor(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booked_id(client, attendee, event["id"])
    assert (
        await client.delete(f"/api/v1/bookings/{booking_id}", headers=attendee.headers)
    ).status_code == 200

    entry = await the_one_entry(client, admin, action="booking.cancelled")
    assert (entry["target_id"], entry["actor_id"]) == (booking_id, attendee.id)


async def test_an_admin_cancelling_someones_booking_is_the_recorded_actor(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booked_id(client, attendee, event["id"])
    assert (await client.delete(f"/api/v1/bookings/{booking_id}", headers=admin.headers)).status_code == 200

    entry = await the_one_entry(client, admin, action="booking.cancelled")
    assert (entry["target_id"], entry["actor_id"]) == (booking_id, admin.id)


async def test_publishing_an_event_is_recorded_once(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer)
    entry = await the_one_entry(client, admin, action="event.published")
    assert (entry["target_type"], entry["target_id"], entry["actor_id"]) == (
        "event",
        event["id"],
        organizer.id,
    )


async def test_cancelling_an_event_records_it_and_each_of_its_bookings_once(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    holders = [await create_account(client) for _ in range(2)]
    event = await create_published_event(client, organizer)
    booking_ids = {await booked_id(client, holder, event["id"]) for holder in holders}
    response = await client.post(
        f"/api/v1/events/{event['id']}/cancel",
        json={"reason": "Storm"},
        headers={**organizer.headers, "X-Request-ID": "cancel-event-0001"},
    )
    assert response.status_code == 200, response.text

    event_entry = await the_one_entry(client, admin, action="event.cancelled")
    assert (event_entry["target_id"], event_entry["actor_id"]) == (event["id"], organizer.id)
    assert event_entry["request_id"] == "cancel-event-0001"
    cancelled = await audit_entries(client, admin, action="booking.cancelled")
    assert sorted(entry["target_id"] for entry in cancelled) == sorted(booking_ids)
    assert {entry["actor_id"] for entry in cancelled} == {organizer.id}
    assert {entry["request_id"] for entry in cancelled} == {"cancel-event-0001"}


async def test_an_already_cancelled_booking_is_not_cancelled_again_with_its_event(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booked_id(client, attendee, event["id"])
    assert (
        await client.delete(f"/api/v1/bookings/{booking_id}", headers=attendee.headers)
    ).status_code == 200
    response = await client.post(f"/api/v1/events/{event['id']}/cancel", json={}, headers=organizer.headers)
    assert response.status_code == 200, response.text
    entry = await the_one_entry(client, admin, action="booking.cancelled")
    assert entry["actor_id"] == attendee.id


async def test_deleting_a_draft_is_recorded_once(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    draft = await create_event(client, organizer)
    assert (
        await client.delete(f"/api/v1/events/{draft['id']}", headers=organizer.headers)
    ).status_code == 204

    entry = await the_one_entry(client, admin, action="event.deleted")
    assert (entry["target_type"], entry["target_id"], entry["actor_id"]) == (
        "event",
        draft["id"],
        organizer.id,
    )


async def test_deleting_a_booked_event_records_the_deletion_cancellation_and_bookings(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    booking_id = await booked_id(client, attendee, event["id"])
    assert (await client.delete(f"/api/v1/events/{event['id']}", headers=admin.headers)).status_code == 204

    deleted = await the_one_entry(client, admin, action="event.deleted")
    cancelled = await the_one_entry(client, admin, action="event.cancelled")
    booking = await the_one_entry(client, admin, action="booking.cancelled")
    assert deleted["target_id"] == cancelled["target_id"] == event["id"]
    assert booking["target_id"] == booking_id
    assert {deleted["actor_id"], cancelled["actor_id"], booking["actor_id"]} == {admin.id}


async def test_a_login_is_recorded_once(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    entry = await the_one_entry(client, admin, action="auth.login_succeeded", actor_id=attendee.id)
    assert (entry["target_type"], entry["target_id"]) == ("user", attendee.id)
    assert DEFAULT_PASSWORD not in json.dumps(entry)


async def test_a_wrong_password_is_recorded_with_the_email_and_never_the_password(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    attempted = "Wr0ng-but-secret-guess"
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": attendee.email, "password": attempted},
        headers={"X-Request-ID": "failed-login-0001"},
    )
    assert_problem(response, 401, "invalid_credentials")

    entry = await the_one_entry(client, admin, action="auth.login_failed")
    assert entry["details"]["email"] == attendee.email
    assert entry["details"]["reason"] == "wrong_password"
    assert entry["target_type"] == "user"
    assert entry["target_id"] == attendee.id
    assert entry["request_id"] == "failed-login-0001"
    assert attempted not in json.dumps(entry)
    assert DEFAULT_PASSWORD not in json.dumps(entry)


async def test_an_unknown_email_is_recorded_as_a_failed_login(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    email = unique_email("nobody")
    attempted = "some-guessed-passw0rd"
    assert_problem(await login(client, email, attempted), 401, "invalid_credentials")

    entry = await the_one_entry(client, admin, action="auth.login_failed")
    assert entry["details"]["email"] == email
    assert entry["details"]["reason"] == "unknown_email"
    assert entry["actor_id"] is None
    assert attempted not in json.dumps(entry)


async def test_a_disabled_account_logging_in_is_recorded_as_a_failed_login(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    assert_problem(await login(client, attendee.email), 403, "account_disabled")

    entry = await the_one_entry(client, admin, action="auth.login_failed")
    assert entry["details"]["email"] == attendee.email
    assert entry["details"]["reason"] == "account_disabled"
    assert entry["target_id"] == attendee.id
    assert DEFAULT_PASSWORD not in json.dumps(entry)


async def test_a_password_change_is_recorded_once_without_either_password(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me",
        json={"password": NEW_PASSWORD, "current_password": DEFAULT_PASSWORD},
        headers=attendee.headers,
    )
    assert response.status_code == 200, response.text

    entry = await the_one_entry(client, admin, action="auth.password_changed")
    assert (entry["actor_id"], entry["target_id"]) == (attendee.id, attendee.id)
    assert NEW_PASSWORD not in json.dumps(entry)
    assert DEFAULT_PASSWORD not in json.dumps(entry)


async def test_a_name_change_records_no_password_change(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    response = await client.patch(
        "/api/v1/users/me", json={"full_name": "New Name"}, headers=attendee.headers
    )
    assert response.status_code == 200, response.text
    assert await audit_entries(client, admin, action="auth.password_changed") == []


async def test_a_password_reset_is_recorded_once_without_the_token_or_password(
    app: FastAPI, client: AsyncClient
) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    token = "reset-token-" + uuid.uuid4().hex
    async with app.state.database.unit_of_work() as session:
        session.add(
            PasswordResetToken(
                user_id=uuid.UUID(attendee.id),
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                expires_at=utcnow() + timedelta(minutes=30),
            )
        )
    response = await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204, response.text

    entry = await the_one_entry(client, admin, action="auth.password_reset")
    assert entry["target_id"] == attendee.id
    assert token not in json.dumps(entry)
    assert NEW_PASSWORD not in json.dumps(entry)


async def test_a_role_change_is_recorded_with_before_and_after(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, role="organizer")

    entry = await the_one_entry(client, admin, action="user.role_changed")
    assert (entry["actor_id"], entry["target_type"], entry["target_id"]) == (admin.id, "user", attendee.id)
    assert entry["details"]["before"] == "attendee"
    assert entry["details"]["after"] == "organizer"


async def test_disabling_and_re_enabling_are_recorded_once_each(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, is_active=False)
    await updated_user(client, admin, attendee.id, is_active=True)

    disabled = await the_one_entry(client, admin, action="user.disabled")
    enabled = await the_one_entry(client, admin, action="user.enabled")
    for entry in (disabled, enabled):
        assert (entry["actor_id"], entry["target_id"]) == (admin.id, attendee.id)


async def test_an_update_that_changes_nothing_records_nothing(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    attendee = await create_account(client)
    await updated_user(client, admin, attendee.id, role="attendee", is_active=True)
    assert await audit_entries(client, admin, target_id=attendee.id, actor_id=admin.id) == []


async def test_a_sold_out_booking_leaves_no_entry(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    first = await create_account(client)
    second = await create_account(client)
    event = await create_published_event(client, organizer, capacity=1)
    kept = await booked_id(client, first, event["id"])
    response = await client.post(
        "/api/v1/bookings",
        json={"event_id": event["id"]},
        headers={**second.headers, "X-Request-ID": "sold-out-0001"},
    )
    assert_problem(response, 409, "sold_out")

    entry = await the_one_entry(client, admin, action="booking.created")
    assert entry["target_id"] == kept
    assert await audit_entries(client, admin, actor_id=second.id, target_type="booking") == []
    every_entry = await audit_entries(client, admin)
    assert [e for e in every_entry if e["request_id"] == "sold-out-0001"] == []


async def test_a_second_booking_of_the_same_event_leaves_no_entry(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    organizer = await create_account(client, role="organizer")
    attendee = await create_account(client)
    event = await create_published_event(client, organizer)
    await booked_id(client, attendee, event["id"])
    assert_problem(await book(client, attendee, event["id"]), 409, "already_booked")
    assert len(await audit_entries(client, admin, action="booking.created")) == 1


async def test_a_refused_self_demotion_leaves_no_entry(app: FastAPI, client: AsyncClient) -> None:
    admin = await create_admin(app, client)
    response = await client.patch(
        f"/api/v1/admin/users/{admin.id}", json={"role": "attendee"}, headers=admin.headers
    )
    assert_problem(response, 409, "cannot_modify_self")
    assert await audit_entries(client, admin, action="user.role_changed") == []
