"""SQL for events and ticket types."""

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, TextClause, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import FromClause

from boxoffice.core.db import Database, contains, rows_affected, substring_pattern, utcnow, violates_unique
from boxoffice.core.dialects import lock_rows, locks_joined_rows
from boxoffice.core.errors import RuleViolation
from boxoffice.core.pagination import PageParams
from boxoffice.events.schemas import CatalogueFilters, EventRead, EventSort, ListedEvent
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
_LISTED_TICKET_TYPE_COLUMNS = ("id", "name", "price", "capacity", "sold", "held", "waiting")
_LISTED_TICKET_TYPE_LABELS = tuple(
    _TICKET_TYPES.c[name].label(f"ticket_type_{name}") for name in _LISTED_TICKET_TYPE_COLUMNS
)
# Where a row's parts start: the event's columns, then its ticket type's, then the total if counted.
_LISTED_EVENT_KEYS = tuple(column.key for column in _LISTED_EVENT_COLUMNS)
_EVENT_ID_AT = _LISTED_EVENT_KEYS.index("id")
_TICKET_TYPES_AT = len(_LISTED_EVENT_COLUMNS)
_TOTAL_AT = _TICKET_TYPES_AT + len(_LISTED_TICKET_TYPE_COLUMNS)


def search_key(*parts: str | None) -> str:
    """Lower-cased text to match ``q`` against; computed in Python so every backend agrees."""
    return "\n".join(part for part in parts if part).casefold()


# Each filter is a condition on a bound parameter of the same name. A page's statement then depends
# only on which filters are present and on its order, so each shape is built once and reused with new
# values: building a fresh statement and computing its cache key on every request was measured as
# half the catalogue's Python cost (docs/benchmark.md).
_FILTERS: dict[str, Callable[[BindParameter[Any]], Condition]] = {
    "organizer_id": lambda value: _EVENTS.c.organizer_id == value,
    "status": lambda value: _EVENTS.c.status == value,
    "search": lambda value: contains(_EVENTS.c.search_text, value),
    "city_key": lambda value: _EVENTS.c.city_key == value,
    "category": lambda value: _EVENTS.c.category == value,
    "starts_from": lambda value: _EVENTS.c.starts_at >= value,
    "starts_before": lambda value: _EVENTS.c.starts_at < value,
    "starts_later_than": lambda value: _EVENTS.c.starts_at > value,
}
# What each list may show at all: the catalogue its listed events, an organizer every event of theirs
# that is not deleted.
_SCOPES: dict[str, Condition] = {"catalogue": LISTED, "organizer": _EVENTS.c.deleted_at.is_(None)}
FilterValues = dict[str, Any]


def _conditions(scope: str, filters: tuple[str, ...]) -> list[Condition]:
    return [_SCOPES[scope], *(_FILTERS[name](bindparam(name)) for name in filters)]


def _ordered(columns: ReadOnlyColumnCollection[str, Any], ordering: Ordering) -> list[Any]:
    return [columns[name].desc() if descending else columns[name].asc() for name, descending in ordering]


def _event_rows(events: FromClause, ordering: Ordering, *extra: Any) -> Select[Any]:
    """The served columns of ``events`` (the table, or a page of it), one row per ticket type, in
    ``ordering`` and then the ticket types' own order."""
    return (
        select(*(events.c[key] for key in _LISTED_EVENT_KEYS), *_LISTED_TICKET_TYPE_LABELS, *extra)
        .select_from(events.outerjoin(_TICKET_TYPES, _TICKET_TYPES.c.event_id == events.c.id))
        .order_by(*_ordered(events.c, ordering), _TICKET_TYPES.c.position)
    )


@cache
def _count_statement(scope: str, filters: tuple[str, ...]) -> Select[Any]:
    return select(func.count()).select_from(_EVENTS).where(*_conditions(scope, filters))


@cache
def _page_statement(scope: str, filters: tuple[str, ...], ordering: Ordering, counted: bool) -> Select[Any]:
    """A page of events and the number of all matches, in one statement: the page as a subquery
    joined to its ticket types (PostgreSQL plans and runs this in half the time of a second SELECT
    ... IN, or of the page's ids looked up again), and, when ``counted``, the count as a scalar
    subquery on each row (a statement fewer per page)."""
    page = (
        select(*_LISTED_EVENT_COLUMNS)
        .where(*_conditions(scope, filters))
        .order_by(*_ordered(_EVENTS.c, ordering))
        .limit(bindparam("page_limit"))
        .offset(bindparam("page_offset"))
        .subquery("page")
    )
    total = _count_statement(scope, filters).scalar_subquery().label("total")
    return _event_rows(page, ordering, *((total,) if counted else ()))


_ONE_LISTED_EVENT = _event_rows(_EVENTS, ()).where(LISTED, _EVENTS.c.id == bindparam("event_id"))


