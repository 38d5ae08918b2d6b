"""SQL for waiting lists: entries, the line of a ticket type, its length on the ticket type's row."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload, selectinload

from boxoffice.core.db import rows_affected
from boxoffice.core.dialects import (
    insert_ignoring_duplicates,
    lock_before_referencing,
    lock_rows,
    locks_joined_rows,
    update_returning,
)
from boxoffice.core.pagination import PageParams
from boxoffice.models import (
    Event,
    EventStatus,
    Hold,
    HoldStatus,
    TicketType,
    User,
    WaitlistEntry,
    WaitlistStatus,
)

_ENTRIES = cast(Table, WaitlistEntry.__table__)
_ENTRY_COLUMNS = [column.key for column in WaitlistEntry.__mapper__.column_attrs]
IN_LINE = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def _ahead_of(entry: Any) -> ColumnElement[bool]:
    """Entries of the same ticket type that joined before ``entry`` (the line's order: joined at,
    then id)."""
    ahead = aliased(WaitlistEntry)
    return (
        select(func.count())
        .where(
            ahead.ticket_type_id == entry.ticket_type_id,
            ahead.status == WaitlistStatus.WAITING,
            or_(
                ahead.created_at < entry.created_at,
                and_(ahead.created_at == entry.created_at, ahead.id < entry.id),
            ),
        )
        .scalar_subquery()
    )


_POSITION = (_ahead_of(WaitlistEntry) + 1).label("position")
_LINE_ORDER = (WaitlistEntry.created_at, WaitlistEntry.id)


async def event_of_ticket_type(session: AsyncSession, ticket_type_id: UUID) -> Event:
    query = (
        select(Event)
        .join(TicketType, TicketType.event_id == Event.id)
        .where(TicketType.id == ticket_type_id)
        .options(joinedload(Event.ticket_types))
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).unique().one()


async def events_by_id(session: AsyncSession, event_ids: Collection[UUID]) -> dict[UUID, Event]:
    if not event_ids:
        return {}
    query = select(Event).where(Event.id.in_(event_ids)).options(joinedload(Event.ticket_types))
    return {event.id: event for event in (await session.scalars(query)).unique()}


async def insert_entry(session: AsyncSession, entry: WaitlistEntry) -> bool:
    """Insert a (fully populated, transient) entry; False if its user is in the event's line already."""
    await lock_before_referencing(session, TicketType, entry.ticket_type_id)  # join_line updates it next
    row = {column: getattr(entry, column) for column in _ENTRY_COLUMNS}
    statement = insert_ignoring_duplicates(session, _ENTRIES).values(**row).returning(_ENTRIES.c.id)
    return (await session.scalar(statement)) is not None


async def join_line(session: AsyncSession, ticket_type_id: UUID) -> bool:
    """Count one more entry in the ticket type's line, if it may have a line: nothing is on sale to
    the public (all sold or held) or others wait already. One statement, so it serialises with every
    sale and return of the ticket type on its row lock."""
    result = await session.execute(
        update(TicketType)
        .where(
            TicketType.id == ticket_type_id,
            or_(TicketType.waiting > 0, TicketType.sold + TicketType.held >= TicketType.capacity),
        )
        .values(waiting=TicketType.waiting + 1)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def stamp_joined(session: AsyncSession, entry: WaitlistEntry) -> None:
    await session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id)
        .values(created_at=entry.created_at)
        .execution_options(synchronize_session=False)
    )


async def position_of(session: AsyncSession, entry: WaitlistEntry) -> int:
    return int(await session.scalar(select(_ahead_of(entry) + 1)) or 1)


async def entry_by_id(session: AsyncSession, entry_id: UUID) -> WaitlistEntry | None:
    query = (
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id)
        .options(selectinload(WaitlistEntry.hold))
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).one_or_none()


async def _paged(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    page: PageParams | None,
    with_users: bool = False,
) -> tuple[list[tuple[WaitlistEntry, int]], int]:
    total = await session.scalar(select(func.count()).select_from(WaitlistEntry).where(*conditions))
    query = (
        select(WaitlistEntry, _POSITION)
        .where(*conditions)
        .order_by(*order)
        .options(selectinload(WaitlistEntry.hold))
    )
    if with_users:
        query = query.options(joinedload(WaitlistEntry.user))
    if page is not None:
        query = query.limit(page.limit).offset(page.offset)
    rows = (await session.execute(query)).all()
    return [(entry, int(position)) for entry, position in rows], int(total or 0)


async def user_entries(
    session: AsyncSession, user_id: UUID, status: WaitlistStatus | None, page: PageParams
) -> tuple[list[tuple[WaitlistEntry, int]], int]:
    """A user's entries, newest first, each with its place in line."""
    conditions = [WaitlistEntry.user_id == user_id]
    if status is not None:
        conditions.append(WaitlistEntry.status == status)
    order = (WaitlistEntry.created_at.desc(), WaitlistEntry.id.desc())
    return await _paged(session, conditions, order, page)


async def event_entries(
    session: AsyncSession, event_id: UUID, status: WaitlistStatus | None, page: PageParams | None
) -> tuple[list[tuple[WaitlistEntry, int]], int]:
    """An event's entries in the order they joined, with their users; every one without ``page``."""
    conditions = [WaitlistEntry.event_id == event_id]
    if status is not None:
        conditions.append(WaitlistEntry.status == status)
    return await _paged(session, conditions, _LINE_ORDER, page, with_users=True)


