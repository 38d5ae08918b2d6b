"""SQL for tickets, signing keys, check-ins and check-in tokens."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Select, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.db import rows_affected
from boxoffice.core.dialects import insert_ignoring_duplicates
from boxoffice.core.pagination import PageParams
from boxoffice.models import (
    CHECKED_IN,
    Booking,
    CheckIn,
    CheckinToken,
    Event,
    Ticket,
    TicketSigningKey,
    TicketStatus,
)

_TICKETS = cast(Table, Ticket.__table__)
_CHECKINS = cast(Table, CheckIn.__table__)


def add_signing_key(session: AsyncSession, key: TicketSigningKey) -> None:
    session.add(key)


async def signing_key(session: AsyncSession, event_id: UUID) -> TicketSigningKey | None:
    return await session.get(TicketSigningKey, event_id)


async def insert_tickets(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert tickets in one statement (a row of parameters each, as bookings are inserted)."""
    if rows:
        await session.execute(_TICKETS.insert(), list(rows))


async def highest_number(session: AsyncSession, booking_id: UUID) -> int:
    """The highest ticket number a booking has used, cancelled tickets included (numbers are never
    used twice)."""
    return int(
        await session.scalar(select(func.max(Ticket.number)).where(Ticket.booking_id == booking_id)) or 0
    )


async def cancel_tickets(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], now: datetime
) -> int:
    """Cancel the valid tickets that match ``conditions``; how many were cancelled."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.status == TicketStatus.VALID, *conditions)
        .values(status=TicketStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result)


async def last_valid_ticket_ids(session: AsyncSession, booking_id: UUID, count: int) -> list[UUID]:
    """The ``count`` valid tickets of a booking with the highest numbers: the last ones issued."""
    query = (
        select(Ticket.id)
        .where(Ticket.booking_id == booking_id, Ticket.status == TicketStatus.VALID)
        .order_by(Ticket.number.desc())
        .limit(count)
    )
    return list(await session.scalars(query))


def _active_checkin_time() -> Any:
    return (
        select(CheckIn.created_at)
        .where(CheckIn.ticket_id == Ticket.id, CheckIn.active_key == CHECKED_IN)
        .scalar_subquery()
    )


def _ticket_view() -> Select[*tuple[Any, ...]]:
    """A ticket as the API shows it: its holder name falls back to its booking's, and it carries the
    time of its standing check-in, if any."""
    return select(
        Ticket.id,
        Ticket.booking_id,
        Ticket.event_id,
        Ticket.ticket_type_id,
        func.coalesce(Ticket.holder_name, Booking.holder_name).label("holder_name"),
        Ticket.code,
        Ticket.status,
        _active_checkin_time().label("checked_in_at"),
    ).join(Booking, Booking.id == Ticket.booking_id)


async def tickets_of_booking(session: AsyncSession, booking_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        _ticket_view().where(Ticket.booking_id == booking_id).order_by(Ticket.number)
    )
    return [dict(row._mapping) for row in rows]


async def ticket_view(session: AsyncSession, ticket_id: UUID) -> dict[str, Any] | None:
    row = (await session.execute(_ticket_view().where(Ticket.id == ticket_id))).one_or_none()
    return dict(row._mapping) if row else None


async def ticket_with_booking(session: AsyncSession, ticket_id: UUID) -> tuple[Ticket, Booking] | None:
    """A ticket and its booking (with the booking's event loaded), for access checks."""
    row = (
        await session.execute(
            select(Ticket, Booking, Event)
            .join(Booking, Booking.id == Ticket.booking_id)
            .join(Event, Event.id == Ticket.event_id)
            .where(Ticket.id == ticket_id)
        )
    ).one_or_none()
    if row is None:
        return None
    ticket, booking, event = row
    booking.event = event
    return ticket, booking


async def booking_with_event(session: AsyncSession, booking_id: UUID) -> Booking | None:
    row = (
        await session.execute(
            select(Booking, Event).join(Event, Event.id == Booking.event_id).where(Booking.id == booking_id)
        )
    ).one_or_none()
    if row is None:
        return None
    booking, event = row
    booking.event = event
    return booking


async def ticket_code(session: AsyncSession, ticket_id: UUID) -> str:
    return str(await session.scalar(select(Ticket.code).where(Ticket.id == ticket_id)))


async def rename_ticket(session: AsyncSession, ticket_id: UUID, holder_name: str | None) -> bool:
    """Set a valid ticket's own holder name (None: its booking's); False if it is not valid."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == TicketStatus.VALID)
        .values(holder_name=holder_name)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def event_for_door(session: AsyncSession, event_id: UUID, *, lock: bool) -> Event | None:
    """The event; with ``lock``, under a KEY SHARE lock (PostgreSQL), the lock bookings take: taken
    first, as by every writer, so a check-in and an event's cancellation (which locks the event and
    then its tickets) wait for each other instead of deadlocking."""
    query = select(Event).where(Event.id == event_id)
    if lock:
        query = query.with_for_update(read=True, key_share=True)
    return (await session.scalars(query)).one_or_none()


async def ticket_for_checkin(session: AsyncSession, event_id: UUID, ticket_id: UUID) -> Ticket | None:
    """An event's ticket, under a SHARE lock (PostgreSQL) until the transaction ends: it cannot be
    cancelled while it is being checked in."""
    query = (
        select(Ticket)
        .where(Ticket.id == ticket_id, Ticket.event_id == event_id)
        .with_for_update(read=True)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def insert_checkin(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Admit a ticket: insert a standing check-in unless one stands already for the ticket (or this
    nonce was used for the event); True if this one was inserted. The unique constraints decide, so
    of any number of scanners racing for one ticket exactly one wins (on PostgreSQL a second insert
    waits for the first to commit or roll back, then does nothing or goes in)."""
    statement = insert_ignoring_duplicates(session, _CHECKINS).values(**values).returning(_CHECKINS.c.id)
    return (await session.scalar(statement)) is not None


