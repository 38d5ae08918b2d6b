from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from boxoffice.accounts.schemas import Email, FullName
from boxoffice.core.schemas import InputModel, LocalTimes, OutputModel
from boxoffice.core.types import MoneyOut
from boxoffice.models import BookingStatus, EventStatus, HoldStatus

# The per-event maximum (max_tickets_per_booking, at most 50) is checked by the service.
# Strict: a whole JSON number, not `true`, `2.0` or `"2"`.
Quantity = Annotated[int, Field(ge=1, le=50, strict=True, examples=[2])]


class HoldCreate(InputModel):
    """Tickets to take: a hold takes them for a while, a booking (BookingCreate) for good."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"event_id": "0b7c6f0e-8d0a-4f4e-9f6e-3d2f8c1a9b10", "quantity": 2}]
        }
    }

    event_id: UUID
    ticket_type_id: UUID | None = Field(
        default=None, description="Required when the event has more than one ticket type"
    )
    quantity: Quantity = 1


class HoldConfirm(InputModel):
    """Whose name and address the tickets carry."""

    model_config = {"json_schema_extra": {"examples": [{"holder_name": "Ada Lovelace"}]}}

    holder_name: FullName | None = Field(default=None, description="Defaults to the account's name")
    holder_email: Email | None = Field(default=None, description="Defaults to the account's email")


class BookingCreate(HoldConfirm, HoldCreate):
    """A hold and its confirmation in one step."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"event_id": "0b7c6f0e-8d0a-4f4e-9f6e-3d2f8c1a9b10", "quantity": 2}]
        }
    }


class BookingUpdate(InputModel):
    quantity: Quantity | None = None
    holder_name: FullName | None = None
    holder_email: Email | None = None


class BookingEvent(LocalTimes):
    id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime | None
    timezone: str
    venue: str
    city: str
    status: EventStatus


class BookingRead(OutputModel):
    id: UUID
    code: str = Field(examples=["K7QM-3XTP"])
    event_id: UUID
    ticket_type_id: UUID
    user_id: UUID
    quantity: int
    status: BookingStatus
    holder_name: str
    holder_email: str
    unit_price: MoneyOut
    total_price: MoneyOut
    currency: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancellation_reason: str | None
    event: BookingEvent


class HoldRead(OutputModel):
    id: UUID
    event_id: UUID
    ticket_type_id: UUID
    quantity: int
    status: HoldStatus = Field(
        validation_alias="current_status",
        description="`expired` as soon as `expires_at` has passed, even before its tickets are swept back",
    )
    expires_at: datetime
    booking_id: UUID | None = Field(description="The booking it was confirmed into")
    created_at: datetime
