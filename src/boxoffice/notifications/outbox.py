"""Enqueueing email: an outbox row written in the caller's transaction, so a change and its email
commit together or not at all. Nothing here talks to a mail server."""

import json
import uuid
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.dialects import insert_ignoring_duplicates
from boxoffice.core.types import money_string
from boxoffice.models import Booking, Event, Hold, OutboxMessage, Ticket, User, WaitlistEntry


class MessageKind(StrEnum):
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CHANGED = "booking_changed"
    BOOKING_CANCELLED = "booking_cancelled"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_REMINDER = "event_reminder"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a message kind, not a secret)
    # A reset asked for, account not looked up yet: the worker looks it up and turns the message into
    # a PASSWORD_RESET, or skips it. The request costs the same whether or not the account exists.
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    WAITLIST_JOINED = "waitlist_joined"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_OFFER_EXPIRED = "waitlist_offer_expired"
    WAITLIST_CLOSED = "waitlist_closed"


def _event_facts(event: Event) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "title": event.title,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
        "timezone": event.timezone,
        "venue": event.venue,
        "address": event.address,
        "city": event.city,
    }


def _booking_facts(booking: Booking, event: Event) -> dict[str, Any]:
    ticket_type = next((t.name for t in event.ticket_types if t.id == booking.ticket_type_id), "Ticket")
    return {
        "id": str(booking.id),
        "code": booking.code,
        "quantity": booking.quantity,
        "ticket_type": ticket_type,
        "holder_name": booking.holder_name,
        "total_price": money_string(booking.total_price),
        "currency": booking.currency,
    }


