"""The waiting list: join a sold-out event's, see your place in line, leave it.

An offer is a hold: its email links to the hold page (``checkout``), where it is confirmed.
"""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import ValidationError

from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import DomainError
from boxoffice.core.pagination import PageParams
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.waitlist import service as waitlist_service
from boxoffice.waitlist.schemas import WaitlistEntryRead, WaitlistJoin
from boxoffice.web.account import field_errors
from boxoffice.web.core import WebRoute, form_count, reading, redirect, render, require_user, unit_of_work
from boxoffice.web.public import event_page, read_event

_WRITES = [Depends(rate_limit(Budget.BOOKING_WRITES))]
router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
)

Field = Annotated[str, Form(max_length=100)]


@router.post("/events/{event_id}/waitlist", dependencies=_WRITES)
async def join(
    request: Request, event_id: UUID, ticket_type_id: Field = "", quantity: Field = "1"
) -> Response:
    try:
        data = WaitlistJoin.model_validate(
            {"ticket_type_id": ticket_type_id or None, "quantity": form_count(quantity)}
        )
        async with unit_of_work(request) as session:
            principal = await require_user(request, session)
            await waitlist_service.join(session, principal.user, event_id, data)
    except ValidationError as error:
        message, status = " ".join(field_errors(error).values()), 422
    except DomainError as error:
        if error.status == 404:
            raise
        message, status = error.detail, error.status
    else:
        return redirect("/waitlist", "joined")
    async with reading(request) as session:
        return await event_page(request, session, event_id, error=message, status=status)


@router.get("/waitlist")
async def my_waitlist(request: Request, session: SessionDep) -> Response:
    principal = await require_user(request, session)
    rows, _ = await waitlist_service.my_entries(
        session, principal.user, None, PageParams(limit=100, offset=0)
    )
    entries = [WaitlistEntryRead.of(entry, position) for entry, position in rows]
    events = {entry.event_id: await read_event(request, entry.event_id) for entry in entries}
    return render(request, "waitlist.html", {"entries": entries, "events": events})


@router.post("/waitlist/{entry_id}/leave", dependencies=_WRITES)
async def leave(request: Request, entry_id: UUID) -> Response:
    async with unit_of_work(request) as session:
        principal = await require_user(request, session)
        await waitlist_service.leave(session, principal.user, entry_id)
    return redirect("/waitlist", "left")
