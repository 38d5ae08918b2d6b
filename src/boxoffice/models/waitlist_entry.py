import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, SmallInteger, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from boxoffice.models.hold import Hold
    from boxoffice.models.user import User


class WaitlistStatus(StrEnum):
    WAITING = "waiting"  # in line
    OFFERED = "offered"  # holding an offer: a hold of the returned tickets
    BOOKED = "booked"  # the offer was confirmed into a booking
    EXPIRED = "expired"  # the offer ran out, or the event was cancelled
    LEFT = "left"  # left the line, declined the offer, or booked the event another way


class WaitlistEntry(Base):
    """One user waiting for returned tickets of one ticket type.

    The line of a ticket type is its ``waiting`` entries in the order they joined (``created_at``,
    then ``id``). ``active_key`` is 1 while the entry is waiting or offered and NULL once it has
    ended: the unique constraint on (event, user, active_key) allows one entry in line per user and
    event, by the database. The offer, once made, is the hold whose ``waitlist_entry_id`` is this
    entry (at most one: a unique index on the hold's column).
    """

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "active_key"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint(
            "(status IN ('waiting', 'offered') AND active_key = 1) "
            "OR (status NOT IN ('waiting', 'offered') AND active_key IS NULL)",
            name="active_key_matches_status",
        ),
        # The line of a ticket type, in order; and a user's own entries, newest first.
        Index("ix_waitlist_entry_line", "ticket_type_id", "status", "created_at", "id"),
        Index("ix_waitlist_entry_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="CASCADE"), index=True)
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ticket_type.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[WaitlistStatus] = mapped_column(
        Enum(WaitlistStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    active_key: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(lazy="raise")
    hold: Mapped["Hold | None"] = relationship(
        primaryjoin="WaitlistEntry.id == foreign(Hold.waitlist_entry_id)",
        uselist=False,
        viewonly=True,
        lazy="raise",
    )
