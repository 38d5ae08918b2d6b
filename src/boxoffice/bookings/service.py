"""Booking rules: who may book what and when, changes, cancellations, the seat ledger.

Seats are taken and returned only by conditional single-statement updates (repository.take_seats,
release_seats), always last in the transaction so the hot ticket-type row is locked as briefly as
possible.
"""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import repository
from boxoffice.bookings.codes import new_booking_code
from boxoffice.bookings.repository import EventFigures
from boxoffice.bookings.schemas import BookingCreate, BookingRead, BookingUpdate
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import utcnow
from boxoffice.core.errors import (
    AlreadyCancelled,
    EventNotBookable,
    EventStarted,
    Forbidden,
    IdempotencyKeyMismatch,
    NotFound,
    RuleViolation,
    SoldOut,
)
from boxoffice.core.pagination import PageParams
from boxoffice.events import access
from boxoffice.models import ACTIVE, Booking, BookingStatus, Event, EventStatus, Role, TicketType, User
from boxoffice.notifications import outbox

IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def _pick_ticket_type(event: Event, ticket_type_id: UUID | None) -> TicketType:
    if ticket_type_id is None:
        if len(event.ticket_types) != 1:
            raise RuleViolation(
                ["body", "ticket_type_id"], "this event has several ticket types; say which one", "missing"
            )
        return event.ticket_types[0]
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            return ticket_type
    raise NotFound("No such ticket type for this event.")


def _ensure_bookable(event: Event) -> None:
    now = utcnow()
    if event.status is not EventStatus.PUBLISHED:
        raise EventNotBookable(f"This event is {event.status.value}; it cannot be booked.")
    if now >= event.starts_at:
        raise EventNotBookable("This event has already started.")
    opens = event.sales_start_at or event.published_at
    closes = event.sales_end_at or event.starts_at
    if opens is not None and now < opens:
        raise EventNotBookable(f"Sales open at {opens.isoformat()}.")
    if now >= closes:
        raise EventNotBookable("Sales for this event have closed.")


def _ensure_quantity_allowed(event: Event, quantity: int) -> None:
    if quantity > event.max_tickets_per_booking:
        raise RuleViolation(
            ["body", "quantity"],
            f"at most {event.max_tickets_per_booking} tickets per booking for this event",
            "less_than_equal",
        )


def _sold_out(ticket_type: TicketType, left: int) -> SoldOut:
    return SoldOut(
        f"Only {left} tickets of '{ticket_type.name}' are left."
        if left
        else f"'{ticket_type.name}' is sold out.",
        available=left,
    )


async def _take_seats(session: AsyncSession, ticket_type: TicketType, quantity: int) -> None:
    if not await repository.take_seats(session, ticket_type.id, quantity):
        raise _sold_out(ticket_type, await repository.seats_left(session, ticket_type.id))


async def _bookable_ticket_type(
    session: AsyncSession, user: User, data: BookingCreate, *, locked: bool
) -> tuple[Event, TicketType]:
    """The event (KEY SHARE locked if ``locked``) and the ticket type to book, if the user may book it
    and enough seats are left. Too few seats in what is committed is sold out at that instant (seats
    in flight can only make it fewer), so the answer needs no write; the conditional update that
    takes the seats stays the arbiter."""
    event = await repository.event_for_booking(session, data.event_id, locked=locked)
    if event is None or not access.may_see(event, user):
        raise NotFound("No such event.")
    ticket_type = _pick_ticket_type(event, data.ticket_type_id)
    _ensure_bookable(event)
    _ensure_quantity_allowed(event, data.quantity)
    if ticket_type.available < data.quantity:
        raise _sold_out(ticket_type, ticket_type.available)
    return event, ticket_type


async def check_bookable(session: AsyncSession, user: User, data: BookingCreate) -> None:
    """A booking's checks without locks or writes (404, 422, 409 ``event_not_bookable``, ``sold_out``),
    made before it queues for admission (see admission.py): a refusal never waits. The booking itself
    checks everything again, under the event's lock."""
    await _bookable_ticket_type(session, user, data, locked=False)


