"""Event rules: who may see and change an event, its lifecycle, its ticket types, the catalogue."""

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts.auth import authenticate
from boxoffice.bookings import service as bookings_service
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import Database, utcnow
from boxoffice.core.errors import (
    CapacityBelowSold,
    EventStarted,
    HasSales,
    InvalidTransition,
    NotFound,
    RuleViolation,
)
from boxoffice.core.pagination import PageParams
from boxoffice.core.schemas import Revenue
from boxoffice.core.security import Tokens
from boxoffice.events import repository
from boxoffice.events.access import managed_event, owned_event, visible_event
from boxoffice.events.repository import search_key
from boxoffice.events.schemas import (
    MAX_TICKET_TYPES,
    CatalogueFilters,
    EventCreate,
    EventStats,
    EventUpdate,
    ListedEvent,
    TicketTypeCreate,
    TicketTypeStats,
    TicketTypeUpdate,
)
from boxoffice.events.totals import CatalogueTotals
from boxoffice.models import Event, EventStatus, TicketType, User
from boxoffice.tickets import service as tickets_service

DEFAULT_TICKET_TYPE = "General admission"
# A published event's holders are told when any of these change.
HOLDER_RELEVANT_FIELDS = ("starts_at", "ends_at", "venue", "address")


def _check_schedule(values: dict[str, Any], *, starts_changed: bool) -> None:
    """Schedule rules on the event as it will be; each violation names its field."""
    now = utcnow()
    starts_at: datetime = values["starts_at"]
    if starts_changed and starts_at <= now:
        raise RuleViolation(["body", "starts_at"], "starts_at must be in the future")
    ends_at: datetime | None = values.get("ends_at")
    if ends_at is not None and ends_at <= starts_at:
        raise RuleViolation(["body", "ends_at"], "ends_at must be after starts_at")
    sales_start: datetime | None = values.get("sales_start_at")
    sales_end: datetime | None = values.get("sales_end_at")
    if sales_end is not None and sales_end > starts_at:
        raise RuleViolation(["body", "sales_end_at"], "sales_end_at must not be after starts_at")
    if sales_start is not None and sales_end is not None and sales_end <= sales_start:
        raise RuleViolation(["body", "sales_end_at"], "sales_end_at must be after sales_start_at")
    if sales_start is not None and sales_start >= starts_at:
        raise RuleViolation(["body", "sales_start_at"], "sales_start_at must be before starts_at")


def _refresh_derived(event: Event) -> None:
    event.city_key = event.city.casefold()
    event.search_text = search_key(event.title, event.description, event.venue, event.city)


def _check_ticket_type_choice(data: EventCreate) -> None:
    if data.capacity is None and data.ticket_types is None:
        raise RuleViolation(["body", "capacity"], "give either capacity or ticket_types", "missing")
    if data.capacity is not None and data.ticket_types is not None:
        raise RuleViolation(["body", "ticket_types"], "give either capacity or ticket_types, not both")
    names = [ticket_type.name.casefold() for ticket_type in data.ticket_types or []]
    if len(set(names)) != len(names):
        raise RuleViolation(["body", "ticket_types"], "ticket type names must be unique within an event")


async def create_event(session: AsyncSession, organizer: User, data: EventCreate) -> Event:
    _check_ticket_type_choice(data)
    fields = data.model_dump(exclude={"capacity", "ticket_types"})
    _check_schedule(fields, starts_changed=True)
    specs = data.ticket_types or [
        TicketTypeCreate(name=DEFAULT_TICKET_TYPE, price=Decimal("0.00"), capacity=data.capacity or 0)
    ]
    event = Event(organizer_id=organizer.id, status=EventStatus.DRAFT, **fields)
    event.ticket_types = [
        TicketType(
            name=spec.name,
            price=spec.price,
            capacity=spec.capacity,
            sold=0,
            held=0,
            waiting=0,
            position=index,
        )
        for index, spec in enumerate(specs)
    ]
    _refresh_derived(event)
    await repository.add(session, event)
    tickets_service.create_signing_key(session, event.id)
    return event


