"""HTTP routes of the waiting list."""

import csv
import io
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from boxoffice.accounts.auth import CurrentUser
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    EventNotBookable,
    TicketsAvailable,
    problems,
)
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.pagination import Page, PageDep
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.core.spreadsheet import FormatQuery, safe_cell, wants_csv
from boxoffice.models import Event, WaitlistEntry, WaitlistStatus
from boxoffice.waitlist import service
from boxoffice.waitlist.schemas import WaitlistEntryRead, WaitlistJoin

router = APIRouter(route_class=ApiRoute, tags=["waitlist"])

_WRITES = [Depends(rate_limit(Budget.BOOKING_WRITES))]
StatusFilter = Annotated[WaitlistStatus | None, Query(alias="status")]


def _page(rows: list[tuple[WaitlistEntry, int]], total: int, page: Any) -> Page[WaitlistEntryRead]:
    items = [WaitlistEntryRead.of(entry, position) for entry, position in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/events/{event_id}/waitlist",
    dependencies=_WRITES,
    status_code=status.HTTP_201_CREATED,
    response_model=WaitlistEntryRead,
    responses=problems(404, TicketsAvailable, AlreadyWaiting, AlreadyBooked, EventNotBookable, 422),
)
async def join_waitlist(
    event_id: UUID, data: WaitlistJoin, session: SessionDep, user: CurrentUser
) -> WaitlistEntryRead:
    """Queue for returned tickets of a sold-out ticket type. When tickets come back they are offered
    to the people in line in the order they joined: held for you for the event's
    `waitlist_offer_hours`, and emailed with a link. 409 `tickets_available` while tickets are on
    sale: book them instead."""
    entry, position = await service.join(session, user, event_id, data)
    return WaitlistEntryRead.of(entry, position)


@router.get("/waitlist", response_model=Page[WaitlistEntryRead], responses=problems(401, 422))
async def my_waitlist(
    session: SessionDep, user: CurrentUser, page: PageDep, status_filter: StatusFilter = None
) -> Page[WaitlistEntryRead]:
    """The caller's own waiting-list entries, newest first, each with its place in line."""
    rows, total = await service.my_entries(session, user, status_filter, page)
    return _page(rows, total, page)


@router.delete(
    "/waitlist/{entry_id}",
    dependencies=_WRITES,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
)
async def leave_waitlist(entry_id: UUID, session: SessionDep, user: CurrentUser) -> Response:
    """Leave the waiting list; an offer is declined: its hold is released and its tickets go to the
    next in line."""
    await service.leave(session, user, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


CSV_COLUMNS = (
    "position",
    "status",
    "full_name",
    "email",
    "ticket_type",
    "quantity",
    "joined_at",
    "offered_at",
    "offer_expires_at",
    "ended_at",
)


def _csv(event: Event, rows: list[tuple[WaitlistEntry, int]]) -> str:
    names = {ticket_type.id: ticket_type.name for ticket_type in event.ticket_types}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry, position in rows:
        hold = entry.hold
        values = (
            position if entry.status is WaitlistStatus.WAITING else None,
            entry.status.value,
            entry.user.full_name,
            entry.user.email,
            names.get(entry.ticket_type_id),
            entry.quantity,
            entry.created_at,
            entry.offered_at,
            hold.expires_at if hold is not None else None,
            entry.ended_at,
        )
        writer.writerow([safe_cell(value) for value in values])
    return buffer.getvalue()


_WAITLIST_CSV = (
    ",".join(CSV_COLUMNS) + "\r\n"
    "1,waiting,Ada Lovelace,ada@example.com,General admission,2,2027-02-01T10:15:00Z,,,\r\n"
)


@router.get(
    "/events/{event_id}/waitlist",
    response_model=Page[WaitlistEntryRead],
    responses={
        **problems(401, 404, 422),
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _WAITLIST_CSV}},
            "description": "The waiting list",
        },
    },
)
async def event_waitlist(
    event_id: UUID,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    status_filter: StatusFilter = None,
    export_format: FormatQuery = None,
) -> Any:
    """An event's waiting list in the order people joined, for its organizer and admins;
    `?format=csv` (or `Accept: text/csv`) gives every entry, with names and emails."""
    if not wants_csv(request, export_format):
        _, rows, total = await service.event_line(session, user, event_id, status_filter, page)
        return _page(rows, total, page)
    event, rows, _ = await service.event_line(session, user, event_id, status_filter, None)
    return Response(
        _csv(event, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="waitlist-{event_id}.csv"'},
    )