async def create_booking(session: AsyncSession, user: User, data: BookingCreate) -> Booking:
    """Book tickets: checks under the event's KEY SHARE lock, the booking, its email and audit entry,
    then the seats, last."""
    event, ticket_type = await _bookable_ticket_type(session, user, data, locked=True)
    now = utcnow()
    booking = Booking(
        id=uuid.uuid4(),
        event_id=event.id,
        ticket_type_id=ticket_type.id,
        user_id=user.id,
        quantity=data.quantity,
        status=BookingStatus.CONFIRMED,
        active_key=ACTIVE,
        holder_name=data.holder_name or user.full_name,
        holder_email=data.holder_email or user.email,
        unit_price=ticket_type.price,
        total_price=ticket_type.price * data.quantity,
        currency=event.currency,
        created_at=now,
        updated_at=now,
    )
    booking.event = event
    await repository.insert_booking(session, booking, new_booking_code)
    outbox.booking_confirmed(session, booking, event)
    audit.record(
        session,
        user,
        Action.BOOKING_CREATED,
        "booking",
        booking.id,
        event_id=event.id,
        quantity=booking.quantity,
    )
    await session.flush()  # everything else first: the hot ticket-type row is locked last, briefly
    await _take_seats(session, ticket_type, data.quantity)
    return booking


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


