"""Booking rules beyond the sale itself (writer.py sells): reading bookings and holds, changing and
cancelling bookings, extending, releasing and expiring holds, the housekeeping the worker runs.

Seats move only through ``repository.move_seats`` (and ``return_seats``), one conditional statement,
always last in the transaction so the hot ticket-type row is locked as briefly as possible. Tickets
follow their booking in the same transaction (``tickets.service``), before it. Tickets that return go
to the ticket type's waiting list first if anyone waits (``_give_back``, ``handover``): offered in the
same transaction, under that statement's row lock.
"""

import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import handover, idempotency, repository, rules
from boxoffice.bookings.repository import EventFigures
from boxoffice.bookings.schemas import BookingUpdate
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import utcnow
from boxoffice.core.errors import (
    AlreadyCancelled,
    Forbidden,
    HoldExpired,
    HoldLimit,
    InvalidTransition,
    NotFound,
    RuleViolation,
)
from boxoffice.core.pagination import PageParams
from boxoffice.events import access
from boxoffice.models import ACTIVE, Booking, BookingStatus, Event, Hold, HoldStatus, Role, User
from boxoffice.notifications import outbox
from boxoffice.tickets import service as tickets_service

# No hold lives longer than this many hold times after it was made, however often it is extended.
HOLD_EXTENSION_CAP = 3
EXPIRY_SWEEP_BATCH = 500


def _is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


async def visible_booking(session: AsyncSession, booking_id: UUID, user: User) -> Booking:
    """A booking its holder, its event's organizer or an admin may see; 404 for anyone else."""
    booking = await repository.booking_by_id(session, booking_id)
    if booking is None or not (booking.user_id == user.id or access.may_manage(booking.event, user)):
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
    if not (booking.user_id == user.id or access.may_manage(event, user)):
        raise NotFound("No such booking.")
    if not (booking.user_id == user.id or _is_admin(user) or organizer_may):
        raise Forbidden("Only the holder or an admin may change a booking.")
    if booking.status is BookingStatus.CANCELLED:
        raise AlreadyCancelled("This booking is already cancelled.")
    return booking, event


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
        rules.ensure_not_started(event, "changing the quantity")
        rules.ensure_quantity_allowed(event, changes["quantity"])
        if made["quantity"][1] > made["quantity"][0]:
            await repository.lock_before_adding_tickets(session, booking.ticket_type_id)
    booking.holder_name = changes.get("holder_name", booking.holder_name)
    booking.holder_email = changes.get("holder_email", booking.holder_email)
    await session.flush()
    if "quantity" in made and not await repository.set_quantity(session, booking, made["quantity"][1]):
        raise AlreadyCancelled("This booking changed meanwhile; read it again.")
    await repository.reload(session, booking)
    new_tickets = (
        await tickets_service.change_ticket_count(session, booking, *made["quantity"])
        if "quantity" in made
        else []
    )
    outbox.booking_changed(session, booking, event, made, new_tickets)
    audit.record(session, user, Action.BOOKING_CHANGED, "booking", booking.id, changes=made)
    await session.flush()
    if "quantity" in made:
        previous, wanted = made["quantity"]
        ticket_type = next(t for t in event.ticket_types if t.id == booking.ticket_type_id)
        if wanted < previous:
            await _give_back(session, sold={ticket_type.id: previous - wanted})
        elif not await repository.move_seats(session, ticket_type.id, sold=wanted - previous, public=True):
            raise rules.sold_out(ticket_type, await repository.seats_left(session, ticket_type.id))
    return booking


async def cancel_booking(session: AsyncSession, user: User, booking_id: UUID) -> Booking:
    booking, event = await _locked_booking(session, booking_id, user, organizer_may=True)
    rules.ensure_not_started(event, "cancelling")
    if booking.user_id == user.id:
        reason = "Cancelled by the holder."
    elif event.organizer_id == user.id:
        reason = "Cancelled by the organizer."
    else:
        reason = "Cancelled by an administrator."
    if not await repository.mark_cancelled(session, booking.id, reason):
        raise AlreadyCancelled("This booking is already cancelled.")
    await tickets_service.cancel_booking_tickets(session, booking.id)
    await repository.reload(session, booking)
    outbox.booking_cancelled(session, booking, event, reason)
    audit.record(session, user, Action.BOOKING_CANCELLED, "booking", booking.id, reason=reason)
    await session.flush()
    await _give_back(session, sold={booking.ticket_type_id: booking.quantity})
    return booking


