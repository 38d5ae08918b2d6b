import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, SmallInteger, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from boxoffice.models.event import Event


class HoldStatus(StrEnum):
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"


class Hold(Base):
    """Tickets of one ticket type reserved for one user while they check out.

    An active hold counts in its ticket type's ``held`` until it is confirmed (its tickets become
    ``sold``), released or expired (they return to sale). Every change of status is one conditional
    update from ``active`` (or, for a confirmation, from ``expired``), so whoever changes it first wins
    and its tickets move exactly once.

    ``active_key`` is 1 while the hold is active and NULL otherwise: the unique constraint on (event,
    user, active_key) allows one active hold per user and event on every backend, as for bookings.
    """

    __tablename__ = "hold"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "active_key"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint(
            "(status = 'active' AND active_key = 1) OR (status <> 'active' AND active_key IS NULL)",
            name="active_key_matches_status",
        ),
        # The expiry sweeps: every due hold, or one event's (the booking path's).
        Index("ix_hold_status_expires_at", "status", "expires_at"),
        Index("ix_hold_event_id_status_expires_at", "event_id", "status", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="CASCADE"))
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ticket_type.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[HoldStatus] = mapped_column(
        Enum(HoldStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    active_key: Mapped[int | None] = mapped_column(SmallInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("booking.id", ondelete="SET NULL"), index=True
    )
    # Set when the hold is a waiting-list offer: the entry it was offered to (one hold per entry).
    waitlist_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("waitlist_entry.id", ondelete="SET NULL"), unique=True
    )

    event: Mapped["Event"] = relationship(lazy="raise")

    @property
    def current_status(self) -> HoldStatus:
        return self.status_at(utcnow())

    def status_at(self, now: datetime) -> HoldStatus:
        """The status a client sees: an active hold whose time has run out is expired, whether or not
        a sweep has returned its tickets yet."""
        if self.status is HoldStatus.ACTIVE and self.expires_at <= now:
            return HoldStatus.EXPIRED
        return self.status
