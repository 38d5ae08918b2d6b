"""Turning an outbox row into an email: Jinja2 templates (text and HTML), times in the event's own
time zone with the zone named, an .ics calendar file for confirmed bookings, and each ticket's QR
code as a small inline PNG (no PDF: mail providers block them) beside a link to the tickets."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

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
    subject = _subject_template(kind).render(**context).strip()
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


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def calendar_file(context: dict[str, Any]) -> str:
    """An iCalendar (RFC 5545) event in the event's own time zone.

    The VTIMEZONE carries the zone's offset at the event's start, which is all a calendar needs to
    place this one event correctly.
    """
    event, booking = context["event"], context["booking"]
    zone = ZoneInfo(event["timezone"])
    starts = datetime.fromisoformat(event["starts_at"]).astimezone(zone)
    ends = datetime.fromisoformat(event["ends_at"]).astimezone(zone) if event["ends_at"] else None
    location = ", ".join(part for part in (event["venue"], event["address"], event["city"]) if part)
    description = f"Booking {booking['code']}: {booking['quantity']} x {booking['ticket_type']}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//boxoffice//bookings//EN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE",
        f"TZID:{event['timezone']}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{_ics_offset(starts)}",
        f"TZOFFSETTO:{_ics_offset(starts)}",
        f"TZNAME:{starts.tzname()}",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:booking-{booking['id']}@boxoffice",
        f"DTSTAMP:{datetime.now(UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;TZID={event['timezone']}:{starts:%Y%m%dT%H%M%S}",
        *([f"DTEND;TZID={event['timezone']}:{ends:%Y%m%dT%H%M%S}"] if ends else []),
        f"SUMMARY:{_ics_text(event['title'])}",
        f"LOCATION:{_ics_text(location)}",
        f"DESCRIPTION:{_ics_text(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
