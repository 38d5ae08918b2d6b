"""The rules a sale must pass before seats are counted: may this user buy this ticket type now, and
this many? Shared by the writer (new bookings, holds, confirmations) and the service (changes)."""

from datetime import datetime
from uuid import UUID

from boxoffice.core.db import utcnow
from boxoffice.core.errors import EventNotBookable, EventStarted, NotFound, RuleViolation, SoldOut
from boxoffice.events import access
from boxoffice.models import Event, EventStatus, TicketType, User


def pick_ticket_type(event: Event, ticket_type_id: UUID | None) -> TicketType:
    """The ticket type asked for; with none given, the event's only one."""
    if ticket_type_id is None:
        if len(event.ticket_types) != 1:
            raise RuleViolation(
                ["body", "ticket_type_id"], "this event has several ticket types; say which one", "missing"
            )
        return event.ticket_types[0]
    for ticket_type in event.ticket_types:
        if ticket_type.id == ticket_type_id:
            return ticket_type
    raise NotFound("No such ticket type for this event.")


def ensure_on_sale(event: Event, now: datetime | None = None) -> None:
    """409 ``event_not_bookable`` unless the event is published, not started and its sales are open."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED:
        raise EventNotBookable(f"This event is {event.status.value}; it cannot be booked.")
    if now >= event.starts_at:
        raise EventNotBookable("This event has already started.")
    opens = event.sales_start_at or event.published_at
    closes = event.sales_end_at or event.starts_at
    if opens is not None and now < opens:
        raise EventNotBookable(f"Sales open at {opens.isoformat()}.")
    if now >= closes:
        raise EventNotBookable("Sales for this event have closed.")


def ensure_quantity_allowed(event: Event, quantity: int) -> None:
    if quantity > event.max_tickets_per_booking:
        raise RuleViolation(
            ["body", "quantity"],
            f"at most {event.max_tickets_per_booking} tickets per booking for this event",
            "less_than_equal",
        )


def ensure_not_started(event: Event, what: str) -> None:
    if utcnow() >= event.starts_at:
        raise EventStarted(f"The event has started; {what} is no longer possible.")


def saleable_ticket_type(
    event: Event | None, user: User, ticket_type_id: UUID | None, quantity: int
) -> TicketType:
    """The ticket type to sell, if this user may buy ``quantity`` of it now (seats aside): 404, 422 or
    409 ``event_not_bookable`` otherwise, in that order."""
    if event is None or not access.may_see(event, user):
        raise NotFound("No such event.")
    ticket_type = pick_ticket_type(event, ticket_type_id)
    ensure_on_sale(event)
    ensure_quantity_allowed(event, quantity)
    return ticket_type


def sold_out(ticket_type: TicketType, left: int) -> SoldOut:
    """The 409 for a request that does not fit; its detail says how many are left."""
    return SoldOut(
        f"Only {left} tickets of '{ticket_type.name}' are left."
        if left
        else f"'{ticket_type.name}' is sold out.",
        available=left,
    )