async def cancel_all_for_event(session: AsyncSession, user: User, event: Event, reason: str | None) -> None:
    """Cancel every confirmed booking of an event that is being cancelled, release its holds (waiting
    list offers included), empty its waiting lists, and tell each holder and each person in line (same
    transaction). The caller holds the event's row lock."""
    released = await repository.end_active_holds(
        session, [Hold.event_id == event.id], HoldStatus.RELEASED, skip_locked=False
    )
    line = handover.installed()
    if line is not None:
        await line.event_cancelled(session, event)
    cancelled = await repository.cancel_confirmed_of_event(
        session, event.id, reason or "The event was cancelled."
    )
    await tickets_service.cancel_event_tickets(session, event.id)
    await repository.close_lines(session, event.id)
    await _give_back(session, held=released.tickets)
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
    return await idempotency.forget_stale(session, now)


async def event_for_sale(session: AsyncSession, event_id: UUID) -> Event | None:
    """The event with its ticket types under the KEY SHARE lock every sale takes (a waiting-list join
    too): it waits for an event cancellation under way and then sees it."""
    return await repository.event_for_booking(session, event_id)


async def users_with_booking(session: AsyncSession, event_id: UUID, user_ids: Sequence[UUID]) -> set[UUID]:
    """Which of these users hold a confirmed booking for the event."""
    return await repository.users_with_active_booking(session, event_id, user_ids)


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
) -> tuple[dict[UUID, str], Callable[[AsyncSession], AsyncIterator[Sequence[Booking]]]]:
    """Check access now; return the event's ticket-type names and a reader of every matching booking
    to stream in its own session (the response outlives the request's session)."""
    event = await access.owned_event(session, event_id, user)
    names = {ticket_type.id: ticket_type.name for ticket_type in event.ticket_types}
    return names, lambda reader: repository.iter_guest_list(reader, event.id, status, q)


async def _give_back(
    session: AsyncSession,
    *,
    sold: Mapping[UUID, int] | None = None,
    held: Mapping[UUID, int] | None = None,
    left_line: Mapping[UUID, int] | None = None,
) -> None:
    """Return tickets that were sold or held, one ledger statement per ticket type, in the order every
    writer locks them; then, while that statement holds the ticket type's row lock, offer what is
    free to its waiting list if anyone waits (``handover``), and record the offers in the ledger.
    ``left_line``: entries that left the line in this transaction."""
    sold, held, left_line = sold or {}, held or {}, left_line or {}
    line = handover.installed()
    for ticket_type_id in sorted(set(sold) | set(held) | set(left_line)):
        ledger = await repository.return_seats(
            session,
            ticket_type_id,
            sold=-sold.get(ticket_type_id, 0),
            held=-held.get(ticket_type_id, 0),
            waiting=-left_line.get(ticket_type_id, 0),
        )
        if ledger is None:
            raise RuntimeError(f"seat ledger of ticket type {ticket_type_id} would go negative")
        if line is None or not (ledger.waiting and ledger.free):
            continue
        handed = await line.hand_over(session, ticket_type_id, ledger.free)
        if (handed.tickets or handed.left_line) and not await repository.move_seats(
            session, ticket_type_id, held=handed.tickets, waiting=-handed.left_line
        ):
            raise RuntimeError(f"offers of ticket type {ticket_type_id} exceed its free tickets")


async def offer_free_tickets(session: AsyncSession, ticket_type_id: UUID, *, left_line: int = 0) -> None:
    """Offer a ticket type's free tickets to its waiting list, if anyone waits: after its capacity was
    raised, after ``left_line`` entries left the line, or when the worker finds free tickets that
    nobody was offered. Locks the ticket type's row until the transaction ends."""
    await _give_back(session, left_line={ticket_type_id: left_line})


async def place_offers(
    session: AsyncSession,
    ticket_type_id: UUID,
    offers: Sequence[tuple[UUID, UUID, int]],
    expires_at: datetime,
) -> dict[UUID, Hold]:
    """Holds for waiting-list offers (entry id, user id, quantity) of a ticket type whose row the
    caller holds locked, by entry id; the ledger is moved by the caller (``_give_back``). An offer
    to a user who already holds tickets of the event is not made (one active hold per user and
    event) and is missing from the answer."""
    if not offers:
        return {}
    event_id = await repository.event_id_of_ticket_type(session, ticket_type_id)
    now = utcnow()
    holds = [
        Hold(
            id=uuid.uuid4(),
            event_id=event_id,
            ticket_type_id=ticket_type_id,
            user_id=user_id,
            quantity=quantity,
            status=HoldStatus.ACTIVE,
            active_key=ACTIVE,
            expires_at=expires_at,
            created_at=now,
            ended_at=None,
            booking_id=None,
            waitlist_entry_id=entry_id,
        )
        for entry_id, user_id, quantity in offers
    ]
    inserted = await repository.insert_holds(session, holds)
    return {hold.waitlist_entry_id: hold for hold in holds if hold.id in inserted and hold.waitlist_entry_id}


