"""Checkout: hold tickets, see the hold run down (extend it, or give it back), name the holder, confirm.

A waiting-list offer is a hold too: its email links to the same hold page (``/holds/{id}``).
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import ValidationError

from boxoffice.accounts.auth import access_token_of
from boxoffice.bookings import service as bookings_service
from boxoffice.bookings.schemas import HoldConfirm, HoldCreate
from boxoffice.bookings.writer import BookingWriter
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import DomainError
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.models import Hold
from boxoffice.web.account import field_errors
from boxoffice.web.core import (
    WebRoute,
    form_count,
    reading,
    redirect,
    render,
    require_user,
    signed_in_user,
    tokens_of,
    unit_of_work,
)
from boxoffice.web.public import event_page, read_event

_WRITES = [Depends(rate_limit(Budget.BOOKING_WRITES))]
router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
)

Field = Annotated[str, Form(max_length=500)]


def _writer(request: Request) -> BookingWriter:
    writer: BookingWriter = request.app.state.booking_writer
    return writer


def _choice(ticket_type_id: str, quantity: str) -> dict[str, Any]:
    return {"ticket_type_id": ticket_type_id or None, "quantity": form_count(quantity or "1")}


@router.post("/events/{event_id}/hold", dependencies=_WRITES)
async def hold(
    request: Request, event_id: UUID, ticket_type_id: Field = "", quantity: Field = "1"
) -> Response:
    principal = await signed_in_user(request)
    try:
        data = HoldCreate.model_validate({"event_id": event_id, **_choice(ticket_type_id, quantity)})
        new_hold = await _writer(request).hold(access_token_of(tokens_of(request), principal), data)
    except ValidationError as error:
        return await _event_error(request, event_id, " ".join(field_errors(error).values()), 422)
    except DomainError as error:
        return await _event_error(request, event_id, error.detail, error.status)
    return redirect(f"/holds/{new_hold.id}")


async def _event_error(request: Request, event_id: UUID, message: str, status: int) -> Response:
    async with reading(request) as session:
        return await event_page(request, session, event_id, error=message, status=status)


async def _hold_context(request: Request, session: SessionDep, hold_id: UUID) -> dict[str, Any]:
    principal = await require_user(request, session)
    found: Hold = await bookings_service.visible_hold(session, hold_id, principal.user)
    event = await read_event(request, found.event_id)
    ticket_type = next(t for t in event.ticket_types if t.id == found.ticket_type_id)
    return {
        "hold": found,
        "status": found.current_status.value,
        "event": event,
        "ticket_type": ticket_type,
        "values": {"holder_name": principal.user.full_name, "holder_email": principal.user.email},
        "errors": {},
        "error": None,
    }


async def _hold_page(
    request: Request, session: SessionDep, hold_id: UUID, status: int = 200, **extra: Any
) -> Response:
    context = await _hold_context(request, session, hold_id)
    if context["hold"].booking_id is not None and not extra:
        return redirect(f"/bookings/{context['hold'].booking_id}")
    return render(request, "hold.html", {**context, **extra}, status=status)


@router.get("/holds/{hold_id}")
async def hold_page(request: Request, session: SessionDep, hold_id: UUID) -> Response:
    return await _hold_page(request, session, hold_id)


@router.get("/holds/{hold_id}/status")
async def hold_status(request: Request, session: SessionDep, hold_id: UUID) -> Response:
    """The hold's status line alone, which the hold page polls to learn when the server expires it."""
    context = await _hold_context(request, session, hold_id)
    return render(request, "_hold_status.html", context)


@router.post("/holds/{hold_id}/extend", dependencies=_WRITES)
async def extend(request: Request, hold_id: UUID) -> Response:
    try:
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            await bookings_service.extend_hold(session, principal.user, hold_id)
    except DomainError as error:
        return await _hold_error(request, hold_id, error)
    return redirect(f"/holds/{hold_id}", "extended")


@router.post("/holds/{hold_id}/release", dependencies=_WRITES)
async def release(request: Request, hold_id: UUID) -> Response:
    try:
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            found = await bookings_service.visible_hold(session, hold_id, principal.user)
            event_id = found.event_id
            await bookings_service.release_hold(session, principal.user, hold_id)
    except DomainError as error:
        return await _hold_error(request, hold_id, error)
    return redirect(f"/events/{event_id}", "released")


async def _hold_error(request: Request, hold_id: UUID, error: DomainError, **extra: Any) -> Response:
    if error.status == 404:
        raise error
    async with reading(request) as session:
        return await _hold_page(request, session, hold_id, error.status, error=error.detail, **extra)


@router.post("/holds/{hold_id}/confirm", dependencies=_WRITES)
async def confirm(
    request: Request, hold_id: UUID, holder_name: Field = "", holder_email: Field = ""
) -> Response:
    values = {"holder_name": holder_name, "holder_email": holder_email}
    principal = await signed_in_user(request)
    try:
        data = HoldConfirm(holder_name=holder_name or None, holder_email=holder_email or None)
        booking: Any = await _writer(request).confirm(
            access_token_of(tokens_of(request), principal), hold_id, data
        )
    except ValidationError as error:
        async with reading(request) as session:
            return await _hold_page(request, session, hold_id, 422, values=values, errors=field_errors(error))
    except DomainError as error:
        return await _hold_error(request, hold_id, error, values=values)
    return redirect(f"/bookings/{booking.id}", "confirmed")