async def update_event(session: AsyncSession, user: User, event_id: UUID, data: EventUpdate) -> Event:
    event = await managed_event(session, event_id, user, for_update=True)
    if event.status is EventStatus.CANCELLED:
        raise InvalidTransition("A cancelled event cannot be changed.")
    changes = data.model_dump(exclude_unset=True)
    for required in (
        "title",
        "venue",
        "city",
        "starts_at",
        "timezone",
        "currency",
        "max_tickets_per_booking",
        "hold_minutes",
        "waitlist_enabled",
        "waitlist_offer_hours",
    ):
        if required in changes and changes[required] is None:
            raise RuleViolation(["body", required], f"{required} cannot be null")
    current = {field: getattr(event, field) for field in EventUpdate.model_fields}
    _check_schedule(
        {**current, **changes},
        starts_changed="starts_at" in changes and changes["starts_at"] != event.starts_at,
    )
    for_holders = {
        field: (current[field], value)
        for field, value in changes.items()
        if field in HOLDER_RELEVANT_FIELDS and value != current[field]
    }
    for field, value in changes.items():
        setattr(event, field, value)
    _refresh_derived(event)
    await repository.add(session, event)
    if for_holders and event.status is EventStatus.PUBLISHED:
        await bookings_service.tell_holders_event_changed(session, event, for_holders)
    return event


async def publish_event(session: AsyncSession, user: User, event_id: UUID) -> Event:
    event = await managed_event(session, event_id, user, for_update=True)
    if event.status is not EventStatus.DRAFT:
        raise InvalidTransition(f"Only a draft can be published; this event is {event.status.value}.")
    if event.starts_at <= utcnow():
        raise RuleViolation(["event", "starts_at"], "an event that has started cannot be published")
    event.status = EventStatus.PUBLISHED
    event.published_at = utcnow()
    await repository.add(session, event)
    audit.record(session, user, Action.EVENT_PUBLISHED, "event", event.id)
    return event


async def cancel_event(session: AsyncSession, user: User, event_id: UUID, reason: str | None) -> Event:
    """Cancel a published event: every confirmed booking is cancelled, in this same transaction."""
    event = await managed_event(session, event_id, user, for_update=True)
    if event.status is not EventStatus.PUBLISHED:
        raise InvalidTransition(f"Only a published event can be cancelled; this one is {event.status.value}.")
    if utcnow() >= event.starts_at:
        raise EventStarted("The event has started; it can no longer be cancelled.")
    await _cancel(session, user, event, reason)
    return event


async def _cancel(session: AsyncSession, user: User, event: Event, reason: str | None) -> None:
    event.status = EventStatus.CANCELLED
    event.cancelled_at = utcnow()
    event.cancellation_reason = reason or None
    await repository.add(session, event)
    audit.record(session, user, Action.EVENT_CANCELLED, "event", event.id, reason=reason)
    await bookings_service.cancel_all_for_event(session, user, event, reason)
    await repository.refresh_ticket_types(session, event)


async def delete_event(session: AsyncSession, user: User, event_id: UUID) -> None:
    """Remove a draft, or an event nobody ever booked; an event with bookings is cancelled (if it is
    not already) and hidden from every list, and its bookings stay."""
    event = await managed_event(session, event_id, user, for_update=True)
    audit.record(
        session, user, Action.EVENT_DELETED, "event", event.id, title=event.title, status=event.status
    )
    if event.status is EventStatus.DRAFT or not await bookings_service.event_has_bookings(session, event.id):
        await repository.delete_event(session, event)
        return
    # One that has started is only hidden: its bookings stay confirmed and nobody is emailed.
    if event.status is EventStatus.PUBLISHED and utcnow() < event.starts_at:
        await _cancel(session, user, event, "The event was removed by its organizer.")
    event.deleted_at = utcnow()
    await repository.add(session, event)


async def add_ticket_type(
    session: AsyncSession, user: User, event_id: UUID, data: TicketTypeCreate
) -> TicketType:
    event = await managed_event(session, event_id, user, for_update=True)
    if event.status is EventStatus.CANCELLED:
        raise InvalidTransition("A cancelled event cannot get new ticket types.")
    if len(event.ticket_types) >= MAX_TICKET_TYPES:
        raise RuleViolation(["body"], f"an event has at most {MAX_TICKET_TYPES} ticket types")
    _ensure_name_free(event, data.name)
    position = max((t.position for t in event.ticket_types), default=-1) + 1
    ticket_type = TicketType(
        event_id=event.id,
        name=data.name,
        price=data.price,
        capacity=data.capacity,
        sold=0,
        held=0,
        waiting=0,
        position=position,
    )
    await repository.add(session, ticket_type)
    return ticket_type


def _ensure_name_free(event: Event, name: str, keep: TicketType | None = None) -> None:
    """Ticket type names are unique within an event, whatever their case."""
    if any(t.name.casefold() == name.casefold() and t is not keep for t in event.ticket_types):
        raise RuleViolation(["body", "name"], "this event already has a ticket type with that name")


def _ticket_type_of(event: Event, ticket_type_id: UUID) -> TicketType:
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            return ticket_type
    raise NotFound("No such ticket type for this event.")