async def release_offer(session: AsyncSession, hold_id: UUID) -> None:
    """Release a waiting-list offer's hold (its entry left the line): its tickets go to the next in
    line. Nothing happens if the hold has ended already."""
    await _release(session, [Hold.id == hold_id])


async def _release(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> bool:
    """Release the active holds that match; whether any was."""
    released = await repository.end_active_holds(session, conditions, HoldStatus.RELEASED, skip_locked=False)
    await _offers_ended(session, released, HoldStatus.RELEASED)
    await _give_back(session, held=released.tickets)
    return bool(released.tickets)


async def _offers_ended(session: AsyncSession, ended: repository.EndedHolds, status: HoldStatus) -> None:
    """Tell the waiting list which of the holds just ended were its offers."""
    line = handover.installed()
    if ended.offers and line is not None:
        await line.offers_ended(
            session, [handover.EndedOffer(hold_id, entry_id, status) for hold_id, entry_id in ended.offers]
        )


async def visible_hold(session: AsyncSession, hold_id: UUID, user: User, *, for_update: bool = False) -> Hold:
    """A hold its user or an admin may see; 404 for anyone else."""
    hold = await repository.hold_by_id(session, hold_id, for_update=for_update)
    if hold is None or not (hold.user_id == user.id or _is_admin(user)):
        raise NotFound("No such hold.")
    return hold


async def extend_hold(session: AsyncSession, user: User, hold_id: UUID) -> Hold:
    """Move an active hold's expiry on by its event's hold time, up to ``HOLD_EXTENSION_CAP`` hold
    times after it was made."""
    hold = await visible_hold(session, hold_id, user, for_update=True)
    if hold.user_id != user.id:
        raise NotFound("No such hold.")
    if hold.current_status is not HoldStatus.ACTIVE:
        raise HoldExpired(f"This hold is {hold.current_status.value}; it can no longer be extended.")
    event = await repository.event_of(session, hold.event_id)
    step = timedelta(minutes=event.hold_minutes)
    extended = hold.expires_at + step
    if extended > hold.created_at + HOLD_EXTENSION_CAP * step:
        raise HoldLimit(
            f"A hold lasts at most {HOLD_EXTENSION_CAP * event.hold_minutes} minutes; it runs out at "
            f"{hold.expires_at.isoformat()}."
        )
    if not await repository.extend_hold(session, hold, extended):
        raise HoldExpired("This hold ended meanwhile; it can no longer be extended.")
    hold.expires_at = extended
    return hold


async def release_hold(session: AsyncSession, user: User, hold_id: UUID) -> None:
    """Give a hold's tickets back to sale at once. Releasing a hold that has ended already changes
    nothing; a confirmed one has become a booking, which is cancelled instead. The hold is locked
    before its status is read, so a release racing a confirm sees the confirm's outcome."""
    hold = await visible_hold(session, hold_id, user, for_update=True)
    if hold.status is HoldStatus.CONFIRMED:
        raise InvalidTransition("This hold was confirmed; cancel its booking instead.")
    released = await _release(session, [Hold.id == hold.id])
    if released and hold.user_id != user.id:
        audit.record(session, user, Action.HOLD_RELEASED, "hold", hold.id, event_id=hold.event_id)


async def expire_due_holds(session: AsyncSession, now: datetime, limit: int = EXPIRY_SWEEP_BATCH) -> int:
    """Expire up to ``limit`` holds whose time has run out and return their tickets to sale; the number
    of tickets returned (0: nothing was due). Holds another transaction is working on are left to it,
    so sweeps in any number of processes return each hold's tickets exactly once."""
    expired = await repository.end_active_holds(
        session, [Hold.expires_at <= now], HoldStatus.EXPIRED, skip_locked=True, limit=limit
    )
    await _offers_ended(session, expired, HoldStatus.EXPIRED)
    await _give_back(session, held=expired.tickets)
    return sum(expired.tickets.values())
