"""``boxoffice demo``: a living catalogue in an empty database, built through the services."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from boxoffice.accounts import service as accounts_service
from boxoffice.bookings import service as bookings_service
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.core.config import Settings
from boxoffice.core.db import create_database, utcnow
from boxoffice.core.security import Passwords
from boxoffice.events import service as events_service
from boxoffice.events.schemas import EventCreate, TicketTypeCreate
from boxoffice.models import Role, User

DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed to the user on purpose: demo accounts only)


class DatabaseNotEmpty(Exception):
    """The demo only fills an empty database, so it never mixes with real data."""


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role


_ORGANIZERS = [("Nadia Okafor", "nadia@demo.boxoffice"), ("Lars Petersen", "lars@demo.boxoffice")]
_ATTENDEES = [
    ("Ada Lovelace", "ada@demo.boxoffice"),
    ("Grace Hopper", "grace@demo.boxoffice"),
    ("Alan Turing", "alan@demo.boxoffice"),
]
# title, city, venue, category, timezone, currency, days ahead, [(ticket type, price, capacity)]
_EVENTS = [
    ("Spring Jazz Night", "Berlin", "Blue Note Berlin", "music", "Europe/Berlin", "EUR", 12,
     [("Standing", "25.00", 300), ("Seated", "45.00", 80)]),
    ("PyData Meetup", "Amsterdam", "Science Park", "tech", "Europe/Amsterdam", "EUR", 20,
     [("General admission", "0.00", 120)]),
    ("Harbour Food Festival", "Copenhagen", "Refshaleøen", "food", "Europe/Copenhagen", "DKK", 35,
     [("Day pass", "150.00", 2000), ("Weekend pass", "250.00", 500)]),
    ("Chamber Orchestra: Bach", "Leipzig", "Thomaskirche", "music", "Europe/Berlin", "EUR", 48,
     [("Nave", "30.00", 400), ("Gallery", "18.00", 150)]),
    ("Indie Game Showcase", "London", "The Old Truman Brewery", "tech", "Europe/London", "GBP", 60,
     [("Visitor", "12.00", 600), ("Exhibitor", "90.00", 40)]),
    ("Sunrise Yoga on the Beach", "Lisbon", "Praia de Carcavelos", "sport", "Europe/Lisbon", "EUR", 7,
     [("Mat", "8.00", 60)]),
]  # fmt: skip


async def fill_demo(settings: Settings) -> list[DemoLogin]:
    database = create_database(settings)
    passwords = Passwords(settings)
    try:
        async with database.unit_of_work() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                raise DatabaseNotEmpty("the database already has accounts; the demo only fills an empty one")
            organizers = [
                await accounts_service.create_user(
                    session,
                    passwords,
                    email=email,
                    password=DEMO_PASSWORD,
                    full_name=name,
                    role=Role.ORGANIZER,
                )
                for name, email in _ORGANIZERS
            ]
            attendees = [
                await accounts_service.create_user(
                    session,
                    passwords,
                    email=email,
                    password=DEMO_PASSWORD,
                    full_name=name,
                    role=Role.ATTENDEE,
                )
                for name, email in _ATTENDEES
            ]
            for index, (title, city, venue, category, zone, currency, days, types) in enumerate(_EVENTS):
                organizer = organizers[index % len(organizers)]
                starts_at = (utcnow() + timedelta(days=days)).replace(
                    hour=18, minute=0, second=0, microsecond=0
                )
                event = await events_service.create_event(
                    session,
                    organizer,
                    EventCreate(
                        title=title,
                        description=f"{title} in {city}. A boxoffice demo event.",
                        venue=venue,
                        city=city,
                        category=category,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(hours=3),
                        timezone=zone,
                        currency=currency,
                        ticket_types=[
                            TicketTypeCreate(name=name, price=Decimal(price), capacity=capacity)
                            for name, price, capacity in types
                        ],
                    ),
                )
                await events_service.publish_event(session, organizer, event.id)
                for position, attendee in enumerate(attendees[: 1 + index % len(attendees)]):
                    await bookings_service.create_booking(
                        session,
                        attendee,
                        BookingCreate(
                            event_id=event.id,
                            ticket_type_id=event.ticket_types[position % len(event.ticket_types)].id,
                            quantity=1 + position,
                        ),
                    )
        return [DemoLogin(u.email, u.role) for u in (*organizers, *attendees)]
    finally:
        await database.dispose()
