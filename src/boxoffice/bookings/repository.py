"""SQL for bookings, the seat ledger and idempotency keys."""

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from boxoffice.core.db import contains, rows_affected, utcnow
from boxoffice.core.dialects import (
    insert_ignoring_duplicates,
    lock_before_referencing,
    lock_rows,
    locks_joined_rows,
    try_transaction_lock,
    update_returning,
)
from boxoffice.core.pagination import PageParams
from boxoffice.models import (
    ACTIVE,
    Booking,
    BookingStatus,
    Event,
    EventStatus,
    Hold,
    HoldStatus,
    IdempotencyKey,
    TicketType,
)

CODE_ATTEMPTS = 5


async def event_for_booking(session: AsyncSession, event_id: UUID) -> Event | None:
    """The event with its ticket types, fresh from the database, with a KEY SHARE lock on the event
    row (PostgreSQL).

    Bookings and booking changes share the lock; cancelling an event takes it exclusively (FOR
    UPDATE). So an event cancellation waits for bookings already under way, and sees them, while new
    bookings wait for the cancellation and then see the event cancelled: none slips past it.
    """
    query = (
        select(Event)
        .where(Event.id == event_id)
        .options(joinedload(Event.ticket_types))
        .execution_options(populate_existing=True)
    )
    if locks_joined_rows(session):
        await lock_rows(session, Event, Event.id == event_id, read=True)
    else:
        query = query.with_for_update(read=True, key_share=True, of=Event)
    return (await session.scalars(query)).unique().one_or_none()


_BOOKING_COLUMNS = [column.key for column in Booking.__mapper__.column_attrs]
_BOOKINGS = Booking.__table__
_HOLD_COLUMNS = [column.key for column in Hold.__mapper__.column_attrs]
_HOLDS = cast(Table, Hold.__table__)


async def insert_bookings(
    session: AsyncSession, bookings: Sequence[Booking], new_code: Callable[[], str]
) -> set[UUID]:
    """Insert (fully populated, transient) bookings of one event in one statement, and return the ids
    of those inserted. A booking left out is a second active booking of its user for the event
    (another in the same statement included). A code that is taken already leaves its row out too
    (ON CONFLICT DO NOTHING, no savepoint needed): that booking draws another code and goes again.

    Rows go in the order of their users, as in every batch of every process, so two batches that
    both book for the same two users wait for each other instead of deadlocking."""
    inserted: set[UUID] = set()
    pending = sorted(bookings, key=lambda booking: booking.user_id)
    for _ in range(CODE_ATTEMPTS):
        if not pending:
            return inserted
        for booking in pending:
            booking.code = new_code()
        rows = [{column: getattr(booking, column) for column in _BOOKING_COLUMNS} for booking in pending]
        # One statement with a row of parameters per booking (SQLAlchemy sends them as one multi-row
        # INSERT): compiled once, where a statement with the rows in it is compiled again for every
        # batch, measured as an eighth of a flash sale's API time (docs/benchmark.md).
        statement = insert_ignoring_duplicates(session, _BOOKINGS).returning(_BOOKINGS.c.id)
        inserted.update(await session.scalars(statement, rows))
        left_out = [booking for booking in pending if booking.id not in inserted]
        booked = await users_with_active_booking(
            session, left_out[0].event_id if left_out else None, {b.user_id for b in left_out}
        )
        pending = [booking for booking in left_out if booking.user_id not in booked]
    if pending:
        raise RuntimeError("could not find a free booking code")
    return inserted


async def users_with_active_booking(
    session: AsyncSession, event_id: UUID | None, user_ids: Collection[UUID]
) -> set[UUID]:
    """Which of these users hold a confirmed booking for the event."""
    if event_id is None or not user_ids:
        return set()
    query = select(Booking.user_id).where(
        Booking.event_id == event_id, Booking.user_id.in_(user_ids), Booking.active_key == ACTIVE
    )
    return set(await session.scalars(query))


async def delete_bookings(session: AsyncSession, booking_ids: Sequence[UUID]) -> None:
    """Take back bookings inserted earlier in this transaction (before anything refers to them)."""
    if not booking_ids:
        return
    await session.execute(
        delete(Booking).where(Booking.id.in_(booking_ids)).execution_options(synchronize_session=False)
    )


