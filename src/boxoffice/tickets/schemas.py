from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from boxoffice.accounts.schemas import FullName
from boxoffice.core.schemas import InputModel, OutputModel, SingleLine
from boxoffice.models import CheckInBy, TicketStatus

_CODE_EXAMPLE = (
    "AEBU4LIVRZUUQC5INYKQU47PXMBSXSLCSNDA3XFMWNPSIKQ75PXNVASJLBCE6UHYQ2QDAFCKXKRXJW"
    "P43T7LPTGU4CMR2XC62ZDAHMS5PQ5U2YQT55LBQ2LNIKBAOIEDFNIUSUZRQ2JHIXRRAGRJYPNCTEAA"
)


class TicketRead(OutputModel):
    id: UUID
    booking_id: UUID
    event_id: UUID
    ticket_type_id: UUID
    holder_name: str = Field(description="The ticket's own holder name, or else its booking's")
    code: str = Field(
        description="What the ticket's QR code carries: 156 characters, signed (docs/tickets.md)",
        examples=[_CODE_EXAMPLE],
    )
    status: TicketStatus
    checked_in_at: datetime | None = Field(description="When it was admitted; null if it has not been")


class TicketUpdate(InputModel):
    """Put another name on one ticket of a booking; null gives it the booking's holder name again."""

    model_config = {"json_schema_extra": {"examples": [{"holder_name": "Grace Hopper"}]}}

    holder_name: FullName | None


Nonce = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CheckInCreate(InputModel):
    """A scanned code. A scanner that may send a scan twice (a retry after a timeout) gives each scan
    a `nonce`: the same nonce again returns the first answer instead of `already_checked_in`."""

    model_config = {
        "json_schema_extra": {"examples": [{"code": _CODE_EXAMPLE, "nonce": "5f0c2e7a-door-2-scan-1187"}]}
    }

    code: str = Field(min_length=1, max_length=500, description="The code read from the ticket's QR code")
    nonce: Nonce | None = None


class CheckInActor(OutputModel):
    """Who admitted the ticket: a user (the organizer, an admin) or a door device's check-in token."""

    kind: CheckInBy
    id: UUID
    name: str


class CheckInRead(OutputModel):
    id: UUID
    ticket_id: UUID
    booking_code: str = Field(examples=["K7QM-3XTP"])
    holder_name: str
    ticket_type_id: UUID
    created_at: datetime
    by: CheckInActor


class CheckinKeys(OutputModel):
    """What an offline scanner needs: the event's public key and the tickets to refuse."""

    event_id: UUID
    public_key: str = Field(description="The event's raw 32-byte Ed25519 public key, in standard base64")
    algorithm: Literal["ed25519"] = "ed25519"
    revoked: list[UUID] = Field(
        description="Ids of the event's cancelled tickets, whose codes are still genuine"
    )


class CheckinTokenCreate(InputModel):
    model_config = {"json_schema_extra": {"examples": [{"name": "Main entrance, scanner 2"}]}}

    name: Annotated[str, StringConstraints(min_length=1, max_length=100), SingleLine]


class CheckinTokenRead(OutputModel):
    id: UUID
    name: str
    created_at: datetime


class CheckinTokenCreated(CheckinTokenRead):
    token: str = Field(
        description="Send as `Authorization: Bearer <token>`. Shown this once: only its hash is kept",
        examples=["boci_3q2-7wEd0oK1Tn9vM4b0f0JxYy6eP8sHq2aLk5cUu1I"],
    )