def _request_hash(data: BookingCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_booking_once(
    session: AsyncSession,
    user: User,
    data: BookingCreate,
    idempotency_key: str,
) -> StoredResponse:
    """Create a booking at most once per (user, key) within 24 hours; repeats get the first answer."""
    await repository.claim_idempotency_key(session, user.id, idempotency_key)
    request_hash = _request_hash(data)
    remembered = await repository.remembered_response(session, user.id, idempotency_key)
    if remembered is not None and remembered.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        await repository.forget_response(session, remembered)
        remembered = None
    if remembered is not None:
        if remembered.request_hash != request_hash:
            raise IdempotencyKeyMismatch("This Idempotency-Key was used with a different request body.")
        return StoredResponse(remembered.response_status, json.loads(remembered.response_body), replayed=True)
    booking = await create_booking(session, user, data)
    body = BookingRead.model_validate(booking).model_dump(mode="json")
    await repository.remember_response(
        session,
        user_id=user.id,
        key=idempotency_key,
        request_hash=request_hash,
        status=201,
        body=json.dumps(body),
    )
    return StoredResponse(201, body, replayed=False)


async def visible_booking(session: AsyncSession, booking_id: UUID, user: User) -> Booking:
    """A booking its holder, its event's organizer or an admin may see; 404 for anyone else."""
    booking = await repository.booking_by_id(session, booking_id)
    if booking is None or not (
        booking.user_id == user.id or _is_admin(user) or booking.event.organizer_id == user.id
    ):
        raise NotFound("No such booking.")
    return booking


async def _locked_booking(
    session: AsyncSession, booking_id: UUID, user: User, *, organizer_may: bool
) -> tuple[Booking, Event]:
    """The booking and its event, locked in the one order every writer uses (event, then booking);
    the booking must still be confirmed."""
    event_id = await repository.event_id_of_booking(session, booking_id)
    event = await repository.event_for_booking(session, event_id) if event_id else None
    booking = await repository.booking_by_id(session, booking_id, for_update=True) if event else None
    if booking is None or event is None:
        raise NotFound("No such booking.")
    is_organizer = event.organizer_id == user.id
    if not (booking.user_id == user.id or _is_admin(user) or is_organizer):
        raise NotFound("No such booking.")
    if not (booking.user_id == user.id or _is_admin(user) or organizer_may):
        raise Forbidden("Only the holder or an admin may change a booking.")
    if booking.status is BookingStatus.CANCELLED:
        raise AlreadyCancelled("This booking is already cancelled.")
    return booking, event


def _ensure_not_started(event: Event, what: str) -> None:
    if utcnow() >= event.starts_at:
        raise EventStarted(f"The event has started; {what} is no longer possible.")


async def change_booking(session: AsyncSession, user: User, booking_id: UUID, data: BookingUpdate) -> Booking:
    booking, event = await _locked_booking(session, booking_id, user, organizer_may=False)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise RuleViolation(["body", field], f"{field} cannot be null")
    made = {
        field: [getattr(booking, field), value]
        for field, value in changes.items()
        if getattr(booking, field) != value
    }
    if not made:
        return booking
    if "quantity" in made:
        _ensure_not_started(event, "changing the quantity")
        _ensure_quantity_allowed(event, changes["quantity"])
    booking.holder_name = changes.get("holder_name", booking.holder_name)
    booking.holder_email = changes.get("holder_email", booking.holder_email)
    await session.flush()
    if "quantity" in made and not await repository.set_quantity(session, booking, made["quantity"][1]):
        raise AlreadyCancelled("This booking changed meanwhile; read it again.")
    await repository.reload(session, booking)
    outbox.booking_changed(session, booking, event, made)
    audit.record(session, user, Action.BOOKING_CHANGED, "booking", booking.id, changes=made)
    await session.flush()
    if "quantity" in made:
        previous, wanted = made["quantity"]
        ticket_type = next(t for t in event.ticket_types if t.id == booking.ticket_type_id)
        if wanted > previous:
            await _take_seats(session, ticket_type, wanted - previous)
        else:
            await repository.release_seats(session, ticket_type.id, previous - wanted)
    return booking


async def cancel_booking(session: AsyncSession, user: User, booking_id: UUID) -> Booking:
    booking, event = await _locked_booking(session, booking_id, user, organizer_may=True)
    _ensure_not_started(event, "cancelling")
    if booking.user_id == user.id:
        reason = "Cancelled by the holder."
    elif event.organizer_id == user.id:
        reason = "Cancelled by the organizer."
    else:
        reason = "Cancelled by an administrator."
    if not await repository.mark_cancelled(session, booking.id, reason):
        raise AlreadyCancelled("This booking is already cancelled.")
    await repository.reload(session, booking)
    outbox.booking_cancelled(session, booking, event, reason)
    audit.record(session, user, Action.BOOKING_CANCELLED, "booking", booking.id, reason=reason)
    await session.flush()
    await repository.release_seats(session, booking.ticket_type_id, booking.quantity)
    return booking


async def cancel_all_for_event(session: AsyncSession, user: User, event: Event, reason: str | None) -> None:
    """Cancel every confirmed booking of an event that is being cancelled, and tell each holder
    (same transaction). The caller holds the event's row lock."""
    cancelled = await repository.cancel_confirmed_of_event(
        session, event.id, reason or "The event was cancelled."
    )
    outbox.event_cancelled(session, event, cancelled, reason)
    for booking in cancelled:
        audit.record(
            session, user, Action.BOOKING_CANCELLED, "booking", booking.id, reason=booking.cancellation_reason
        )


async def tell_holders_event_changed(
    session: AsyncSession, event: Event, changes: dict[str, tuple[Any, Any]]
) -> None:
    """Email every confirmed holder that the event's time or place changed."""
    outbox.event_changed(session, event, await repository.confirmed_of_event(session, event.id), changes)


async def due_for_reminder(
    session: AsyncSession, *, now: datetime, lead: timedelta, limit: int
) -> Sequence[Booking]:
    return await repository.due_for_reminder(session, now, now + lead, limit)


async def mark_reminders_queued(session: AsyncSession, booking_ids: Sequence[UUID], now: datetime) -> None:
    await repository.mark_reminders_queued(session, booking_ids, now)


async def still_worth_a_reminder(session: AsyncSession, booking_id: UUID, now: datetime) -> bool:
    return await repository.confirmed_of_upcoming_event(session, booking_id, now)


async def forget_stale_idempotency_keys(session: AsyncSession, now: datetime) -> int:
    return await repository.purge_idempotency_keys(session, now - IDEMPOTENCY_WINDOW)


async def event_has_bookings(session: AsyncSession, event_id: UUID) -> bool:
    return await repository.event_has_bookings(session, event_id)


async def ticket_type_has_bookings(session: AsyncSession, ticket_type_id: UUID) -> bool:
    return await repository.ticket_type_has_bookings(session, ticket_type_id)


async def event_figures(session: AsyncSession, event_id: UUID) -> EventFigures:
    return await repository.event_figures(session, event_id)


async def my_bookings(
    session: AsyncSession,
    user: User,
    *,
    status: BookingStatus | None,
    event_id: UUID | None,
    upcoming_only: bool,
    page: PageParams,
) -> tuple[Sequence[Booking], int]:
    return await repository.user_bookings(
        session, user.id, status=status, event_id=event_id, upcoming_only=upcoming_only, page=page
    )


async def guest_list(
    session: AsyncSession,
    user: User,
    event_id: UUID,
    status: BookingStatus | None,
    q: str | None,
    page: PageParams,
) -> tuple[Sequence[Booking], int]:
    event = await access.owned_event(session, event_id, user)
    return await repository.guest_list(session, event.id, status, q, page)


async def guest_list_export(
    session: AsyncSession, user: User, event_id: UUID, status: BookingStatus | None, q: str | None
) -> Callable[[AsyncSession], AsyncIterator[Sequence[Booking]]]:
    """Check access now; return a reader of every matching booking to stream in its own session
    (the response outlives the request's session)."""
    event = await access.owned_event(session, event_id, user)
    return lambda reader: repository.iter_guest_list(reader, event.id, status, q)
