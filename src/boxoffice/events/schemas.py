from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, computed_field

from boxoffice.core.schemas import InputModel, LocalTimes, OutputModel, Revenue, SingleLine
from boxoffice.core.types import Currency, MoneyOut, Price, TimeZone, UtcDatetime
from boxoffice.models import EventStatus

MAX_TICKET_TYPES = 20
MAX_CAPACITY = 1_000_000

Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    SingleLine,
    Field(examples=["PyCon"]),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Venue = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    SingleLine,
    Field(examples=["Kulturbrauerei"]),
]
City = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    SingleLine,
    Field(examples=["Berlin"]),
]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300), SingleLine]
Category = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50),
    SingleLine,
    Field(examples=["music"]),
]
TicketTypeName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    SingleLine,
    Field(examples=["General admission"]),
]
# Counts are strict: a whole JSON number, not `true`, `2.0` or `"2"`; flags are JSON booleans.
Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY, strict=True, examples=[500])]
MaxTicketsPerBooking = Annotated[int, Field(ge=1, le=50, strict=True)]
HoldMinutes = Annotated[
    int,
    Field(
        ge=1, le=120, strict=True, description="How long a checkout hold lasts, and what an extension adds"
    ),
]
WaitlistOfferHours = Annotated[
    int,
    Field(
        ge=1,
        le=168,
        strict=True,
        description="How long returned tickets offered to someone in the waiting list are held",
    ),
]
WaitlistEnabled = Annotated[
    bool, Field(strict=True, description="Whether people may queue for returned tickets once it is sold out")
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class TicketTypeCreate(InputModel):
    name: TicketTypeName
    price: Price
    capacity: Capacity


class TicketTypeUpdate(InputModel):
    name: TicketTypeName | None = None
    price: Price | None = None
    capacity: Capacity | None = None


class EventFields(InputModel):
    """The fields an organizer edits; shared by creation and update."""

    title: Title
    description: Description | None = None
    venue: Venue
    city: City
    address: Address | None = None
    category: Category | None = None
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    timezone: TimeZone = "UTC"
    currency: Currency = "EUR"
    max_tickets_per_booking: MaxTicketsPerBooking = 10
    hold_minutes: HoldMinutes = 10
    waitlist_enabled: WaitlistEnabled = True
    waitlist_offer_hours: WaitlistOfferHours = 24
    sales_start_at: UtcDatetime | None = None
    sales_end_at: UtcDatetime | None = None


class EventCreate(EventFields):
    """A new event: either one ``capacity`` (a single free "General admission" type) or
    ``ticket_types``."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Spring Jazz Night",
                    "venue": "Blue Note",
                    "city": "Berlin",
                    "starts_at": "2030-04-01T20:00:00+02:00",
                    "timezone": "Europe/Berlin",
                    "currency": "EUR",
                    "ticket_types": [
                        {"name": "Standing", "price": "25.00", "capacity": 300},
                        {"name": "Seated", "price": "45.00", "capacity": 80},
                    ],
                }
            ]
        }
    }

    capacity: Capacity | None = None
    ticket_types: list[TicketTypeCreate] | None = Field(
        default=None, min_length=1, max_length=MAX_TICKET_TYPES
    )


class EventUpdate(InputModel):
    """Any subset of the event's fields; ``ticket_types`` and ``capacity`` have their own routes."""

    title: Title | None = None
    description: Description | None = None
    venue: Venue | None = None
    city: City | None = None
    address: Address | None = None
    category: Category | None = None
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    timezone: TimeZone | None = None
    currency: Currency | None = None
    max_tickets_per_booking: MaxTicketsPerBooking | None = None
    hold_minutes: HoldMinutes | None = None
    waitlist_enabled: WaitlistEnabled | None = None
    waitlist_offer_hours: WaitlistOfferHours | None = None
    sales_start_at: UtcDatetime | None = None
    sales_end_at: UtcDatetime | None = None


class EventCancel(InputModel):
    reason: Reason | None = None


class TicketTypeRead(OutputModel):
    id: UUID
    name: str
    price: MoneyOut
    capacity: int
    sold: int
    held: int = Field(
        description="Held by checkouts in progress and waiting-list offers; back on sale if not confirmed"
    )
    waiting: int = Field(description="People in its waiting list, waiting for returned tickets")

    @computed_field(  # type: ignore[prop-decorator]
        description="What the public may buy: capacity - sold - held, or 0 while anyone waits (returned "
        "tickets go to the waiting list)"
    )
    @property
    def available(self) -> int:
        return 0 if self.waiting else self.capacity - self.sold - self.held


class EventRead(LocalTimes):
    id: UUID
    organizer_id: UUID
    title: str
    description: str | None
    venue: str
    city: str
    address: str | None
    category: str | None
    starts_at: datetime
    ends_at: datetime | None
    timezone: str
    currency: str
    status: EventStatus
    max_tickets_per_booking: int
    hold_minutes: int
    waitlist_enabled: bool
    waitlist_offer_hours: int
    sales_start_at: datetime | None
    sales_end_at: datetime | None
    ticket_types: list[TicketTypeRead]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None

    # Derived from the ticket types here, so an event read as an ORM object or as a plain row (the
    # catalogue) is served the same way.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def capacity(self) -> int:
        return sum(ticket_type.capacity for ticket_type in self.ticket_types)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tickets_sold(self) -> int:
        return sum(ticket_type.sold for ticket_type in self.ticket_types)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tickets_held(self) -> int:
        return sum(ticket_type.held for ticket_type in self.ticket_types)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tickets_available(self) -> int:
        return sum(ticket_type.available for ticket_type in self.ticket_types)


class TicketTypeStats(OutputModel):
    id: UUID
    name: str
    capacity: int
    sold: int
    held: int
    waiting: int
    available: int
    revenue: MoneyOut


class EventStats(OutputModel):
    capacity: int
    tickets_sold: int
    tickets_held: int
    tickets_available: int
    bookings_confirmed: int
    bookings_cancelled: int
    checked_in: int = Field(description="Tickets admitted at the door (check-ins not undone)")
    revenue: list[Revenue] = Field(
        description="Total of confirmed bookings per currency: one entry, in the event's currency, in "
        "which each ticket type's `revenue` is given too"
    )
    ticket_types: list[TicketTypeStats]


class EventSort(StrEnum):
    STARTS_AT = "starts_at"
    STARTS_AT_DESC = "-starts_at"
    CREATED_AT = "created_at"
    CREATED_AT_DESC = "-created_at"
    TITLE = "title"
    TITLE_DESC = "-title"


StatusFilter = Literal["draft", "published", "cancelled"]
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CatalogueFilters:
    q: str | None = None
    city: str | None = None
    category: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    upcoming_only: bool = True
    organizer_id: UUID | None = None
    sort: EventSort = EventSort.STARTS_AT


ListedEvent = dict[str, Any]
"""An event as the fields of ``EventRead``, its ticket types as a list of dicts."""