async def update_ticket_type(
    session: AsyncSession, user: User, event_id: UUID, ticket_type_id: UUID, data: TicketTypeUpdate
) -> TicketType:
    event = await managed_event(session, event_id, user)
    ticket_type = _ticket_type_of(event, ticket_type_id)
    if event.status is EventStatus.CANCELLED:
        raise InvalidTransition("A cancelled event's ticket types cannot be changed.")
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            raise RuleViolation(["body", field], f"{field} cannot be null")
    if "capacity" in changes:
        if not await repository.set_capacity(session, ticket_type.id, changes["capacity"]):
            await session.refresh(ticket_type)
            taken = f"{ticket_type.sold} sold" + (f" and {ticket_type.held} held" if ticket_type.held else "")
            raise CapacityBelowSold(
                f"{taken} tickets of '{ticket_type.name}'; capacity cannot go below that.",
                sold=ticket_type.sold,
                held=ticket_type.held,
            )
        if changes["capacity"] > ticket_type.capacity:
            # New tickets go to the people waiting for this ticket type first.
            await bookings_service.offer_free_tickets(session, ticket_type.id)
    if "name" in changes:
        _ensure_name_free(event, changes["name"], keep=ticket_type)
        ticket_type.name = changes["name"]
    if "price" in changes:
        ticket_type.price = changes["price"]
    await repository.add(session, ticket_type)
    await session.refresh(ticket_type)
    return ticket_type


async def delete_ticket_type(session: AsyncSession, user: User, event_id: UUID, ticket_type_id: UUID) -> None:
    event = await managed_event(session, event_id, user, for_update=True)
    ticket_type = _ticket_type_of(event, ticket_type_id)
    if event.status is EventStatus.CANCELLED:
        raise InvalidTransition("A cancelled event's ticket types cannot be changed.")
    if len(event.ticket_types) == 1:
        raise RuleViolation(["ticket_type_id"], "an event needs at least one ticket type; add another first")
    if await bookings_service.ticket_type_has_bookings(session, ticket_type.id) or not (
        await repository.delete_unsold_ticket_type(session, ticket_type.id)
    ):
        raise HasSales(
            f"'{ticket_type.name}' has bookings, tickets held or people waiting; it cannot be deleted. "
            "Lower its capacity instead."
        )


async def read_event(
    database: Database, tokens: Tokens, token: str | None, event_id: UUID
) -> ListedEvent | Event:
    """One event: a listed one read as the catalogue reads it (anyone may see it), any other through
    the access rules (drafts and deleted events for their organizer and admins only). A caller who
    sends a token is authenticated first, so a bad token is a 401 even for a listed event.

    The common case, anyone reading a listed event, needs no unit of work: it is one read
    (``Database.read_rows``). Every other case reads in a session of its own.
    """
    if token is None:
        listed = await repository.listed_event(database, event_id)
        if listed is not None:
            return listed
    async with database.session(database.reader) as session:
        viewer = (await authenticate(session, tokens, token)).user if token else None
        listed = await repository.listed_event(database, event_id, session) if token else None
        return listed if listed is not None else await visible_event(session, event_id, viewer)


async def search_catalogue(
    database: Database, filters: CatalogueFilters, page: PageParams, totals: CatalogueTotals
) -> tuple[list[ListedEvent], int]:
    """A page of the catalogue; a large total may be a few seconds old (``events.totals``)."""
    known_total = totals.get(filters)
    items, total = await repository.search_catalogue(database, filters, page, known_total)
    if known_total is None:
        totals.remember(filters, total)
    return items, total


async def organizer_events(
    database: Database,
    session: AsyncSession,
    user: User,
    status: EventStatus | None,
    q: str | None,
    page: PageParams,
) -> tuple[list[ListedEvent], int]:
    return await repository.organizer_events(database, session, user.id, status, q, page)


async def event_stats(session: AsyncSession, user: User, event_id: UUID) -> EventStats:
    event = await owned_event(session, event_id, user)
    figures = await bookings_service.event_figures(session, event.id)
    return EventStats(
        capacity=event.capacity,
        tickets_sold=event.tickets_sold,
        tickets_held=event.tickets_held,
        tickets_available=event.tickets_available,
        bookings_confirmed=figures.confirmed,
        bookings_cancelled=figures.cancelled,
        checked_in=await tickets_service.checked_in_count(session, event.id),
        revenue=[
            Revenue(
                currency=event.currency,
                revenue=sum(figures.revenue_by_ticket_type.values(), start=figures.zero),
            )
        ],
        ticket_types=[
            TicketTypeStats(
                id=t.id,
                name=t.name,
                capacity=t.capacity,
                sold=t.sold,
                held=t.held,
                waiting=t.waiting,
                available=t.available,
                revenue=figures.revenue_by_ticket_type.get(t.id, figures.zero),
            )
            for t in event.ticket_types
        ],
    )
