"""HTTP routes for bookings and an event's guest list."""

import csv
import io
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from boxoffice.accounts.auth import BearerToken, CurrentUser
from boxoffice.bookings import service
from boxoffice.bookings.idempotency import StoredResponse
from boxoffice.bookings.schemas import (
    BookingCreate,
    BookingRead,
    BookingUpdate,
    HoldConfirm,
    HoldCreate,
    HoldRead,
)
from boxoffice.bookings.writer import BookingWriter
from boxoffice.core.db import Database
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import (
    AlreadyBooked,
    AlreadyCancelled,
    EventNotBookable,
    EventStarted,
    HoldExpired,
    HoldLimit,
    IdempotencyInProgress,
    IdempotencyKeyMismatch,
    InvalidTransition,
    SoldOut,
    problems,
)
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.pagination import Page, PageDep, page_of
from boxoffice.core.ratelimit import Budget, charge_recipient, rate_limit
from boxoffice.core.schemas import QueryText
from boxoffice.core.spreadsheet import FormatQuery, safe_cell, wants_csv
from boxoffice.core.types import money_string
from boxoffice.models import Booking, BookingStatus, Hold

router = APIRouter(route_class=ApiRoute, tags=["bookings"])

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Repeat a request safely: the same key and body within 24 hours return the first answer",
    ),
]


_BOOKING_WRITES = [Depends(rate_limit(Budget.BOOKING_WRITES))]


async def _writer(request: Request) -> BookingWriter:
    writer: BookingWriter = request.app.state.booking_writer
    return writer


WriterDep = Annotated[BookingWriter, Depends(_writer)]


def _sold(answer: Booking | StoredResponse) -> Any:
    """A new booking, or the stored answer of a request with an Idempotency-Key."""
    if isinstance(answer, StoredResponse):
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)
    return answer