async def insert_holds(session: AsyncSession, holds: Sequence[Hold]) -> set[UUID]:
    """Insert (fully populated, transient) holds in one statement and return the ids of those
    inserted; one left out is a second active hold of its user for the event."""
    if not holds:
        return set()
    rows = [
        {column: getattr(hold, column) for column in _HOLD_COLUMNS}
        for hold in sorted(holds, key=lambda hold: hold.user_id)
    ]
    statement = insert_ignoring_duplicates(session, _HOLDS).returning(_HOLDS.c.id)
    return set(await session.scalars(statement, rows))


async def delete_holds(session: AsyncSession, hold_ids: Sequence[UUID]) -> None:
    """Take back holds inserted earlier in this transaction."""
    if not hold_ids:
        return
    await session.execute(
        delete(Hold).where(Hold.id.in_(hold_ids)).execution_options(synchronize_session=False)
    )


async def lock_ticket_types(session: AsyncSession, event_id: UUID) -> None:
    """Lock the event's ticket-type rows (FOR UPDATE, PostgreSQL) and refresh them: what is left can
    then change only in this transaction."""
    query = (
        select(TicketType)
        .where(TicketType.event_id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    await session.scalars(query)


async def lock_before_adding_tickets(session: AsyncSession, ticket_type_id: UUID) -> None:
    """Before a booking change adds tickets of a ticket type and then takes its seats: on
    MariaDB/MySQL the tickets' foreign-key check would share-lock the ticket type, and two changes
    would each wait for the other's share lock to update it (a deadlock), so it is locked first
    (``lock_before_referencing``). Nothing on the other databases."""
    await lock_before_referencing(session, TicketType, ticket_type_id)


async def move_seats(
    session: AsyncSession,
    ticket_type_id: UUID,
    *,
    sold: int = 0,
    held: int = 0,
    waiting: int = 0,
    public: bool = False,
) -> bool:
    """The one statement that changes the seat ledger: add ``sold`` and ``held`` (either may be
    negative) if the result stays within capacity and above zero, and ``waiting`` to the length of
    its waiting list. ``public``: seats taken by the public sale, which takes none while anyone
    waits. False means it would not fit: sold out, when seats are being taken."""
    conditions = [
        TicketType.id == ticket_type_id,
        TicketType.sold + TicketType.held + (sold + held) <= TicketType.capacity,
        TicketType.sold + sold >= 0,
        TicketType.held + held >= 0,
    ]
    if public:
        conditions.append(TicketType.waiting == 0)
    result = await session.execute(
        update(TicketType)
        .where(*conditions)
        .values(
            sold=TicketType.sold + sold, held=TicketType.held + held, waiting=TicketType.waiting + waiting
        )
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


@dataclass(frozen=True)
class Ledger:
    """A ticket type's ledger after a change."""

    capacity: int
    sold: int
    held: int
    waiting: int

    @property
    def free(self) -> int:
        return self.capacity - self.sold - self.held


async def return_seats(
    session: AsyncSession, ticket_type_id: UUID, *, sold: int = 0, held: int = 0, waiting: int = 0
) -> Ledger | None:
    """Give seats back (``sold`` and ``held`` zero or negative) and change the line's length, in one
    statement that locks the ticket type's row until the transaction ends; the ledger as it is then
    (None if a count would go negative). With nothing to change it only locks and reads."""
    rows = await update_returning(
        session,
        TicketType,
        [
            TicketType.id == ticket_type_id,
            TicketType.sold + sold >= 0,
            TicketType.held + held >= 0,
            TicketType.waiting + waiting >= 0,
        ],
        {
            "sold": TicketType.sold + sold,
            "held": TicketType.held + held,
            "waiting": TicketType.waiting + waiting,
        },
        TicketType.capacity,
        TicketType.sold,
        TicketType.held,
        TicketType.waiting,
    )
    return Ledger(*rows[0]) if rows else None


async def seats_left(session: AsyncSession, ticket_type_id: UUID) -> int:
    """What the public may still buy: nothing while anyone waits."""
    ticket_type = await session.get(TicketType, ticket_type_id, populate_existing=True)
    return ticket_type.available if ticket_type is not None else 0


async def event_id_of_ticket_type(session: AsyncSession, ticket_type_id: UUID) -> UUID:
    return (await session.scalars(select(TicketType.event_id).where(TicketType.id == ticket_type_id))).one()


async def event_of(session: AsyncSession, event_id: UUID) -> Event:
    return await session.get_one(Event, event_id)


async def hold_by_id(session: AsyncSession, hold_id: UUID, *, for_update: bool = False) -> Hold | None:
    query = select(Hold).where(Hold.id == hold_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).one_or_none()


async def event_id_of_hold(session: AsyncSession, hold_id: UUID) -> UUID | None:
    return await session.scalar(select(Hold.event_id).where(Hold.id == hold_id))


async def holds_for_update(session: AsyncSession, hold_ids: Collection[UUID]) -> dict[UUID, Hold]:
    """Holds by id, locked (FOR UPDATE, PostgreSQL) until the transaction ends."""
    if not hold_ids:
        return {}
    query = (
        select(Hold)
        .where(Hold.id.in_(hold_ids))
        .order_by(Hold.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {hold.id: hold for hold in await session.scalars(query)}


async def mark_holds_confirmed(session: AsyncSession, bookings_by_hold: Mapping[UUID, UUID]) -> None:
    """Record locked holds (holds_for_update) as confirmed into their bookings."""
    if not bookings_by_hold:
        return
    now = utcnow()
    await session.execute(
        update(_HOLDS)
        .where(_HOLDS.c.id == bindparam("hold_id"))
        .values(status=HoldStatus.CONFIRMED, active_key=None, ended_at=now, booking_id=bindparam("booking"))
        .execution_options(synchronize_session=False),
        [{"hold_id": hold_id, "booking": booking_id} for hold_id, booking_id in bookings_by_hold.items()],
    )


@dataclass
class EndedHolds:
    """What ending holds returns: their tickets per ticket type, and which of them were waiting-list
    offers (hold id, entry id)."""

    tickets: dict[UUID, int] = field(default_factory=dict)
    offers: list[tuple[UUID, UUID]] = field(default_factory=list)


async def end_active_holds(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    status: HoldStatus,
    *,
    skip_locked: bool,
    limit: int | None = None,
) -> EndedHolds:
    """End the active holds that match ``conditions`` (release or expire them) and return their
    tickets per ticket type, for the caller to give back with ``move_seats``.

    The holds are locked first and only those locked are ended. With ``skip_locked`` a hold that
    another transaction holds (one confirming, extending or ending it) is left to it; without, this
    waits for it and then sees its outcome. Either way each hold ends, and its tickets return,
    exactly once (SQLite runs one writer at a time)."""
    query = select(Hold.id, Hold.ticket_type_id, Hold.quantity, Hold.waitlist_entry_id).where(
        Hold.status == HoldStatus.ACTIVE, *conditions
    )
    if limit is not None:
        query = query.order_by(Hold.expires_at).limit(limit)
    rows = (await session.execute(query.with_for_update(skip_locked=skip_locked))).all()
    ended = EndedHolds()
    if not rows:
        return ended
    now = utcnow()
    result = await session.execute(
        update(Hold)
        .where(Hold.id.in_([row.id for row in rows]), Hold.status == HoldStatus.ACTIVE)
        .values(status=status, active_key=None, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != len(rows):
        raise RuntimeError("a locked hold changed under its lock")
    for row in rows:
        ended.tickets[row.ticket_type_id] = ended.tickets.get(row.ticket_type_id, 0) + row.quantity
        if row.waitlist_entry_id is not None:
            ended.offers.append((row.id, row.waitlist_entry_id))
    return ended


async def extend_hold(session: AsyncSession, hold: Hold, expires_at: datetime) -> bool:
    """Move an active hold's expiry on, if it is still as it was read."""
    result = await session.execute(
        update(Hold)
        .where(Hold.id == hold.id, Hold.status == HoldStatus.ACTIVE, Hold.expires_at == hold.expires_at)
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def booking_by_id(
    session: AsyncSession, booking_id: UUID, *, for_update: bool = False
) -> Booking | None:
    query = select(Booking).where(Booking.id == booking_id).options(joinedload(Booking.event))
    if for_update and locks_joined_rows(session):
        await lock_rows(session, Booking, Booking.id == booking_id)
    elif for_update:
        query = query.with_for_update(of=Booking)
    return (await session.scalars(query)).one_or_none()


async def event_id_of_booking(session: AsyncSession, booking_id: UUID) -> UUID | None:
    return await session.scalar(select(Booking.event_id).where(Booking.id == booking_id))


def _cancelled(reason: str | None) -> dict[str, Any]:
    """The columns of a booking once cancelled: its active key freed, so the holder may book again."""
    now = utcnow()
    return {
        "status": BookingStatus.CANCELLED,
        "active_key": None,
        "cancelled_at": now,
        "cancellation_reason": reason,
        "updated_at": now,
    }


async def mark_cancelled(session: AsyncSession, booking_id: UUID, reason: str | None) -> bool:
    """Cancel a confirmed booking; False if it was not confirmed (someone else won the race)."""
    result = await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == BookingStatus.CONFIRMED)
        .values(**_cancelled(reason))
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def set_quantity(session: AsyncSession, booking: Booking, quantity: int) -> bool:
    """Change a confirmed booking's quantity, if it still has the quantity we read."""
    result = await session.execute(
        update(Booking)
        .where(
            Booking.id == booking.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.quantity == booking.quantity,
        )
        .values(quantity=quantity, total_price=booking.unit_price * quantity, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def reload(session: AsyncSession, booking: Booking) -> None:
    """Re-read a booking's columns after a conditional update (its loaded event stays)."""
    await session.refresh(booking, attribute_names=_BOOKING_COLUMNS)


async def cancel_confirmed_of_event(
    session: AsyncSession, event_id: UUID, reason: str | None
) -> list[Booking]:
    """Cancel every confirmed booking of an event and return them all seats; the caller holds the
    event's row lock, so no booking of this event changes meanwhile."""
    confirmed = (
        await session.scalars(
            select(Booking)
            .where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED)
            .options(joinedload(Booking.event))
        )
    ).all()
    if not confirmed:
        return []
    await session.execute(
        update(Booking)
        .where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED)
        .values(**_cancelled(reason))
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(TicketType)
        .where(TicketType.event_id == event_id)
        .values(sold=0)
        .execution_options(synchronize_session=False)
    )
    for booking in confirmed:
        await reload(session, booking)
    return list(confirmed)


async def close_lines(session: AsyncSession, event_id: UUID) -> None:
    """Empty the waiting lists of an event being cancelled (its entries were ended first)."""
    await session.execute(
        update(TicketType)
        .where(TicketType.event_id == event_id, TicketType.waiting > 0)
        .values(waiting=0)
        .execution_options(synchronize_session=False)
    )


async def event_has_bookings(session: AsyncSession, event_id: UUID) -> bool:
    return bool(await session.scalar(select(exists().where(Booking.event_id == event_id))))


async def ticket_type_has_bookings(session: AsyncSession, ticket_type_id: UUID) -> bool:
    return bool(await session.scalar(select(exists().where(Booking.ticket_type_id == ticket_type_id))))


@dataclass(frozen=True)
class EventFigures:
    confirmed: int
    cancelled: int
    revenue_by_ticket_type: dict[UUID, Decimal]
    zero: Decimal = Decimal("0.00")


async def event_figures(session: AsyncSession, event_id: UUID) -> EventFigures:
    counts = dict(
        (
            await session.execute(
                select(Booking.status, func.count())
                .where(Booking.event_id == event_id)
                .group_by(Booking.status)
            )
        ).all()
    )
    revenue = dict(
        (
            await session.execute(
                select(Booking.ticket_type_id, func.sum(Booking.total_price))
                .where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED)
                .group_by(Booking.ticket_type_id)
            )
        ).all()
    )
    return EventFigures(
        confirmed=int(counts.get(BookingStatus.CONFIRMED, 0)),
        cancelled=int(counts.get(BookingStatus.CANCELLED, 0)),
        revenue_by_ticket_type={k: Decimal(v).quantize(Decimal("0.01")) for k, v in revenue.items()},
    )


async def _paged(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], page: PageParams
) -> tuple[Sequence[Booking], int]:
    total = await session.scalar(select(func.count()).select_from(Booking).where(*conditions))
    items = (
        await session.scalars(
            select(Booking)
            .where(*conditions)
            .order_by(Booking.created_at.desc(), Booking.id.desc())
            .limit(page.limit)
            .offset(page.offset)
            .options(joinedload(Booking.event))
        )
    ).all()
    return items, int(total or 0)


async def user_bookings(
    session: AsyncSession,
    user_id: UUID,
    *,
    status: BookingStatus | None,
    event_id: UUID | None,
    upcoming_only: bool,
    page: PageParams,
) -> tuple[Sequence[Booking], int]:
    conditions: list[ColumnElement[bool]] = [Booking.user_id == user_id]
    if status is not None:
        conditions.append(Booking.status == status)
    if event_id is not None:
        conditions.append(Booking.event_id == event_id)
    if upcoming_only:
        conditions.append(Booking.event.has(Event.starts_at > utcnow()))
    return await _paged(session, conditions, page)


def _guest_conditions(
    event_id: UUID, status: BookingStatus | None, q: str | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Booking.event_id == event_id]
    if status is not None:
        conditions.append(Booking.status == status)
    if q:
        conditions.append(
            or_(
                contains(func.lower(Booking.holder_name), q),
                contains(func.lower(Booking.holder_email), q),
                contains(func.lower(Booking.code), q),
            )
        )
    return conditions


async def guest_list(
    session: AsyncSession, event_id: UUID, status: BookingStatus | None, q: str | None, page: PageParams
) -> tuple[Sequence[Booking], int]:
    return await _paged(session, _guest_conditions(event_id, status, q), page)


async def iter_guest_list(
    session: AsyncSession, event_id: UUID, status: BookingStatus | None, q: str | None, chunk: int = 500
) -> AsyncIterator[Sequence[Booking]]:
    """Every matching booking, in chunks, by keyset on (created_at, id): memory stays flat."""
    conditions = _guest_conditions(event_id, status, q)
    after: tuple[datetime, UUID] | None = None
    while True:
        query = select(Booking).where(*conditions)
        if after is not None:
            query = query.where(
                or_(
                    Booking.created_at > after[0],
                    (Booking.created_at == after[0]) & (Booking.id > after[1]),
                )
            )
        rows = (await session.scalars(query.order_by(Booking.created_at, Booking.id).limit(chunk))).all()
        if not rows:
            return
        yield rows
        after = (rows[-1].created_at, rows[-1].id)
        session.expunge_all()


async def claim_idempotency_key(session: AsyncSession, user_id: UUID, key: str) -> bool:
    """Claim a key for this transaction; False if another request with it is running (PostgreSQL: a
    transaction-scoped advisory lock, tried without waiting; MariaDB/MySQL: a named lock held until
    the transaction's connection goes back to its pool; SQLite runs one writer at a time, so there is
    nothing to claim)."""
    return await try_transaction_lock(session, user_id, key)


async def remembered_response(session: AsyncSession, user_id: UUID, key: str) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (user_id, key), populate_existing=True)


async def forget_response(session: AsyncSession, record: IdempotencyKey) -> None:
    await session.delete(record)
    await session.flush()


def remember_response(
    session: AsyncSession, *, user_id: UUID, key: str, request_hash: str, status: int, body: str
) -> None:
    """Store a first answer (flushed with the rest). The key was claimed first (claim_idempotency_key),
    so no other transaction can store one for it meanwhile; the primary key stays the last line of
    defence."""
    session.add(
        IdempotencyKey(
            user_id=user_id, key=key, request_hash=request_hash, response_status=status, response_body=body
        )
    )


async def purge_idempotency_keys(session: AsyncSession, older_than: datetime) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return rows_affected(result)


async def due_for_reminder(
    session: AsyncSession, now: datetime, until: datetime, limit: int
) -> Sequence[Booking]:
    """Confirmed bookings of published events starting in (now, until] not yet reminded."""
    return (
        (
            await session.scalars(
                select(Booking)
                .join(Event, Event.id == Booking.event_id)
                .where(
                    Event.status == EventStatus.PUBLISHED,
                    Event.starts_at > now,
                    Event.starts_at <= until,
                    Booking.status == BookingStatus.CONFIRMED,
                    Booking.reminder_queued_at.is_(None),
                )
                .order_by(Event.starts_at)
                .limit(limit)
                .options(joinedload(Booking.event).joinedload(Event.ticket_types))
            )
        )
        .unique()
        .all()
    )


async def mark_reminders_queued(session: AsyncSession, booking_ids: Sequence[UUID], now: datetime) -> None:
    if booking_ids:
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(booking_ids))
            .values(reminder_queued_at=now)
            .execution_options(synchronize_session=False)
        )


async def confirmed_of_upcoming_event(session: AsyncSession, booking_id: UUID, now: datetime) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Booking.id == booking_id,
                    Booking.status == BookingStatus.CONFIRMED,
                    Booking.event_id == Event.id,
                    Event.status == EventStatus.PUBLISHED,
                    Event.starts_at > now,
                )
            )
        )
    )


async def confirmed_of_event(session: AsyncSession, event_id: UUID) -> Sequence[Booking]:
    return (
        await session.scalars(
            select(Booking).where(Booking.event_id == event_id, Booking.status == BookingStatus.CONFIRMED)
        )
    ).all()
