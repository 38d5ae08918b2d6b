"""My bookings: the list, one booking (the confirmation page), changing and cancelling it, its tickets."""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from pydantic import ValidationError

from boxoffice.bookings import service as bookings_service
from boxoffice.bookings.schemas import BookingUpdate
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import DomainError
from boxoffice.core.pagination import PageParams
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.models import Booking, BookingStatus
from boxoffice.tickets import qr
from boxoffice.tickets import service as tickets_service
from boxoffice.web.account import field_errors
from boxoffice.web.core import WebRoute, form_count, reading, redirect, render, require_user, unit_of_work
from boxoffice.web.public import read_event

_WRITES = [Depends(rate_limit(Budget.BOOKING_WRITES))]
router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
)

PAGE_SIZE = 50


@router.get("/bookings")
async def my_bookings(
    request: Request, session: SessionDep, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    principal = await require_user(request, session)
    params = PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    bookings, total = await bookings_service.my_bookings(
        session, principal.user, status=None, event_id=None, upcoming_only=False, page=params
    )
    now = datetime.now(UTC)
    upcoming = sorted((b for b in bookings if b.event.starts_at > now), key=lambda b: b.event.starts_at)
    past = [b for b in bookings if b.event.starts_at <= now]
    context = {
        "upcoming": upcoming,
        "past": past,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "bookings.html", context)


async def _booking_context(request: Request, session: SessionDep, booking_id: UUID) -> dict[str, Any]:
    principal = await require_user(request, session)
    booking: Booking = await bookings_service.visible_booking(session, booking_id, principal.user)
    event = await read_event(request, booking.event_id)
    tickets = await tickets_service.booking_tickets(session, principal.user, booking_id)
    return {
        "booking": booking,
        "event": event,
        "ticket_type": next((t for t in event.ticket_types if t.id == booking.ticket_type_id), None),
        "tickets": [t for t in tickets if t.status.value == "valid"],
        "changeable": booking.status is BookingStatus.CONFIRMED and event.starts_at > datetime.now(UTC),
        "error": None,
    }


@router.get("/bookings/{booking_id}")
async def booking_page(request: Request, session: SessionDep, booking_id: UUID) -> Response:
    return render(request, "booking.html", await _booking_context(request, session, booking_id))


async def _booking_error(request: Request, booking_id: UUID, message: str, status: int) -> Response:
    async with reading(request) as session:
        context = await _booking_context(request, session, booking_id)
    return render(request, "booking.html", {**context, "error": message}, status=status)


@router.post("/bookings/{booking_id}/change", dependencies=_WRITES)
async def change(
    request: Request, booking_id: UUID, quantity: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    try:
        data = BookingUpdate.model_validate({"quantity": form_count(quantity)})
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            await bookings_service.change_booking(session, principal.user, booking_id, data)
    except ValidationError as error:
        return await _booking_error(request, booking_id, " ".join(field_errors(error).values()), 422)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _booking_error(request, booking_id, error.detail, error.status)
    return redirect(f"/bookings/{booking_id}", "changed")


@router.get("/bookings/{booking_id}/cancel")
async def cancel_form(request: Request, session: SessionDep, booking_id: UUID) -> Response:
    return render(request, "cancel.html", await _booking_context(request, session, booking_id))


@router.post("/bookings/{booking_id}/cancel", dependencies=_WRITES)
async def cancel(request: Request, booking_id: UUID) -> Response:
    try:
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            await bookings_service.cancel_booking(session, principal.user, booking_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _booking_error(request, booking_id, error.detail, error.status)
    return redirect(f"/bookings/{booking_id}", "cancelled")


@router.get("/bookings/{booking_id}/tickets")
async def tickets(request: Request, session: SessionDep, booking_id: UUID) -> Response:
    """The printable tickets: one per page when printed, each with a QR code to scan at the door."""
    return render(request, "tickets.html", await _booking_context(request, session, booking_id))


@router.get("/tickets/{ticket_id}/qr.svg")
async def ticket_qr(request: Request, session: SessionDep, ticket_id: UUID) -> Response:
    principal = await require_user(request, session)
    image = await tickets_service.ticket_image(session, principal.user, ticket_id, qr.ImageKind.SVG)
    return Response(image, media_type=qr.MEDIA_TYPES[qr.ImageKind.SVG], headers={"Cache-Control": "private"})
