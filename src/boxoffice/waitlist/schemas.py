from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from boxoffice.bookings.schemas import HoldRead, Quantity
from boxoffice.core.schemas import InputModel, OutputModel
from boxoffice.models import WaitlistEntry, WaitlistStatus


class WaitlistJoin(InputModel):
    """Queue for returned tickets of a sold-out ticket type."""

    model_config = {"json_schema_extra": {"examples": [{"quantity": 2}]}}

    ticket_type_id: UUID | None = Field(
        default=None, description="Required when the event has more than one ticket type"
    )
    quantity: Quantity = 1


class WaitlistEntryRead(OutputModel):
    id: UUID
    event_id: UUID
    ticket_type_id: UUID
    quantity: int
    status: WaitlistStatus = Field(
        description="`waiting` in line; `offered`: tickets are held for you (see `hold`) until its "
        "`expires_at`; `booked`, `expired` (the offer ran out, or the event was cancelled) and `left` "
        "have ended"
    )
    position: int | None = Field(description="1-based place among those waiting; null once not waiting")
    hold: HoldRead | None = Field(description="The offer: tickets held for you; confirm it to book")
    created_at: datetime

    @classmethod
    def of(cls, entry: WaitlistEntry, position: int | None) -> "WaitlistEntryRead":
        values: dict[str, Any] = {
            name: getattr(entry, name) for name in ("id", "event_id", "ticket_type_id", "quantity", "status")
        }
        hold = entry.__dict__.get("hold")  # loaded with the entry, or none yet (a new entry)
        return cls(
            **values,
            position=position if entry.status is WaitlistStatus.WAITING else None,
            hold=HoldRead.model_validate(hold) if hold is not None else None,
            created_at=entry.created_at,
        )
