import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, SmallInteger, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.core.db import Base, UTCDateTime, utcnow

CHECKED_IN = 1


class CheckInBy(StrEnum):
    USER = "user"
    CHECKIN_TOKEN = "checkin_token"  # noqa: S105  (a kind of caller, not a secret)


class CheckIn(Base):
    """A ticket admitted at the door, until it is undone.

    ``active_key`` is 1 while the check-in stands and NULL once undone: the unique constraint on
    (ticket, active_key) lets the database admit each ticket once, whatever scanners race for it
    (NULLs never collide, so undone check-ins stay as history). ``nonce`` is the scanner's: the same
    nonce again is the same check-in (unique per event; NULLs never collide either).
    """

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("ticket_id", "active_key"),
        UniqueConstraint("event_id", "nonce"),
        CheckConstraint(
            "(active_key = 1 AND undone_at IS NULL) OR (active_key IS NULL AND undone_at IS NOT NULL)",
            name="active_key_matches_undone",
        ),
        # The door's list and count: an event's standing check-ins, newest first.
        Index("ix_checkin_event_id_active_key_created_at", "event_id", "active_key", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="RESTRICT"))
    ticket_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ticket.id", ondelete="RESTRICT"))
    active_key: Mapped[int | None] = mapped_column(SmallInteger)
    nonce: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who admitted the ticket, as it was then (a token may be revoked, a name changed).
    by_kind: Mapped[CheckInBy] = mapped_column(
        Enum(CheckInBy, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    by_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    by_name: Mapped[str] = mapped_column(String(200))
