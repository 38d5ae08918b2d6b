import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from boxoffice.models.event import Event


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


ACTIVE = 1


class Booking(Base):
    """Tickets of one ticket type held by one user.

    ``active_key`` is 1 while the booking is confirmed and NULL once cancelled; the unique constraint on
    (event, user, active_key) therefore allows one active booking per user and event on every backend
    (NULLs never collide), without the partial indexes MariaDB lacks.
    """

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "active_key"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint(
            "(status = 'confirmed' AND active_key = 1) OR (status = 'cancelled' AND active_key IS NULL)",
            name="active_key_matches_status",
        ),
        Index("ix_booking_user_id_created_at", "user_id", "created_at"),
        Index("ix_booking_event_id_status", "event_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="RESTRICT"))
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ticket_type.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    active_key: Mapped[int | None] = mapped_column(SmallInteger)
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_email: Mapped[str] = mapped_column(String(320))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    total_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))
    # When the reminder email was queued; the scheduler's cheap filter (the outbox dedupe key is the
    # guarantee that there is only one).
    reminder_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped["Event"] = relationship(lazy="raise")