@router.post(
    "/bookings",
    dependencies=_BOOKING_WRITES,
    status_code=status.HTTP_201_CREATED,
    response_model=BookingRead,
    responses=problems(
        404, SoldOut, AlreadyBooked, EventNotBookable, IdempotencyInProgress, 422, IdempotencyKeyMismatch
    ),
)
async def create_booking(
    request: Request,
    data: BookingCreate,
    writer: WriterDep,
    token: BearerToken,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Book tickets at once. Capacity is enforced by the database: nobody gets a ticket that does not
    exist. A `holder_email` is emailed about the booking; each address may be named a limited number
    of times an hour (429)."""
    await charge_recipient(request, data.holder_email)
    return _sold(await writer.book(token, data, idempotency_key))


@router.post(
    "/holds",
    tags=["holds"],
    dependencies=_BOOKING_WRITES,
    status_code=status.HTTP_201_CREATED,
    response_model=HoldRead,
    responses=problems(404, SoldOut, AlreadyBooked, EventNotBookable, HoldLimit, 422),
)
async def create_hold(data: HoldCreate, writer: WriterDep, token: BearerToken) -> Hold:
    """Hold tickets while you check out; they count as taken until the hold is confirmed, released or
    expires (after the event's `hold_minutes`)."""
    return await writer.hold(token, data)


@router.get("/holds/{hold_id}", tags=["holds"], response_model=HoldRead, responses=problems(404))
async def read_hold(hold_id: UUID, session: SessionDep, user: CurrentUser) -> Hold:
    """One hold, for its user and admins."""
    return await service.visible_hold(session, hold_id, user)


@router.post(
    "/holds/{hold_id}/extend",
    tags=["holds"],
    dependencies=_BOOKING_WRITES,
    response_model=HoldRead,
    responses=problems(404, HoldExpired, HoldLimit),
)
async def extend_hold(hold_id: UUID, session: SessionDep, user: CurrentUser) -> Hold:
    """Move the hold's expiry on by the event's hold time, up to three hold times after it was made."""
    return await service.extend_hold(session, user, hold_id)


@router.post(
    "/holds/{hold_id}/confirm",
    tags=["holds"],
    dependencies=_BOOKING_WRITES,
    status_code=status.HTTP_201_CREATED,
    response_model=BookingRead,
    responses=problems(404, HoldExpired, AlreadyBooked, IdempotencyInProgress, 422, IdempotencyKeyMismatch),
)
async def confirm_hold(
    request: Request,
    hold_id: UUID,
    writer: WriterDep,
    token: BearerToken,
    data: Annotated[HoldConfirm | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Turn the hold into a booking. A hold that has expired is still confirmed if its tickets can be
    taken again at that moment."""
    data = data or HoldConfirm()
    await charge_recipient(request, data.holder_email)
    return _sold(await writer.confirm(token, hold_id, data, idempotency_key))


@router.delete(
    "/holds/{hold_id}",
    tags=["holds"],
    dependencies=_BOOKING_WRITES,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404, InvalidTransition),
)
async def release_hold(hold_id: UUID, session: SessionDep, user: CurrentUser) -> Response:
    """Give the hold's tickets back to sale at once."""
    await service.release_hold(session, user, hold_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/bookings", response_model=Page[BookingRead], responses=problems(422))
async def list_my_bookings(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    status_filter: Annotated[BookingStatus | None, Query(alias="status")] = None,
    event_id: UUID | None = None,
    upcoming_only: bool = False,
) -> Page[BookingRead]:
    """The caller's own bookings, newest first."""
    items, total = await service.my_bookings(
        session, user, status=status_filter, event_id=event_id, upcoming_only=upcoming_only, page=page
    )
    return page_of(items, total, page, BookingRead.model_validate)


@router.get("/bookings/{booking_id}", response_model=BookingRead, responses=problems(404))
async def read_booking(booking_id: UUID, session: SessionDep, user: CurrentUser) -> Booking:
    """One booking, for its holder, the event's organizer and admins."""
    return await service.visible_booking(session, booking_id, user)


@router.patch(
    "/bookings/{booking_id}",
    dependencies=_BOOKING_WRITES,
    response_model=BookingRead,
    responses=problems(403, 404, SoldOut, AlreadyCancelled, EventStarted, 422),
)
async def change_booking(
    request: Request, booking_id: UUID, data: BookingUpdate, session: SessionDep, user: CurrentUser
) -> Booking:
    """Change the quantity or the holder's details, until the event starts."""
    await charge_recipient(request, data.holder_email)
    return await service.change_booking(session, user, booking_id, data)


@router.delete(
    "/bookings/{booking_id}",
    dependencies=_BOOKING_WRITES,
    response_model=BookingRead,
    responses=problems(403, 404, AlreadyCancelled, EventStarted),
)
async def cancel_booking(booking_id: UUID, session: SessionDep, user: CurrentUser) -> Booking:
    """Cancel a booking; its tickets go back on sale at once. The booking is kept, cancelled."""
    return await service.cancel_booking(session, user, booking_id)


CSV_COLUMNS = (
    "code",
    "status",
    "holder_name",
    "holder_email",
    "ticket_type",
    "quantity",
    "unit_price",
    "total_price",
    "currency",
    "created_at",
    "cancelled_at",
    "cancellation_reason",
)
_cell = safe_cell


def _csv_row(booking: Booking, ticket_type_names: Mapping[UUID, str]) -> list[str]:
    values = {column: getattr(booking, column) for column in CSV_COLUMNS if column != "ticket_type"} | {
        "status": booking.status.value,
        "ticket_type": ticket_type_names.get(booking.ticket_type_id),
        "unit_price": money_string(booking.unit_price),
        "total_price": money_string(booking.total_price),
    }
    return [_cell(values[column]) for column in CSV_COLUMNS]


_GUEST_LIST_CSV = (
    ",".join(CSV_COLUMNS) + "\r\n"
    "K7QM-3XTP,confirmed,Ada Lovelace,ada@example.com,General admission,2,25.00,50.00,EUR,"
    "2027-02-01T10:15:00Z,,\r\n"
)


@router.get(
    "/events/{event_id}/bookings",
    response_model=Page[BookingRead],
    responses={
        **problems(404, 422),
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _GUEST_LIST_CSV}},
            "description": "The guest list",
        },
    },
)
async def guest_list(
    event_id: UUID,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    status_filter: Annotated[BookingStatus | None, Query(alias="status")] = None,
    q: Annotated[QueryText | None, Query(description="Part of a holder's name or email, or a code")] = None,
    export_format: FormatQuery = None,
) -> Any:
    """An event's guest list, for its organizer and admins; `?format=csv` (or `Accept: text/csv`)
    streams every row, with ticket-type names."""
    if not wants_csv(request, export_format):
        items, total = await service.guest_list(session, user, event_id, status_filter, q, page)
        return page_of(items, total, page, BookingRead.model_validate)
    ticket_type_names, read_rows = await service.guest_list_export(session, user, event_id, status_filter, q)
    database: Database = request.app.state.database

    async def stream() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        async with database.reader() as reader:
            async for chunk in read_rows(reader):
                writer.writerows(_csv_row(booking, ticket_type_names) for booking in chunk)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        stream(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="guest-list-{event_id}.csv"'},
    )
