"""SQL for events and ticket types."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, TextClause, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from boxoffice.core.db import contains, rows_affected, utcnow, violates_unique
from boxoffice.core.errors import RuleViolation
from boxoffice.core.pagination import PageParams
from boxoffice.events.schemas import EventSort
from boxoffice.models import LISTED, Event, EventStatus, TicketType

Condition = ColumnElement[bool] | TextClause

_ORDERINGS: dict[EventSort, tuple[Any, ...]] = {
    EventSort.STARTS_AT: (Event.starts_at.asc(), Event.id.asc()),
    EventSort.STARTS_AT_DESC: (Event.starts_at.desc(), Event.id.desc()),
    EventSort.CREATED_AT: (Event.created_at.asc(), Event.id.asc()),
    EventSort.CREATED_AT_DESC: (Event.created_at.desc(), Event.id.desc()),
    EventSort.TITLE: (Event.title.asc(), Event.id.asc()),
    EventSort.TITLE_DESC: (Event.title.desc(), Event.id.desc()),
}


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


async def _page(
    session: AsyncSession,
    conditions: Sequence[Condition],
    order_by: tuple[Any, ...],
    page: PageParams,
) -> tuple[Sequence[Event], int]:
    total = await session.scalar(select(func.count()).select_from(Event).where(*conditions))
    query: Select[Event] = (
        select(Event)
        .where(*conditions)
        .order_by(*order_by)
        .limit(page.limit)
        .offset(page.offset)
        # One statement (the page as a subquery, joined to its ticket types): measured cheaper than a
        # second SELECT ... IN for the ticket types.
        .options(joinedload(Event.ticket_types))
    )
    items = (await session.scalars(query)).unique().all()
    return items, int(total or 0)


async def search_catalogue(
    session: AsyncSession, filters: CatalogueFilters, page: PageParams
) -> tuple[Sequence[Event], int]:
    return await _page(session, _catalogue_conditions(filters), _ORDERINGS[filters.sort], page)


async def organizer_events(
    session: AsyncSession,
    organizer_id: UUID,
    status: EventStatus | None,
    q: str | None,
    page: PageParams,
) -> tuple[Sequence[Event], int]:
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
