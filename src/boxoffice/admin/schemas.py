from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, Json

from boxoffice.accounts.schemas import UserRead
from boxoffice.core.schemas import InputModel, OutputModel, Revenue
from boxoffice.models import Role, User


class AdminUserRead(UserRead):
    bookings_count: int = Field(description="Bookings the user ever made, cancelled ones included")
    tickets_count: int = Field(description="Tickets the user holds: quantities of confirmed bookings")
    events_count: int = Field(description="Events the user organizes, drafts included")
    last_login_at: datetime | None


class AdminUserUpdate(InputModel):
    role: Role | None = None
    is_active: Annotated[bool, Field(strict=True)] | None = None


class UsersByRole(OutputModel):
    attendee: int
    organizer: int
    admin: int


class EventsByStatus(OutputModel):
    draft: int
    published: int
    cancelled: int


class PlatformStats(OutputModel):
    users: UsersByRole
    events: EventsByStatus
    bookings_confirmed: int
    bookings_cancelled: int
    tickets_sold: int
    revenue: list[Revenue] = Field(
        description="Total of confirmed bookings in each currency that has any, by currency code"
    )


class AuditEntryRead(OutputModel):
    id: UUID
    created_at: datetime
    actor_id: UUID | None
    action: str = Field(examples=["booking.created"])
    target_type: str = Field(examples=["booking"])
    target_id: str | None
    ip_address: str | None
    request_id: str | None
    details: Json[dict[str, Any]]


@dataclass(frozen=True)
class UserFigures:
    user: User
    bookings_count: int
    tickets_count: int
    events_count: int


@dataclass(frozen=True)
class AuditFilters:
    actor_id: UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
