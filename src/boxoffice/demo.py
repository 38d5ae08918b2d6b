"""``boxoffice demo``: a living catalogue in an empty database, built through the services."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select

from boxoffice.accounts import service as accounts_service
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.bookings.writer import BookingWriter
from boxoffice.core.config import Settings
from boxoffice.core.db import Base, create_database, utcnow
from boxoffice.core.deps import ClientInfo
from boxoffice.core.security import Passwords, Tokens
from boxoffice.events import service as events_service
from boxoffice.events.schemas import EventCreate, TicketTypeCreate
from boxoffice.models import Role, User

DEMO_PASSWORD = "demo-password"  # noqa: S105  (printed to the user on purpose: demo accounts only)


_DEMO_CLIENT = ClientInfo(ip=None, user_agent="boxoffice demo", request_id="demo")


class DatabaseNotEmpty(Exception):
    """The demo only fills an empty database, so it never mixes with real data."""


async def empty_database(settings: Settings) -> None:
    """Delete every row of every table (the schema and its migration history stay), in one transaction."""
    database = create_database(settings)
    try:
        async with database.unit_of_work() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
    finally:
        await database.dispose()


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
    tokens = Tokens(settings)
    orders: list[tuple[str, BookingCreate]] = []
    try:
        async with database.unit_of_work() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                raise DatabaseNotEmpty(
                    "the database already has accounts; the demo only fills an empty one. To start over, "
                    "run `./dev demo --reset` (or `boxoffice demo --reset`): it deletes all its data first"
                )
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
                    ticket_type = event.ticket_types[position % len(event.ticket_types)]
                    wanted = BookingCreate(
                        event_id=event.id, ticket_type_id=ticket_type.id, quantity=1 + position
                    )
                    orders.append((attendee.email, wanted))
        # The attendees sign in and book the way every client does, through the booking writer.
        writer = BookingWriter(database, tokens, settings.booking_concurrency_per_event)
        for email, wanted in orders:
            async with database.unit_of_work() as session:
                signed_in = await accounts_service.login(
                    session, passwords, tokens, email=email, password=DEMO_PASSWORD, client=_DEMO_CLIENT
                )
            await writer.book(signed_in.access_token, wanted)
        return [DemoLogin(u.email, u.role) for u in (*organizers, *attendees)]
    finally:
        await database.dispose()