def _ticket_facts(booking: Booking, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
    """What the email shows of each ticket: the worker draws its QR code from ``code``."""
    return [
        {
            "id": str(ticket.id),
            "number": ticket.number,
            "holder_name": ticket.holder_name or booking.holder_name,
            "code": ticket.code,
        }
        for ticket in tickets
    ]


def _message(
    kind: MessageKind, recipient: str, payload: dict[str, Any], dedupe_key: str | None
) -> OutboxMessage:
    return OutboxMessage(
        id=uuid.uuid4(),
        kind=kind.value,
        dedupe_key=dedupe_key or f"{kind.value}:{uuid.uuid4()}",
        recipient=recipient,
        payload=json.dumps(payload),
    )


def _about_booking(
    session: AsyncSession, kind: MessageKind, booking: Booking, event: Event, **extra: Any
) -> None:
    payload = {"booking": _booking_facts(booking, event), "event": _event_facts(event), **extra}
    session.add(_message(kind, booking.holder_email, payload, None))


def booking_confirmed(
    session: AsyncSession,
    booking: Booking,
    event: Event,
    tickets: Sequence[Ticket],
    *,
    from_waitlist: bool = False,
) -> None:
    """The confirmation, carrying the booking's tickets (their QR codes, and a link to them);
    ``from_waitlist``: booked through a waiting-list offer, which the email says."""
    _about_booking(
        session,
        MessageKind.BOOKING_CONFIRMED,
        booking,
        event,
        tickets=_ticket_facts(booking, tickets),
        from_waitlist=from_waitlist,
    )


def booking_changed(
    session: AsyncSession,
    booking: Booking,
    event: Event,
    changes: dict[str, Any],
    new_tickets: Sequence[Ticket] = (),
) -> None:
    """A change, carrying the tickets it added, if any."""
    _about_booking(
        session,
        MessageKind.BOOKING_CHANGED,
        booking,
        event,
        changes=changes,
        tickets=_ticket_facts(booking, new_tickets),
    )


def booking_cancelled(session: AsyncSession, booking: Booking, event: Event, reason: str | None) -> None:
    _about_booking(session, MessageKind.BOOKING_CANCELLED, booking, event, reason=reason)


def event_cancelled(
    session: AsyncSession, event: Event, bookings: Iterable[Booking], reason: str | None
) -> None:
    for booking in bookings:
        _about_booking(session, MessageKind.EVENT_CANCELLED, booking, event, reason=reason)


def event_changed(
    session: AsyncSession, event: Event, bookings: Iterable[Booking], changes: dict[str, tuple[Any, Any]]
) -> None:
    """``changes`` maps a field to (before, after)."""
    readable = {
        field: [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
        for field, values in changes.items()
    }
    for booking in bookings:
        _about_booking(session, MessageKind.EVENT_CHANGED, booking, event, changes=readable)


def _entry_facts(entry: WaitlistEntry, event: Event) -> dict[str, Any]:
    ticket_type = next((t.name for t in event.ticket_types if t.id == entry.ticket_type_id), "Ticket")
    return {"id": str(entry.id), "quantity": entry.quantity, "ticket_type": ticket_type}


def _about_entry(
    session: AsyncSession,
    kind: MessageKind,
    recipient: str,
    entry: WaitlistEntry,
    event: Event,
    **extra: Any,
) -> None:
    payload = {"entry": _entry_facts(entry, event), "event": _event_facts(event), **extra}
    session.add(_message(kind, recipient, payload, None))


def waitlist_joined(
    session: AsyncSession, recipient: str, entry: WaitlistEntry, event: Event, position: int
) -> None:
    _about_entry(session, MessageKind.WAITLIST_JOINED, recipient, entry, event, position=position)


def waitlist_offer(
    session: AsyncSession, recipient: str, entry: WaitlistEntry, hold: Hold, event: Event
) -> None:
    """The offer: its hold, its deadline, and the path of the web page that shows the hold and
    confirms it (the link is made of it and ``PUBLIC_URL`` when the email is rendered). One per hold
    (its dedupe key)."""
    offer = {
        "hold_id": str(hold.id),
        "expires_at": hold.expires_at.isoformat(),
        "path": f"/holds/{hold.id}",
    }
    payload = {"entry": _entry_facts(entry, event), "event": _event_facts(event), "offer": offer}
    session.add(_message(MessageKind.WAITLIST_OFFER, recipient, payload, f"waitlist_offer:{hold.id}"))


def waitlist_offer_expired(session: AsyncSession, recipient: str, entry: WaitlistEntry, event: Event) -> None:
    _about_entry(session, MessageKind.WAITLIST_OFFER_EXPIRED, recipient, entry, event)


def waitlist_closed(
    session: AsyncSession, recipient: str, entry: WaitlistEntry, event: Event, reason: str | None
) -> None:
    _about_entry(session, MessageKind.WAITLIST_CLOSED, recipient, entry, event, reason=reason)


def password_reset_payload(user: User, token: str, expires_in_minutes: int) -> dict[str, Any]:
    return {"name": user.full_name, "token": token, "expires_in_minutes": expires_in_minutes}


def password_reset(session: AsyncSession, user: User, token: str, expires_in_minutes: int) -> None:
    payload = password_reset_payload(user, token, expires_in_minutes)
    session.add(_message(MessageKind.PASSWORD_RESET, user.email, payload, None))


def password_reset_requested(session: AsyncSession, email: str) -> None:
    """Someone asked for a reset of ``email``: whether it has an account is the worker's to find."""
    session.add(_message(MessageKind.PASSWORD_RESET_REQUESTED, email, {}, None))


def reminder_key(booking: Booking) -> str:
    return f"{MessageKind.EVENT_REMINDER.value}:{booking.id}"


async def queue_reminder(session: AsyncSession, booking: Booking, event: Event) -> None:
    """Queue the one reminder of a booking; if any scheduler queued it already, do nothing."""
    message = _message(
        MessageKind.EVENT_REMINDER,
        booking.holder_email,
        {"booking": _booking_facts(booking, event), "event": _event_facts(event)},
        reminder_key(booking),
    )
    values = {column.key: getattr(message, column.key) for column in OutboxMessage.__table__.columns}
    values = {key: value for key, value in values.items() if value is not None}
    await session.execute(
        insert_ignoring_duplicates(session, OutboxMessage, index_elements=["dedupe_key"]).values(**values)
    )
