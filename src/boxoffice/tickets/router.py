"""HTTP routes for tickets, their QR codes, and the door: check-in, keys and check-in tokens."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from boxoffice.accounts.auth import CheckinCaller, CurrentUser
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import (
    AlreadyCheckedIn,
    IdempotencyKeyMismatch,
    TicketCancelled,
    problems,
)
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.pagination import Page, PageDep, page_of
from boxoffice.tickets import service
from boxoffice.tickets.qr import MEDIA_TYPES, ImageKind
from boxoffice.tickets.schemas import (
    CheckInCreate,
    CheckinKeys,
    CheckInRead,
    CheckinTokenCreate,
    CheckinTokenCreated,
    CheckinTokenRead,
    TicketRead,
    TicketUpdate,
)

router = APIRouter(route_class=ApiRoute, tags=["tickets"])
door = APIRouter(route_class=ApiRoute, tags=["check-in"])

# The ticket's code never changes, so neither does its image.
_IMAGE_CACHE = "private, max-age=86400"


@router.get(
    "/bookings/{booking_id}/tickets", response_model=list[TicketRead], responses=problems(401, 403, 404)
)
async def booking_tickets(booking_id: UUID, session: SessionDep, user: CurrentUser) -> list[TicketRead]:
    """A booking's tickets, one per seat, cancelled ones included: for the holder, the event's organizer
    and admins."""
    return await service.booking_tickets(session, user, booking_id)


def _image_route(kind: ImageKind) -> dict[str, Any]:
    return {
        "response_class": Response,
        "responses": {
            200: {"content": {MEDIA_TYPES[kind]: {}}, "description": f"The QR code as {kind.value.upper()}"},
            **problems(401, 403, 404),
        },
    }


@router.get("/tickets/{ticket_id}/qr.svg", **_image_route(ImageKind.SVG))
async def ticket_qr_svg(ticket_id: UUID, session: SessionDep, user: CurrentUser) -> Response:
    """The ticket's QR code as SVG (scales to any size and prints sharp)."""
    return await _image(session, user, ticket_id, ImageKind.SVG)


@router.get("/tickets/{ticket_id}/qr.png", **_image_route(ImageKind.PNG))
async def ticket_qr_png(ticket_id: UUID, session: SessionDep, user: CurrentUser) -> Response:
    """The ticket's QR code as PNG."""
    return await _image(session, user, ticket_id, ImageKind.PNG)


async def _image(session: SessionDep, user: CurrentUser, ticket_id: UUID, kind: ImageKind) -> Response:
    content = await service.ticket_image(session, user, ticket_id, kind)
    return Response(content, media_type=MEDIA_TYPES[kind], headers={"Cache-Control": _IMAGE_CACHE})


@router.patch(
    "/tickets/{ticket_id}", response_model=TicketRead, responses=problems(403, 404, TicketCancelled, 422)
)
async def rename_ticket(
    ticket_id: UUID, data: TicketUpdate, session: SessionDep, user: CurrentUser
) -> TicketRead:
    """Put a guest's name on one ticket of a booking (null: the booking's holder name again): for the
    holder and admins."""
    return await service.rename_ticket(session, user, ticket_id, data.holder_name)


@door.post(
    "/events/{event_id}/checkins",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckInRead,
    responses=problems(403, 404, AlreadyCheckedIn, TicketCancelled, 422, IdempotencyKeyMismatch),
)
async def check_in(
    event_id: UUID, data: CheckInCreate, session: SessionDep, caller: CheckinCaller
) -> CheckInRead:
    """Admit the ticket a scanned code belongs to. 404 for a code that is not a genuine ticket of this
    event; 409 `ticket_cancelled`; 409 `already_checked_in` with `checked_in_at`. Of scanners admitting
    one ticket at once, exactly one gets 201. For the organizer, admins and the event's check-in
    tokens."""
    return await service.check_in(session, caller, event_id, data)


@door.delete(
    "/events/{event_id}/checkins/{checkin_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
async def undo_check_in(
    event_id: UUID, checkin_id: UUID, session: SessionDep, caller: CheckinCaller
) -> Response:
    """Undo a check-in: the ticket may enter again."""
    await service.undo_check_in(session, caller, event_id, checkin_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@door.get(
    "/events/{event_id}/checkins", response_model=Page[CheckInRead], responses=problems(401, 403, 404, 422)
)
async def check_ins(
    event_id: UUID, session: SessionDep, user: CurrentUser, page: PageDep
) -> Page[CheckInRead]:
    """The event's standing check-ins, newest first: for its organizer and admins."""
    items, total = await service.check_ins(session, user, event_id, page)
    return page_of(items, total, page, lambda item: item)


@door.get("/events/{event_id}/checkin-keys", response_model=CheckinKeys, responses=problems(401, 404))
async def checkin_keys(event_id: UUID, session: SessionDep, caller: CheckinCaller) -> CheckinKeys:
    """The event's public key and revoked tickets, for scanners that check codes offline
    (docs/tickets.md)."""
    return await service.checkin_keys(session, caller, event_id)


@door.post(
    "/events/{event_id}/checkin-tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckinTokenCreated,
    responses=problems(401, 403, 404, 422),
)
async def create_checkin_token(
    event_id: UUID, data: CheckinTokenCreate, session: SessionDep, user: CurrentUser
) -> CheckinTokenCreated:
    """A token for a door device: it may check in, undo and read keys for this event only. The token
    is in this answer and nowhere else."""
    return await service.create_checkin_token(session, user, event_id, data.name)


@door.get(
    "/events/{event_id}/checkin-tokens",
    response_model=Page[CheckinTokenRead],
    responses=problems(401, 403, 404, 422),
)
async def checkin_tokens(
    event_id: UUID, session: SessionDep, user: CurrentUser, page: PageDep
) -> Page[CheckinTokenRead]:
    """The event's check-in tokens that have not been revoked (never the tokens themselves)."""
    items, total = await service.checkin_tokens(session, user, event_id, page)
    return page_of(items, total, page, CheckinTokenRead.model_validate)


@door.delete(
    "/events/{event_id}/checkin-tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
async def revoke_checkin_token(
    event_id: UUID, token_id: UUID, session: SessionDep, user: CurrentUser
) -> Response:
    """Revoke a check-in token: it stops working at once."""
    await service.revoke_checkin_token(session, user, event_id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
