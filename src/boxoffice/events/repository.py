"""SQL for events and ticket types."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, TextClause, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from boxoffice.core.db import contains, rows_affected, utcnow, violates_unique
from boxoffice.core.errors import RuleViolation
from boxoffice.core.pagination import PageParams
from boxoffice.events.schemas import EventRead, EventSort
from boxoffice.models import LISTED, Event, EventStatus, TicketType

Condition = ColumnElement[bool] | TextClause

# Each order as (column, descending) pairs; the id breaks ties so that pages never overlap.
Ordering = tuple[tuple[str, bool], ...]
_ORDERINGS: dict[EventSort, Ordering] = {
    EventSort.STARTS_AT: (("starts_at", False), ("id", False)),
    EventSort.STARTS_AT_DESC: (("starts_at", True), ("id", True)),
    EventSort.CREATED_AT: (("created_at", False), ("id", False)),
    EventSort.CREATED_AT_DESC: (("created_at", True), ("id", True)),
    EventSort.TITLE: (("title", False), ("id", False)),
    EventSort.TITLE_DESC: (("title", True), ("id", True)),
}

# A listed event is read as a plain row of the columns it is served with, never as an ORM object: a
# page of them is the catalogue's hot path, and loading instances was measured as its biggest
# Python cost (docs/benchmark.md).
_EVENTS = Event.__table__
_TICKET_TYPES = TicketType.__table__
_LISTED_EVENT_COLUMNS = tuple(column for column in _EVENTS.c if column.key in EventRead.model_fields)
_LISTED_TICKET_TYPE_COLUMNS = ("id", "name", "price", "capacity", "sold")
_LISTED_TICKET_TYPE_LABELS = tuple(
    _TICKET_TYPES.c[name].label(f"ticket_type_{name}") for name in _LISTED_TICKET_TYPE_COLUMNS
)


def search_key(*parts: str | None) -> str:
    """Lower-cased text to match ``q`` against; computed in Python so every backend agrees."""
    return "\n".join(part for part in parts if part).casefold()


@dataclass(frozen=True)
class CatalogueFilters:
    q: str | None = None
    city: str | None = None
    category: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    upcoming_only: bool = True
    organizer_id: UUID | None = None
    sort: EventSort = EventSort.STARTS_AT


def _catalogue_conditions(filters: CatalogueFilters) -> list[Condition]:
    conditions: list[Condition] = [LISTED]
    if filters.q:
        conditions.append(contains(Event.search_text, filters.q))
    if filters.city:
        conditions.append(Event.city_key == filters.city.casefold())
    if filters.category:
        conditions.append(Event.category == filters.category.casefold())
    if filters.starts_after:
        conditions.append(Event.starts_at >= filters.starts_after)
    if filters.starts_before:
        conditions.append(Event.starts_at < filters.starts_before)
    if filters.upcoming_only:
        conditions.append(Event.starts_at > utcnow())
    if filters.organizer_id:
        conditions.append(Event.organizer_id == filters.organizer_id)
    return conditions


def _ordered(columns: ReadOnlyColumnCollection[str, Any], ordering: Ordering) -> list[Any]:
    return [columns[name].desc() if descending else columns[name].asc() for name, descending in ordering]


ListedEvent = dict[str, Any]
"""A listed event as the fields of ``EventRead``, its ticket types as a list of dicts."""


async def _page(
    session: AsyncSession,
    conditions: Sequence[Condition],
    ordering: Ordering,
    page: PageParams,
    known_total: int | None = None,
) -> tuple[list[ListedEvent], int]:
    """A page of events and the number of all matches, in one statement: the page's ids as a
    subquery, its events joined to their ticket types (measured cheaper than a second SELECT ... IN),
    and the count as a scalar subquery on each row (a statement fewer per page). A ``known_total``
    is served as it is, and nothing is counted."""
    count = select(func.count()).select_from(_EVENTS).where(*conditions)
    counted = () if known_total is not None else (count.scalar_subquery().label("total"),)
    page_ids = (
        select(_EVENTS.c.id)
        .where(*conditions)
        .order_by(*_ordered(_EVENTS.c, ordering))
        .limit(page.limit)
        .offset(page.offset)
    )
    query = (
        select(*_LISTED_EVENT_COLUMNS, *_LISTED_TICKET_TYPE_LABELS, *counted)
        .select_from(_EVENTS.outerjoin(_TICKET_TYPES, _TICKET_TYPES.c.event_id == _EVENTS.c.id))
        .where(_EVENTS.c.id.in_(page_ids.scalar_subquery()))
        .order_by(*_ordered(_EVENTS.c, ordering), _TICKET_TYPES.c.position)
    )
    items: dict[UUID, ListedEvent] = {}
    total = known_total
    for row in (await session.execute(query)).mappings():
        if counted:
            total = row["total"]
        item = items.get(row["id"])
        if item is None:
            item = items[row["id"]] = {column.key: row[column.key] for column in _LISTED_EVENT_COLUMNS}
            item["ticket_types"] = []
        if row["ticket_type_id"] is not None:
            item["ticket_types"].append(
                {name: row[f"ticket_type_{name}"] for name in _LISTED_TICKET_TYPE_COLUMNS}
            )
    if total is None:
        # No rows: nothing matches, or the page lies past the end and the total is counted alone.
        total = await session.scalar(count) if page.offset > 0 else 0
    return list(items.values()), int(total or 0)


async def search_catalogue(
    session: AsyncSession, filters: CatalogueFilters, page: PageParams, known_total: int | None = None
) -> tuple[list[ListedEvent], int]:
    conditions = _catalogue_conditions(filters)
    return await _page(session, conditions, _ORDERINGS[filters.sort], page, known_total)


async def organizer_events(
    session: AsyncSession,
    organizer_id: UUID,
    status: EventStatus | None,
    q: str | None,
    page: PageParams,
) -> tuple[list[ListedEvent], int]:
    conditions: list[Condition] = [
        Event.organizer_id == organizer_id,
        Event.deleted_at.is_(None),
    ]
    if status is not None:
        conditions.append(Event.status == status)
    if q:
        conditions.append(contains(Event.search_text, q))
    return await _page(session, conditions, _ORDERINGS[EventSort.CREATED_AT_DESC], page)


async def event_by_id(session: AsyncSession, event_id: UUID, *, for_update: bool = False) -> Event | None:
    """An event with its ticket types; ``for_update`` locks the event row (PostgreSQL) first."""
    query = select(Event).where(Event.id == event_id).options(joinedload(Event.ticket_types))
    if for_update:
        query = query.with_for_update(of=Event).execution_options(populate_existing=True)
    return (await session.scalars(query)).unique().one_or_none()


async def refresh_ticket_types(session: AsyncSession, event: Event) -> None:
    await session.refresh(event, ["ticket_types"])


async def add(session: AsyncSession, instance: Event | TicketType) -> None:
    """Insert or update an event or ticket type; a duplicate ticket type name is a 422."""
    session.add(instance)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if violates_unique(error, "uq_ticket_type_event_id_name", "ticket_type.event_id, ticket_type.name"):
            raise RuleViolation(
                ["body", "name"], "this event already has a ticket type with that name"
            ) from error
        raise


async def delete_event(session: AsyncSession, event: Event) -> None:
    await session.delete(event)
    await session.flush()


async def set_capacity(session: AsyncSession, ticket_type_id: UUID, capacity: int) -> bool:
    """Change a capacity unless it would fall below what is sold; one statement, so a booking
    racing with the change can never end up beyond capacity."""
    result = await session.execute(
        update(TicketType)
        .where(TicketType.id == ticket_type_id, TicketType.sold <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def delete_unsold_ticket_type(session: AsyncSession, ticket_type_id: UUID) -> bool:
    """Delete a ticket type that has never been booked; False if it has sales."""
    result = await session.execute(
        delete(TicketType)
        .where(TicketType.id == ticket_type_id, TicketType.sold == 0)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1