async def checkin_by_nonce(session: AsyncSession, event_id: UUID, nonce: str) -> CheckIn | None:
    query = select(CheckIn).where(CheckIn.event_id == event_id, CheckIn.nonce == nonce)
    return (await session.scalars(query)).one_or_none()


async def standing_checkin(session: AsyncSession, ticket_id: UUID) -> CheckIn | None:
    query = select(CheckIn).where(CheckIn.ticket_id == ticket_id, CheckIn.active_key == CHECKED_IN)
    return (await session.scalars(query)).one_or_none()


async def undo_checkin(session: AsyncSession, event_id: UUID, checkin_id: UUID, now: datetime) -> UUID | None:
    """Undo a standing check-in of the event (one conditional statement: of two undos at once, one
    wins); the ticket's id, or None if there was no such standing check-in."""
    ticket_id = await session.scalar(
        select(CheckIn.ticket_id).where(
            CheckIn.id == checkin_id, CheckIn.event_id == event_id, CheckIn.active_key == CHECKED_IN
        )
    )
    if ticket_id is None:
        return None
    result = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.active_key == CHECKED_IN)
        .values(active_key=None, undone_at=now)
        .execution_options(synchronize_session=False)
    )
    return ticket_id if rows_affected(result) == 1 else None


def _checkin_view() -> Select[*tuple[Any, ...]]:
    return (
        select(
            CheckIn.id,
            CheckIn.ticket_id,
            Booking.code.label("booking_code"),
            func.coalesce(Ticket.holder_name, Booking.holder_name).label("holder_name"),
            Ticket.ticket_type_id,
            CheckIn.created_at,
            CheckIn.by_kind,
            CheckIn.by_id,
            CheckIn.by_name,
        )
        .join(Ticket, Ticket.id == CheckIn.ticket_id)
        .join(Booking, Booking.id == Ticket.booking_id)
    )


async def checkin_view(session: AsyncSession, checkin_id: UUID) -> dict[str, Any]:
    return dict((await session.execute(_checkin_view().where(CheckIn.id == checkin_id))).one()._mapping)


async def standing_checkins(
    session: AsyncSession, event_id: UUID, page: PageParams
) -> tuple[list[dict[str, Any]], int]:
    """An event's standing check-ins, newest first."""
    conditions = (CheckIn.event_id == event_id, CheckIn.active_key == CHECKED_IN)
    total = await session.scalar(select(func.count()).select_from(CheckIn).where(*conditions))
    rows = await session.execute(
        _checkin_view()
        .where(*conditions)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return [dict(row._mapping) for row in rows], int(total or 0)


async def checked_in_count(session: AsyncSession, event_id: UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(CheckIn)
        .where(CheckIn.event_id == event_id, CheckIn.active_key == CHECKED_IN)
    )
    return int(count or 0)


async def cancelled_ticket_ids(session: AsyncSession, event_id: UUID) -> list[UUID]:
    query = (
        select(Ticket.id)
        .where(Ticket.event_id == event_id, Ticket.status == TicketStatus.CANCELLED)
        .order_by(Ticket.id)
    )
    return list(await session.scalars(query))


def add_checkin_token(session: AsyncSession, token: CheckinToken) -> None:
    session.add(token)


async def live_checkin_tokens(
    session: AsyncSession, event_id: UUID, page: PageParams
) -> tuple[Sequence[CheckinToken], int]:
    conditions = (CheckinToken.event_id == event_id, CheckinToken.revoked_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(CheckinToken).where(*conditions))
    tokens = await session.scalars(
        select(CheckinToken)
        .where(*conditions)
        .order_by(CheckinToken.created_at.desc(), CheckinToken.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return tokens.all(), int(total or 0)


async def revoke_checkin_token(session: AsyncSession, event_id: UUID, token_id: UUID, now: datetime) -> bool:
    """Revoke a live token of the event; False if there is none (unknown, another event's, revoked)."""
    result = await session.execute(
        update(CheckinToken)
        .where(
            CheckinToken.id == token_id,
            CheckinToken.event_id == event_id,
            CheckinToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1
