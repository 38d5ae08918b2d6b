"""Booking rules: who may book what and when, changes, cancellations, the seat ledger.

Seats are taken and returned only by conditional single-statement updates (repository.take_seats,
release_seats), always last in the transaction so the hot ticket-type row is locked as briefly as
possible.
"""

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import repository
from boxoffice.bookings.codes import new_booking_code
from boxoffice.bookings.repository import EventFigures
from boxoffice.bookings.schemas import BookingCreate, BookingRead, BookingUpdate
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import Database, utcnow
from boxoffice.core.errors import (
    AlreadyBooked,
    AlreadyCancelled,
    DomainError,
    EventNotBookable,
    EventStarted,
    Forbidden,
    IdempotencyInProgress,
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

T = TypeVar("T")


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


def _checked_ticket_type(event: Event | None, user: User, data: BookingCreate) -> TicketType:
    """The ticket type to book, if the user may book it (seats aside): 404, 422 or 409
    ``event_not_bookable`` otherwise."""
    if event is None or not access.may_see(event, user):
        raise NotFound("No such event.")
    ticket_type = _pick_ticket_type(event, data.ticket_type_id)
    _ensure_bookable(event)
    _ensure_quantity_allowed(event, data.quantity)
    return ticket_type


@dataclass(frozen=True)
class BookingRequest:
    """A booking to write: who asks, for what, and from where (for the audit trail)."""

    user: User
    data: BookingCreate
    origin: audit.RequestOrigin | None
    idempotency_key: str | None = None


class SeatsTakenMeanwhile(Exception):
    """The seats counted at the start of the transaction were taken by another one before the update
    (PostgreSQL, under concurrency): roll back and write again with the ticket types locked."""


BookingOutcome = Booking | DomainError


def _new_booking(event: Event, ticket_type: TicketType, request: BookingRequest, now: datetime) -> Booking:
    user, data = request.user, request.data
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
    return booking


async def create_bookings(
    session: AsyncSession, event_id: UUID, requests: Sequence[BookingRequest], *, lock_seats: bool = False
) -> list[BookingOutcome]:
    """Write bookings of one event in one transaction (see admission.py): an outcome per request, in
    order, a booking or the error that refuses it. Under the event's KEY SHARE lock: the checks, the
    bookings in one insert, their emails and audit entries, then, last, the seats of each ticket type
    in one conditional update. Seats go first come, first served; a booking that no longer fits is
    sold out and is taken back before anything refers to it.

    If the seats counted at the start were taken meanwhile by another transaction, the conditional
    update finds too few and this raises SeatsTakenMeanwhile; written again with ``lock_seats``, the
    ticket types are locked from the start and the count cannot move."""
    event = await repository.event_for_booking(session, event_id)
    if lock_seats and event is not None:
        await repository.lock_ticket_types(session, event_id)
    outcomes: list[BookingOutcome | None] = [None] * len(requests)
    candidates: list[tuple[int, Booking, TicketType]] = []
    now = utcnow()
    for index, request in enumerate(requests):
        try:
            ticket_type = _checked_ticket_type(event, request.user, request.data)
            if ticket_type.available < request.data.quantity:
                raise _sold_out(ticket_type, ticket_type.available)
        except DomainError as error:
            outcomes[index] = error
            continue
        assert event is not None  # checked above
        candidates.append((index, _new_booking(event, ticket_type, request, now), ticket_type))
    new_bookings = [booking for _, booking, _ in candidates]
    inserted = await repository.insert_bookings(session, new_bookings, new_booking_code)
    left = {ticket_type.id: ticket_type.available for ticket_type in event.ticket_types} if event else {}
    taken: dict[UUID, int] = {}
    written: list[tuple[int, Booking]] = []
    too_late: list[UUID] = []
    for index, booking, ticket_type in candidates:
        if booking.id not in inserted:
            outcomes[index] = AlreadyBooked(
                "You already have a booking for this event; change its quantity instead."
            )
        elif booking.quantity > left[ticket_type.id]:
            outcomes[index] = _sold_out(ticket_type, left[ticket_type.id])
            too_late.append(booking.id)
        else:
            left[ticket_type.id] -= booking.quantity
            taken[ticket_type.id] = taken.get(ticket_type.id, 0) + booking.quantity
            written.append((index, booking))
    if too_late:
        await repository.delete_bookings(session, too_late)
    for index, booking in written:
        assert event is not None  # a booking was written
        outbox.booking_confirmed(session, booking, event)
        audit.record(
            session,
            requests[index].user,
            Action.BOOKING_CREATED,
            "booking",
            booking.id,
            origin=requests[index].origin,
            event_id=event.id,
            quantity=booking.quantity,
        )
        outcomes[index] = booking
    await session.flush()  # everything else first: the hot ticket-type rows are locked last, briefly
    for ticket_type_id, quantity in taken.items():
        if not await repository.take_seats(session, ticket_type_id, quantity):
            if lock_seats:
                raise RuntimeError(f"seats of locked ticket type {ticket_type_id} moved")
            raise SeatsTakenMeanwhile
    written_outcomes = [outcome for outcome in outcomes if outcome is not None]
    assert len(written_outcomes) == len(requests)  # every request has its answer
    return written_outcomes


async def create_booking(
    session: AsyncSession, user: User, data: BookingCreate, *, lock_seats: bool = False
) -> Booking:
    """Book tickets in the caller's transaction; see create_bookings."""
    request = BookingRequest(user, data, audit.current_origin())
    (outcome,) = await create_bookings(session, data.event_id, [request], lock_seats=lock_seats)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def write_booking(database: Database, work: Callable[[AsyncSession, bool], Awaitable[T]]) -> T:
    """Run ``work(session, lock_seats)`` in a transaction of its own; if the seats it counted were taken
    meanwhile, once more with the ticket types locked."""
    try:
        async with database.unit_of_work() as session:
            return await work(session, False)
    except SeatsTakenMeanwhile:
        async with database.unit_of_work() as session:
            return await work(session, True)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool


def _request_hash(data: BookingCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay_or_claim(session: AsyncSession, request: BookingRequest, key: str) -> StoredResponse | None:
    """The first answer to replay for a repeat with this key, or None after claiming the key for this
    booking; a running request with the key (409) or another body (422) raises."""
    user = request.user
    await repository.claim_idempotency_key(session, user.id, key)
    remembered = await repository.remembered_response(session, user.id, key)
    if remembered is not None and remembered.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        await repository.forget_response(session, remembered)
        remembered = None
    if remembered is None:
        return None
    if remembered.request_hash != _request_hash(request.data):
        raise IdempotencyKeyMismatch("This Idempotency-Key was used with a different request body.")
    return StoredResponse(remembered.response_status, json.loads(remembered.response_body), replayed=True)


KeyedOutcome = Booking | StoredResponse | DomainError


async def create_bookings_once(
    session: AsyncSession, event_id: UUID, requests: Sequence[BookingRequest], *, lock_seats: bool = False
) -> list[KeyedOutcome]:
    """create_bookings, where a request with an Idempotency-Key books at most once per (user, key)
    within 24 hours: a repeat gets the first answer (StoredResponse, replayed), a new one stores its
    answer in this transaction (a refusal stores nothing). Two requests with the same key in one batch
    are like two at once: the second is 409 ``idempotency_in_progress``."""
    outcomes: list[KeyedOutcome | None] = [None] * len(requests)
    to_book: list[int] = []
    claimed: set[tuple[UUID, str]] = set()
    for index, request in enumerate(requests):
        key = request.idempotency_key
        if key is None:
            to_book.append(index)
            continue
        try:
            if (request.user.id, key) in claimed:
                raise IdempotencyInProgress(
                    "A request with this Idempotency-Key is still being processed; retry shortly."
                )
            claimed.add((request.user.id, key))
            outcomes[index] = await _replay_or_claim(session, request, key)
        except DomainError as error:
            outcomes[index] = error
        if outcomes[index] is None:
            to_book.append(index)
    booked = await create_bookings(session, event_id, [requests[i] for i in to_book], lock_seats=lock_seats)
    for index, outcome in zip(to_book, booked, strict=True):
        request = requests[index]
        if request.idempotency_key is not None and isinstance(outcome, Booking):
            body = BookingRead.model_validate(outcome).model_dump(mode="json")
            repository.remember_response(
                session,
                user_id=request.user.id,
                key=request.idempotency_key,
                request_hash=_request_hash(request.data),
                status=201,
                body=json.dumps(body),
            )
            outcomes[index] = StoredResponse(201, body, replayed=False)
        else:
            outcomes[index] = outcome
    await session.flush()
    answered = [outcome for outcome in outcomes if outcome is not None]
    assert len(answered) == len(requests)  # every request has its answer
    return answered


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
