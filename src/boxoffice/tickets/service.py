"""Tickets and the door: issuing and cancelling tickets with their bookings, signed codes, QR images,
check-in, and the check-in tokens of door devices.

Tickets are written in the transaction of the booking change that makes or ends them (the booking
writer, bookings.service), always before the seat ledger's statement, which stays last. A ticket is
admitted once: a standing check-in is unique per ticket in the database, so whatever scanners race,
one insert wins (docs/tickets.md).
"""

import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio.to_thread
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts.auth import CheckinDevice
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import utcnow
from boxoffice.core.errors import (
    AlreadyCheckedIn,
    Forbidden,
    IdempotencyKeyMismatch,
    NotFound,
    TicketCancelled,
)
from boxoffice.core.pagination import PageParams
from boxoffice.core.security import new_checkin_token, secret_digest
from boxoffice.events import access
from boxoffice.models import (
    CHECKED_IN,
    Booking,
    CheckIn,
    CheckInBy,
    CheckinToken,
    Event,
    Role,
    Ticket,
    TicketSigningKey,
    TicketStatus,
    User,
)
from boxoffice.notifications.messages import local_time
from boxoffice.tickets import codes, qr, repository
from boxoffice.tickets.schemas import (
    CheckInActor,
    CheckInCreate,
    CheckinKeys,
    CheckInRead,
    CheckinTokenCreated,
    TicketRead,
)

Caller = User | CheckinDevice

# Of scanners racing for one ticket, a loser whose rival was undone at once tries again: this often.
CHECKIN_ATTEMPTS = 3


def create_signing_key(session: AsyncSession, event_id: UUID) -> None:
    """Give a new event its key pair; every code of its tickets is signed with it."""
    pair = codes.new_key_pair()
    repository.add_signing_key(
        session, TicketSigningKey(event_id=event_id, public_key=pair.public_key, private_key=pair.private_key)
    )


async def _signing_key(session: AsyncSession, event_id: UUID) -> TicketSigningKey:
    key = await repository.signing_key(session, event_id)
    if key is None:
        raise RuntimeError(f"event {event_id} has no ticket signing key")
    return key


def _new_tickets(key: TicketSigningKey, booking: Booking, numbers: range) -> list[Ticket]:
    now = utcnow()
    tickets = []
    for number in numbers:
        ticket_id = uuid.uuid4()
        tickets.append(
            Ticket(
                id=ticket_id,
                event_id=booking.event_id,
                booking_id=booking.id,
                ticket_type_id=booking.ticket_type_id,
                number=number,
                holder_name=None,
                code=codes.new_code(key.private_key, booking.event_id, ticket_id),
                status=TicketStatus.VALID,
                created_at=now,
                cancelled_at=None,
            )
        )
    return tickets


