"""HTTP routes for events, ticket types and the catalogue."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from pydantic import TypeAdapter

from boxoffice.accounts.auth import BearerToken, CurrentUser, OrganizerUser
from boxoffice.core.deps import DatabaseDep, SessionDep, TokensDep
from boxoffice.core.errors import (
    CapacityBelowSold,
    HasSales,
    InvalidTransition,
    problems,
)
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.openapi import ANONYMOUS
from boxoffice.core.pagination import Page, PageDep, page_response
from boxoffice.core.schemas import QueryText
from boxoffice.core.types import UtcDatetime
from boxoffice.events import service
from boxoffice.events.schemas import (
    CatalogueFilters,
    EventCancel,
    EventCreate,
    EventRead,
    EventSort,
    EventStats,
    EventUpdate,
    ListedEvent,
    TicketTypeCreate,
    TicketTypeRead,
    TicketTypeUpdate,
)
from boxoffice.events.totals import CatalogueTotals
from boxoffice.models import Event, EventStatus, TicketType

router = APIRouter(route_class=ApiRoute, tags=["events"])

_PAGE_OF_EVENTS = TypeAdapter(Page[EventRead])


async def _catalogue_totals(request: Request) -> CatalogueTotals:
    totals: CatalogueTotals = request.app.state.catalogue_totals
    return totals


CatalogueTotalsDep = Annotated[CatalogueTotals, Depends(_catalogue_totals)]


@router.get("/events", response_model=Page[EventRead], responses=problems(422))
async def list_events(
    database: DatabaseDep,
    page: PageDep,
    totals: CatalogueTotalsDep,
    q: Annotated[QueryText | None, Query(description="Words in title, description, venue or city")] = None,
    city: Annotated[QueryText | None, Query(max_length=100)] = None,
    category: Annotated[QueryText | None, Query(max_length=50)] = None,
    starts_after: Annotated[UtcDatetime | None, Query(description="RFC 3339 with offset")] = None,
    starts_before: Annotated[UtcDatetime | None, Query(description="RFC 3339 with offset")] = None,
    upcoming_only: bool = True,
    organizer_id: UUID | None = None,
    sort: EventSort = EventSort.STARTS_AT,
) -> Response:
    """The public catalogue: published and cancelled events, searchable and paginated. A total of
    1,000 or more may be up to 10 seconds old; the page itself is always current."""
    filters = CatalogueFilters(
        q=q,
        city=city,
        category=category,
        starts_after=starts_after,
        starts_before=starts_before,
        upcoming_only=upcoming_only,
        organizer_id=organizer_id,
        sort=sort,
    )
    items, total = await service.search_catalogue(database, filters, page, totals)
    return page_response(_PAGE_OF_EVENTS, items, total, page)


@router.get(
    "/events/{event_id}", response_model=EventRead, responses=problems(401, 404), openapi_extra=ANONYMOUS
)
async def read_event(
    event_id: UUID, database: DatabaseDep, tokens: TokensDep, token: BearerToken
) -> ListedEvent | Event:
    """One event; drafts only for their organizer and admins."""
    return await service.read_event(database, tokens, token, event_id)


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventRead,
    responses=problems(401, 403, 422),
)
async def create_event(data: EventCreate, session: SessionDep, organizer: OrganizerUser) -> Event:
    """Create an event as a draft."""
    return await service.create_event(session, organizer, data)


@router.patch(
    "/events/{event_id}",
    response_model=EventRead,
    responses=problems(403, 404, InvalidTransition, 422),
)
async def update_event(event_id: UUID, data: EventUpdate, session: SessionDep, user: CurrentUser) -> Event:
    """Change an event's details; holders of a published event are told of time and place changes."""
    return await service.update_event(session, user, event_id, data)


@router.post(
    "/events/{event_id}/publish",
    response_model=EventRead,
    responses=problems(403, 404, InvalidTransition, 422),
)
async def publish_event(event_id: UUID, session: SessionDep, user: CurrentUser) -> Event:
    """Publish a draft: it appears in the catalogue and can be booked."""
    return await service.publish_event(session, user, event_id)


@router.post(
    "/events/{event_id}/cancel", response_model=EventRead, responses=problems(403, 404, InvalidTransition)
)
async def cancel_event(
    event_id: UUID,
    session: SessionDep,
    user: CurrentUser,
    data: Annotated[EventCancel | None, Body()] = None,
) -> Event:
    """Cancel a published event; every confirmed booking is cancelled and its holder told."""
    return await service.cancel_event(session, user, event_id, data.reason if data else None)


@router.delete("/events/{event_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(403, 404))
async def delete_event(event_id: UUID, session: SessionDep, user: CurrentUser) -> Response:
    """Delete a draft; an event with bookings is cancelled and hidden from every list instead."""
    await service.delete_event(session, user, event_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/organizer/events", response_model=Page[EventRead], responses=problems(401, 403, 422))
async def my_events(
    database: DatabaseDep,
    session: SessionDep,
    organizer: OrganizerUser,
    page: PageDep,
    status_filter: Annotated[EventStatus | None, Query(alias="status")] = None,
    q: Annotated[QueryText | None, Query()] = None,
) -> Response:
    """The caller's own events, drafts included, with their sales figures."""
    items, total = await service.organizer_events(database, session, organizer, status_filter, q, page)
    return page_response(_PAGE_OF_EVENTS, items, total, page)


@router.post(
    "/events/{event_id}/ticket-types",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketTypeRead,
    responses=problems(403, 404, InvalidTransition, 422),
)
async def add_ticket_type(
    event_id: UUID, data: TicketTypeCreate, session: SessionDep, user: CurrentUser
) -> TicketType:
    """Add a ticket type to an event."""
    return await service.add_ticket_type(session, user, event_id, data)


@router.patch(
    "/events/{event_id}/ticket-types/{ticket_type_id}",
    response_model=TicketTypeRead,
    responses=problems(403, 404, InvalidTransition, CapacityBelowSold, 422),
)
async def update_ticket_type(
    event_id: UUID, ticket_type_id: UUID, data: TicketTypeUpdate, session: SessionDep, user: CurrentUser
) -> TicketType:
    """Rename, reprice or resize a ticket type; capacity never goes below what is sold."""
    return await service.update_ticket_type(session, user, event_id, ticket_type_id, data)


@router.delete(
    "/events/{event_id}/ticket-types/{ticket_type_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, InvalidTransition, HasSales, 422),
)
async def delete_ticket_type(
    event_id: UUID, ticket_type_id: UUID, session: SessionDep, user: CurrentUser
) -> Response:
    """Delete a ticket type that has never been booked."""
    await service.delete_ticket_type(session, user, event_id, ticket_type_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/events/{event_id}/stats", response_model=EventStats, responses=problems(401, 404))
async def event_stats(event_id: UUID, session: SessionDep, user: CurrentUser) -> EventStats:
    """Sales figures of an event, for its organizer and admins."""
    return await service.event_stats(session, user, event_id)