async def waiting_entries(
    session: AsyncSession, ticket_type_id: UUID, limit: int
) -> list[tuple[WaitlistEntry, str]]:
    """The head of a ticket type's line with each user's email, locked (PostgreSQL). An entry another
    transaction has locked (its user is leaving) is skipped: it is no longer in line."""
    in_line = [WaitlistEntry.ticket_type_id == ticket_type_id, WaitlistEntry.status == WaitlistStatus.WAITING]
    query = (
        select(WaitlistEntry, User.email).join(User, User.id == WaitlistEntry.user_id).order_by(*_LINE_ORDER)
    )
    if locks_joined_rows(session):
        head = select(WaitlistEntry.id).where(*in_line).order_by(*_LINE_ORDER).limit(limit)
        locked = list(await session.scalars(head.with_for_update(skip_locked=True)))
        query = query.where(WaitlistEntry.id.in_(locked))
    else:
        query = query.where(*in_line).limit(limit).with_for_update(skip_locked=True, of=WaitlistEntry)
    return [(entry, email) for entry, email in (await session.execute(query)).all()]


async def users_with_hold(session: AsyncSession, event_id: UUID, user_ids: Collection[UUID]) -> set[UUID]:
    if not user_ids:
        return set()
    query = select(Hold.user_id).where(
        Hold.event_id == event_id, Hold.user_id.in_(user_ids), Hold.status == HoldStatus.ACTIVE
    )
    return set(await session.scalars(query))


async def mark_offered(session: AsyncSession, entry_ids: Sequence[UUID], now: datetime) -> None:
    """Entries locked by ``waiting_entries`` now hold offers."""
    if not entry_ids:
        return
    result = await session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id.in_(entry_ids), WaitlistEntry.status == WaitlistStatus.WAITING)
        .values(status=WaitlistStatus.OFFERED, offered_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != len(entry_ids):
        raise RuntimeError("a locked waiting-list entry changed under its lock")


async def end_entries(
    session: AsyncSession,
    entry_ids: Collection[UUID],
    from_statuses: Collection[WaitlistStatus],
    to: WaitlistStatus,
    now: datetime,
) -> list[UUID]:
    """Move the entries that are still in one of ``from_statuses`` to the ended status ``to``, one
    conditional statement: whoever ends an entry first wins. The ids of those it moved."""
    if not entry_ids:
        return []
    return await _end(
        session, [WaitlistEntry.id.in_(entry_ids), WaitlistEntry.status.in_(from_statuses)], to, now
    )


async def _end(session: AsyncSession, conditions: list[Any], to: WaitlistStatus, now: datetime) -> list[UUID]:
    values = {"status": to, "active_key": None, "ended_at": now}
    return [
        row[0] for row in await update_returning(session, WaitlistEntry, conditions, values, WaitlistEntry.id)
    ]


async def entries_with_emails(
    session: AsyncSession, entry_ids: Collection[UUID]
) -> list[tuple[WaitlistEntry, str]]:
    if not entry_ids:
        return []
    query = (
        select(WaitlistEntry, User.email)
        .join(User, User.id == WaitlistEntry.user_id)
        .where(WaitlistEntry.id.in_(entry_ids))
        .execution_options(populate_existing=True)
    )
    return [(entry, email) for entry, email in (await session.execute(query)).all()]


async def end_line_of_event(session: AsyncSession, event_id: UUID, now: datetime) -> list[UUID]:
    """End every entry of an event still in line or holding an offer (it is being cancelled); their
    ids. The ticket types' line lengths are reset by the caller."""
    conditions = [WaitlistEntry.event_id == event_id, WaitlistEntry.status.in_(IN_LINE)]
    return await _end(session, conditions, WaitlistStatus.EXPIRED, now)


def _lines_of_started_events(now: datetime) -> Any:
    return (
        select(TicketType.id)
        .join(Event, Event.id == TicketType.event_id)
        .where(TicketType.waiting > 0, Event.starts_at <= now)
    )


async def any_line_of_a_started_event(session: AsyncSession, now: datetime) -> bool:
    return bool(await session.scalar(select(exists(_lines_of_started_events(now)))))


async def end_lines_of_started_events(session: AsyncSession, now: datetime) -> list[UUID]:
    """End the waiting entries of events that have started (nothing more can be offered) and empty
    their lines; the ids of the entries ended. Offers still open end with their holds."""
    if locks_joined_rows(session):
        found = list(await session.scalars(_lines_of_started_events(now)))
        ticket_types = await lock_rows(session, TicketType, TicketType.id.in_(found)) if found else []
    else:
        ticket_types = list(
            await session.scalars(_lines_of_started_events(now).with_for_update(of=TicketType))
        )
    if not ticket_types:
        return []
    conditions = [
        WaitlistEntry.ticket_type_id.in_(ticket_types),
        WaitlistEntry.status == WaitlistStatus.WAITING,
    ]
    ended = await _end(session, conditions, WaitlistStatus.EXPIRED, now)
    await session.execute(
        update(TicketType)
        .where(TicketType.id.in_(ticket_types))
        .values(waiting=0)
        .execution_options(synchronize_session=False)
    )
    return ended


async def lines_with_free_tickets(session: AsyncSession, now: datetime, limit: int) -> list[UUID]:
    """Ticket types of events on sale (``rules.ensure_on_sale``) with people waiting and tickets
    neither sold nor held: tickets nobody has been offered yet (the partial index on ``waiting > 0``
    keeps this cheap)."""
    query = (
        select(TicketType.id)
        .join(Event, Event.id == TicketType.event_id)
        .where(
            TicketType.waiting > 0,
            TicketType.sold + TicketType.held < TicketType.capacity,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
            func.coalesce(Event.sales_end_at, Event.starts_at) > now,
            or_(
                func.coalesce(Event.sales_start_at, Event.published_at).is_(None),
                func.coalesce(Event.sales_start_at, Event.published_at) <= now,
            ),
        )
        .order_by(TicketType.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