def _rows(tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    columns = [column.key for column in Ticket.__table__.columns]
    return [{column: getattr(ticket, column) for column in columns} for ticket in tickets]


async def issue_tickets(session: AsyncSession, bookings: Sequence[Booking]) -> dict[UUID, list[Ticket]]:
    """The tickets of newly confirmed bookings, one per seat, inserted in one statement; by booking."""
    keys: dict[UUID, TicketSigningKey] = {}
    issued: dict[UUID, list[Ticket]] = {}
    for booking in bookings:
        if booking.event_id not in keys:
            keys[booking.event_id] = await _signing_key(session, booking.event_id)
        issued[booking.id] = _new_tickets(keys[booking.event_id], booking, range(1, booking.quantity + 1))
    await repository.insert_tickets(session, _rows([t for tickets in issued.values() for t in tickets]))
    return issued


async def change_ticket_count(
    session: AsyncSession, booking: Booking, previous: int, wanted: int
) -> list[Ticket]:
    """Follow a booking's new quantity: fewer cancels its last tickets, more issues new ones (numbered
    after every ticket it ever had). Returns the new tickets."""
    if wanted < previous:
        last = await repository.last_valid_ticket_ids(session, booking.id, previous - wanted)
        await repository.cancel_tickets(session, [Ticket.id.in_(last)], utcnow())
        return []
    first = await repository.highest_number(session, booking.id) + 1
    tickets = _new_tickets(
        await _signing_key(session, booking.event_id), booking, range(first, first + wanted - previous)
    )
    await repository.insert_tickets(session, _rows(tickets))
    return tickets


async def cancel_booking_tickets(session: AsyncSession, booking_id: UUID) -> None:
    await repository.cancel_tickets(session, [Ticket.booking_id == booking_id], utcnow())


async def cancel_event_tickets(session: AsyncSession, event_id: UUID) -> None:
    await repository.cancel_tickets(session, [Ticket.event_id == event_id], utcnow())


def _may_see_booking(booking: Booking, user: User) -> bool:
    return booking.user_id == user.id or access.may_manage(booking.event, user)


async def _visible_ticket(session: AsyncSession, ticket_id: UUID, user: User) -> tuple[Ticket, Booking]:
    found = await repository.ticket_with_booking(session, ticket_id)
    if found is None or not _may_see_booking(found[1], user):
        raise NotFound("No such ticket.")
    return found


async def booking_tickets(session: AsyncSession, user: User, booking_id: UUID) -> list[TicketRead]:
    """A booking's tickets, cancelled ones included, in the order they were issued: for the holder, the
    event's organizer and admins."""
    booking = await repository.booking_with_event(session, booking_id)
    if booking is None or not _may_see_booking(booking, user):
        raise NotFound("No such booking.")
    return [
        TicketRead.model_validate(row) for row in await repository.tickets_of_booking(session, booking_id)
    ]


async def ticket_image(session: AsyncSession, user: User, ticket_id: UUID, kind: qr.ImageKind) -> bytes:
    """The ticket's QR code as an image (drawn in a thread: it takes milliseconds of pure Python)."""
    ticket, _ = await _visible_ticket(session, ticket_id, user)
    return await anyio.to_thread.run_sync(qr.image, ticket.code, kind)


async def rename_ticket(
    session: AsyncSession, user: User, ticket_id: UUID, holder_name: str | None
) -> TicketRead:
    """Put a name on one valid ticket (null: its booking's again): for the holder and admins."""
    ticket, booking = await _visible_ticket(session, ticket_id, user)
    if not (booking.user_id == user.id or user.role is Role.ADMIN):
        raise Forbidden("Only the holder or an admin may rename a ticket.")
    if not await repository.rename_ticket(session, ticket.id, holder_name):
        raise TicketCancelled("This ticket is cancelled.")
    audit.record(
        session,
        user,
        Action.TICKET_RENAMED,
        "ticket",
        ticket.id,
        holder_name=[ticket.holder_name, holder_name],
    )
    row = await repository.ticket_view(session, ticket.id)
    assert row is not None
    return TicketRead.model_validate(row)


async def _door_event(session: AsyncSession, caller: Caller, event_id: UUID, *, lock: bool = False) -> Event:
    """The event whose door the caller may run: its organizer, an admin, or one of its door devices;
    404 for anyone else (another event's device included)."""
    event = await repository.event_for_door(session, event_id, lock=lock)
    if isinstance(caller, CheckinDevice):
        allowed = event is not None and caller.event_id == event.id
    else:
        allowed = event is not None and access.may_manage(event, caller)
    if event is None or not allowed:
        raise NotFound("No such event.")
    return event


def _actor(caller: Caller) -> dict[str, Any]:
    if isinstance(caller, CheckinDevice):
        return {"by_kind": CheckInBy.CHECKIN_TOKEN, "by_id": caller.token_id, "by_name": caller.name}
    return {"by_kind": CheckInBy.USER, "by_id": caller.id, "by_name": caller.full_name}


def _record(session: AsyncSession, caller: Caller, action: Action, checkin_id: UUID, **details: Any) -> None:
    """An audit entry for the door: a user is its actor; a device is named in the details."""
    actor = caller if isinstance(caller, User) else None
    if isinstance(caller, CheckinDevice):
        details.update(checkin_token_id=caller.token_id, checkin_token_name=caller.name)
    audit.record(session, actor, action, "checkin", checkin_id, **details)


def _checkin_read(row: dict[str, Any]) -> CheckInRead:
    by = CheckInActor(kind=row.pop("by_kind"), id=row.pop("by_id"), name=row.pop("by_name"))
    return CheckInRead(**row, by=by)


async def _genuine_ticket(session: AsyncSession, event: Event, code: str) -> Ticket:
    """The event's ticket behind a code, if the code is genuine and is that ticket's (locked against
    cancellation until the transaction ends); 404 for anything else, forgeries and other events'
    codes alike."""
    key = await _signing_key(session, event.id)
    parsed = codes.verify(key.public_key, event.id, code)
    ticket = await repository.ticket_for_checkin(session, event.id, parsed.ticket_id) if parsed else None
    if ticket is None or not hmac.compare_digest(ticket.code.encode(), code.encode()):
        raise NotFound("No ticket of this event has this code.")
    return ticket


async def _replay(session: AsyncSession, event: Event, data: CheckInCreate) -> CheckInRead | None:
    """The first answer to this nonce, if a check-in was made with it."""
    if data.nonce is None:
        return None
    first = await repository.checkin_by_nonce(session, event.id, data.nonce)
    if first is None:
        return None
    ticket = await repository.ticket_code(session, first.ticket_id)
    if not hmac.compare_digest(ticket.encode(), data.code.encode()):
        raise IdempotencyKeyMismatch("This nonce was sent before with another code.")
    return _checkin_read(await repository.checkin_view(session, first.id))


_INSTANT = TypeAdapter(datetime)


def _already_checked_in(standing: CheckIn, event: Event) -> AlreadyCheckedIn:
    """The refusal of a second admission: ``detail`` says when in the event's time, ``checked_in_at``
    is the instant as every other timestamp of the API is written."""
    when = local_time(standing.created_at.isoformat(), event.timezone)
    return AlreadyCheckedIn(
        f"This ticket was already checked in: {when}.",
        checked_in_at=_INSTANT.dump_python(standing.created_at, mode="json"),
    )


async def check_in(session: AsyncSession, caller: Caller, event_id: UUID, data: CheckInCreate) -> CheckInRead:
    """Admit the ticket a code belongs to: 404 unless it is a genuine code of this event's ticket, 409
    ``ticket_cancelled`` or ``already_checked_in`` (with when); the same nonce again, the first answer."""
    event = await _door_event(session, caller, event_id, lock=True)
    replay = await _replay(session, event, data)
    if replay is not None:
        return replay
    ticket = await _genuine_ticket(session, event, data.code)
    if ticket.status is TicketStatus.CANCELLED:
        raise TicketCancelled("This ticket was cancelled; it does not admit anyone.")
    for _ in range(CHECKIN_ATTEMPTS):
        checkin_id = uuid.uuid4()
        values = {
            "id": checkin_id,
            "event_id": event.id,
            "ticket_id": ticket.id,
            "active_key": CHECKED_IN,
            "nonce": data.nonce,
            "created_at": utcnow(),
            "undone_at": None,
            **_actor(caller),
        }
        if await repository.insert_checkin(session, values):
            _record(
                session, caller, Action.CHECKIN_CREATED, checkin_id, event_id=event.id, ticket_id=ticket.id
            )
            return _checkin_read(await repository.checkin_view(session, checkin_id))
        # Another scanner won: the same scan sent again (its nonce), or another scan of this ticket.
        replay = await _replay(session, event, data)
        if replay is not None:
            return replay
        standing = await repository.standing_checkin(session, ticket.id)
        if standing is not None:
            raise _already_checked_in(standing, event)
    raise RuntimeError(f"ticket {ticket.id} was checked in and undone {CHECKIN_ATTEMPTS} times meanwhile")


async def undo_check_in(session: AsyncSession, caller: Caller, event_id: UUID, checkin_id: UUID) -> None:
    """Undo a standing check-in: its ticket may enter again. 404 if there is none (already undone)."""
    event = await _door_event(session, caller, event_id)
    ticket_id = await repository.undo_checkin(session, event.id, checkin_id, utcnow())
    if ticket_id is None:
        raise NotFound("No such check-in.")
    _record(session, caller, Action.CHECKIN_UNDONE, checkin_id, event_id=event.id, ticket_id=ticket_id)


async def check_ins(
    session: AsyncSession, user: User, event_id: UUID, page: PageParams
) -> tuple[list[CheckInRead], int]:
    """An event's standing check-ins, newest first: for its organizer and admins."""
    event = await _door_event(session, user, event_id)
    rows, total = await repository.standing_checkins(session, event.id, page)
    return [_checkin_read(row) for row in rows], total


async def checkin_keys(session: AsyncSession, caller: Caller, event_id: UUID) -> CheckinKeys:
    """What a scanner needs to check codes offline."""
    event = await _door_event(session, caller, event_id)
    key = await _signing_key(session, event.id)
    return CheckinKeys(
        event_id=event.id,
        public_key=codes.public_key_text(key.public_key),
        revoked=await repository.cancelled_ticket_ids(session, event.id),
    )


async def checked_in_count(session: AsyncSession, event_id: UUID) -> int:
    return await repository.checked_in_count(session, event_id)


async def create_checkin_token(
    session: AsyncSession, user: User, event_id: UUID, name: str
) -> CheckinTokenCreated:
    """A token for a door device of the event; the answer is the only place the token appears."""
    event = await _door_event(session, user, event_id)
    token = new_checkin_token()
    row = CheckinToken(
        id=uuid.uuid4(),
        event_id=event.id,
        name=name,
        token_hash=secret_digest(token),
        created_by=user.id,
        created_at=utcnow(),
        revoked_at=None,
    )
    repository.add_checkin_token(session, row)
    audit.record(
        session, user, Action.CHECKIN_TOKEN_CREATED, "checkin_token", row.id, event_id=event.id, name=name
    )
    return CheckinTokenCreated(id=row.id, name=row.name, created_at=row.created_at, token=token)


async def checkin_tokens(
    session: AsyncSession, user: User, event_id: UUID, page: PageParams
) -> tuple[Sequence[CheckinToken], int]:
    """The event's live check-in tokens (never the tokens themselves), newest first."""
    event = await _door_event(session, user, event_id)
    return await repository.live_checkin_tokens(session, event.id, page)


async def revoke_checkin_token(session: AsyncSession, user: User, event_id: UUID, token_id: UUID) -> None:
    """Revoke a check-in token: it stops working at once."""
    event = await _door_event(session, user, event_id)
    if not await repository.revoke_checkin_token(session, event.id, token_id, utcnow()):
        raise NotFound("No such check-in token.")
    audit.record(session, user, Action.CHECKIN_TOKEN_REVOKED, "checkin_token", token_id, event_id=event.id)
