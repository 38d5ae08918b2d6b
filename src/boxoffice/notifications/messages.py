"""Turning an outbox row into an email: Jinja2 templates (text and HTML), times in the event's own
time zone with the zone named, an .ics calendar file for confirmed bookings, and each ticket's QR
code as a small inline PNG (no PDF: mail providers block them) beside a link to the tickets."""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from boxoffice.core.schemas import one_line
from boxoffice.models import OutboxMessage
from boxoffice.notifications.outbox import MessageKind
from boxoffice.tickets import qr

SUBJECTS = {
    MessageKind.BOOKING_CONFIRMED: "Your tickets for {{ event.title }} ({{ booking.code }})"
    "{% if from_waitlist %}, from the waiting list{% endif %}",
    MessageKind.BOOKING_CHANGED: "Your booking {{ booking.code }} for {{ event.title }} was changed",
    MessageKind.BOOKING_CANCELLED: "Your booking {{ booking.code }} for {{ event.title }} is cancelled",
    MessageKind.EVENT_CHANGED: "{{ event.title }} has changed: please check the new details",
    MessageKind.EVENT_CANCELLED: "{{ event.title }} is cancelled",
    MessageKind.EVENT_REMINDER: "Reminder: {{ event.title }} is coming up ({{ booking.code }})",
    MessageKind.PASSWORD_RESET: "Reset your boxoffice password",
    MessageKind.WAITLIST_JOINED: "You are number {{ position }} in line for {{ event.title }}",
    MessageKind.WAITLIST_OFFER: "Tickets for {{ event.title }} are yours to book",
    MessageKind.WAITLIST_OFFER_EXPIRED: "Your offer of tickets for {{ event.title }} has expired",
    MessageKind.WAITLIST_CLOSED: "{{ event.title }} is cancelled: the waiting list is closed",
}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows in place (``<img src="cid:...">``), sent alongside it."""

    cid: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)
    inline: list[InlineImage] = field(default_factory=list)


def tickets_url(public_url: str, booking_id: str) -> str:
    """Where a holder finds a booking's tickets: the page the emails link to."""
    return f"{public_url.rstrip('/')}/bookings/{booking_id}/tickets"


def local_time(moment: str | None, zone: str) -> str:
    """An instant as people there read it: ``Saturday 12 April 2031, 20:00 CEST (Europe/Berlin)``."""
    if not moment:
        return ""
    local = datetime.fromisoformat(moment).astimezone(ZoneInfo(zone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()} ({zone})"


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("boxoffice.notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship in the package and never change under a running process
    )
    environment.filters["local_time"] = local_time
    return environment


@cache
def _subject_template(kind: MessageKind) -> Template:
    return _environment().from_string(SUBJECTS[kind])


def render(message: OutboxMessage, public_url: str) -> Email:
    """The email of an outbox row; links start with ``public_url`` (the ``PUBLIC_URL`` setting).
    Drawing QR codes takes milliseconds each: callers on the event loop run this in a thread."""
    kind = MessageKind(message.kind)
    context: dict[str, Any] = {"from_waitlist": False, **json.loads(message.payload)}
    context["public_url"] = public_url.rstrip("/")
    tickets: list[dict[str, Any]] = context.setdefault("tickets", [])  # none in older rows
    for ticket in tickets:
        ticket["cid"] = f"ticket-{ticket['id']}@boxoffice"
    if "booking" in context:
        context["tickets_url"] = tickets_url(public_url, context["booking"]["id"])
    environment = _environment()
    # Titles and names are single-line at input; rows written before that was enforced may not be,
    # and a line break in a header would make the message unsendable.
    subject = one_line(_subject_template(kind).render(**context)).strip()
    email = Email(
        to=message.recipient,
        subject=subject,
        text=environment.get_template(f"{kind.value}.txt").render(**context),
        html=environment.get_template(f"{kind.value}.html").render(**context),
    )
    if kind is MessageKind.BOOKING_CONFIRMED:
        email.attachments.append(Attachment("event.ics", "text/calendar", calendar_file(context).encode()))
    email.inline.extend(
        InlineImage(
            ticket["cid"], "image/png", qr.image(ticket["code"], qr.ImageKind.PNG, scale=qr.EMAIL_SCALE)
        )
        for ticket in tickets
    )
    return email


def calendar_file(context: dict[str, Any]) -> str:
    """An iCalendar (RFC 5545) event in the event's own time zone, written by the ``icalendar``
    library: it escapes text (line breaks included), folds long lines at 75 octets and adds the
    VTIMEZONE the event's TZID names, built from the time zone database."""
    event, booking = context["event"], context["booking"]
    zone = ZoneInfo(event["timezone"])
    location = ", ".join(part for part in (event["venue"], event["address"], event["city"]) if part)
    entry = icalendar.Event()
    entry.add("uid", f"booking-{booking['id']}@boxoffice")
    entry.add("dtstamp", datetime.now(UTC))
    starts = datetime.fromisoformat(event["starts_at"]).astimezone(zone)
    entry.add("dtstart", starts)
    if event["ends_at"]:
        entry.add("dtend", datetime.fromisoformat(event["ends_at"]).astimezone(zone))
    entry.add("summary", event["title"])
    entry.add("location", location)
    entry.add("description", f"Booking {booking['code']}: {booking['quantity']} x {booking['ticket_type']}")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//boxoffice//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    # The zone's rules around the event, not since 1970: enough to place it, and a short file.
    calendar.add_missing_timezones(
        first_date=date(starts.year - 1, 1, 1), last_date=date(min(starts.year + 2, 9999), 1, 1)
    )
    return str(calendar.to_ical().decode())
