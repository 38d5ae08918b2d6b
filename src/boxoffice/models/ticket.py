import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.core.db import Base, UTCDateTime, utcnow


class TicketStatus(StrEnum):
    VALID = "valid"
    CANCELLED = "cancelled"


class Ticket(Base):
    """One admission: a confirmed booking of quantity N has N valid tickets, numbered 1.. in the order
    they were issued.

    ``code`` is what the ticket's QR code carries (signed, docs/tickets.md). ``holder_name`` is NULL
    while the ticket carries its booking's holder name. A cancelled ticket stays, cancelled, so the
    door can tell it from a forgery and offline scanners can be told to refuse it.
    """

    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("booking_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint(
            "(status = 'valid' AND cancelled_at IS NULL)"
            " OR (status = 'cancelled' AND cancelled_at IS NOT NULL)",
            name="cancelled_at_matches_status",
        ),
        # The revocation list and the door's counts: an event's tickets by status.
        Index("ix_ticket_event_id_status", "event_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="RESTRICT"))
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("booking.id", ondelete="RESTRICT"))
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ticket_type.id", ondelete="RESTRICT"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    holder_name: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(200))
    status: Mapped[TicketStatus] = mapped_column(
        Enum(TicketStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