def _listed_events(rows: Iterable[Sequence[Any]]) -> list[ListedEvent]:
    """Rows of ``_event_rows``, one per ticket type, grouped into one dict per event."""
    events: dict[UUID, ListedEvent] = {}
    for row in rows:
        event = events.get(row[_EVENT_ID_AT])
        if event is None:
            event = dict(zip(_LISTED_EVENT_KEYS, row[:_TICKET_TYPES_AT], strict=True))
            event["ticket_types"] = []
            events[row[_EVENT_ID_AT]] = event
        if row[_TICKET_TYPES_AT] is not None:
            event["ticket_types"].append(
                dict(zip(_LISTED_TICKET_TYPE_COLUMNS, row[_TICKET_TYPES_AT:_TOTAL_AT], strict=True))
            )
    return list(events.values())


async def _page(
    database: Database,
    scope: str,
    values: FilterValues,
    ordering: Ordering,
    page: PageParams,
    known_total: int | None = None,
    session: AsyncSession | None = None,
) -> tuple[list[ListedEvent], int]:
    """A page of events and the number of all matches; a ``known_total`` is served as it is, and
    nothing is counted. Read in ``session`` if given (``Database.read_rows``)."""
    filters = tuple(name for name in _FILTERS if name in values)
    counted = known_total is None
    rows = await database.read_rows(
        _page_statement(scope, filters, ordering, counted),
        {**values, "page_limit": page.limit, "page_offset": page.offset},
        session=session,
    )
    total = rows[0][_TOTAL_AT] if rows and counted else known_total
    if total is None and page.offset:
        # No rows past the first page: the page lies past the end, and the total is counted alone.
        [(total,)] = await database.read_rows(_count_statement(scope, filters), values, session=session)
    return _listed_events(rows), int(total or 0)


def _catalogue_values(filters: CatalogueFilters) -> FilterValues:
    values = {
        "search": substring_pattern(filters.q) if filters.q else None,
        "city_key": filters.city.casefold() if filters.city else None,
        "category": filters.category.casefold() if filters.category else None,
        "starts_from": filters.starts_after,  # the API's bound includes its instant
        "starts_before": filters.starts_before,
        "starts_later_than": utcnow() if filters.upcoming_only else None,
        "organizer_id": filters.organizer_id,
    }
    return {name: value for name, value in values.items() if value is not None}


async def search_catalogue(
    database: Database, filters: CatalogueFilters, page: PageParams, known_total: int | None = None
) -> tuple[list[ListedEvent], int]:
    values = _catalogue_values(filters)
    return await _page(database, "catalogue", values, _ORDERINGS[filters.sort], page, known_total)


async def organizer_events(
    database: Database,
    session: AsyncSession,
    organizer_id: UUID,
    status: EventStatus | None,
    q: str | None,
    page: PageParams,
) -> tuple[list[ListedEvent], int]:
    values: FilterValues = {"organizer_id": organizer_id}
    if status is not None:
        values["status"] = status.value
    if q:
        values["search"] = substring_pattern(q)
    ordering = _ORDERINGS[EventSort.CREATED_AT_DESC]
    return await _page(database, "organizer", values, ordering, page, session=session)


async def listed_event(
    database: Database, event_id: UUID, session: AsyncSession | None = None
) -> ListedEvent | None:
    """A listed event as a plain row, the way the catalogue reads it (in ``session`` if given); None
    for any other event."""
    rows = await database.read_rows(_ONE_LISTED_EVENT, {"event_id": event_id}, session=session)
    return _listed_events(rows)[0] if rows else None


async def event_by_id(session: AsyncSession, event_id: UUID, *, for_update: bool = False) -> Event | None:
    """An event with its ticket types; ``for_update`` locks the event row (PostgreSQL) first."""
    query = select(Event).where(Event.id == event_id).options(joinedload(Event.ticket_types))
    if for_update:
        query = query.execution_options(populate_existing=True)
        if locks_joined_rows(session):
            await lock_rows(session, Event, Event.id == event_id)
        else:
            query = query.with_for_update(of=Event)
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
    """Change a capacity unless it would fall below what is sold and held; one statement, so a sale
    racing with the change can never end up beyond capacity."""
    result = await session.execute(
        update(TicketType)
        .where(TicketType.id == ticket_type_id, TicketType.sold + TicketType.held <= capacity)
        .values(capacity=capacity)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def delete_unsold_ticket_type(session: AsyncSession, ticket_type_id: UUID) -> bool:
    """Delete a ticket type that has never been booked and has nothing held; False otherwise."""
    result = await session.execute(
        delete(TicketType)
        .where(
            TicketType.id == ticket_type_id,
            TicketType.sold == 0,
            TicketType.held == 0,
            TicketType.waiting == 0,
        )
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1
