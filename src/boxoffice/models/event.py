import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from boxoffice.models.ticket_type import TicketType


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.CANCELLED)

# What the public catalogue shows. Kept as constant SQL so that PostgreSQL matches it to the partial
# indexes below even in prepared statements' generic plans (a bound parameter would not match).
LISTED_SQL = "status IN ('published', 'cancelled') AND deleted_at IS NULL"
LISTED = text(LISTED_SQL)


def _listed_index(name: str, *columns: str) -> Index:
    return Index(name, *columns, postgresql_where=LISTED, sqlite_where=LISTED)


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("max_tickets_per_booking BETWEEN 1 AND 50", name="max_tickets_per_booking"),
        CheckConstraint("hold_minutes BETWEEN 1 AND 120", name="hold_minutes"),
        CheckConstraint("waitlist_offer_hours BETWEEN 1 AND 168", name="waitlist_offer_hours"),
        # The public catalogue: partial indexes over listed events only, so counting is an index-only
        # scan and a page in start order stops after its rows.
        _listed_index("ix_event_listed_starts_at", "starts_at", "id"),
        _listed_index("ix_event_listed_city", "city_key", "starts_at"),
        _listed_index("ix_event_listed_category", "category", "starts_at"),
        _listed_index("ix_event_listed_city_category", "city_key", "category", "starts_at"),
        _listed_index("ix_event_listed_created_at", "created_at", "id"),
        Index("ix_event_organizer_id_created_at", "organizer_id", "created_at"),
        # Substring search over title, description, venue and city on PostgreSQL (pg_trgm), with the
        # city in the same GIN index (btree_gin) so that a search within a city is one index lookup.
        Index(
            "ix_event_listed_city_search_trgm",
            "city_key",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_where=LISTED,
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organizer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    venue: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(50))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[EventStatus] = mapped_column(
        Enum(EventStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    max_tickets_per_booking: Mapped[int] = mapped_column(Integer)
    # How long a checkout hold lasts, and how much each extension adds.
    hold_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # Whether people may queue for returned tickets, and how long an offer to one of them lasts.
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    waitlist_offer_hours: Mapped[int] = mapped_column(Integer, default=24)
    sales_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sales_end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))
    # Derived columns, kept by the service: case-folded so that matching is the same on every backend.
    # Deferred: they are written and searched, never read back, so loading an event skips them.
    city_key: Mapped[str] = mapped_column(String(100), deferred=True)
    search_text: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when an event that has bookings is deleted: it stays for its bookings, hidden from lists.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket_types: Mapped[list["TicketType"]] = relationship(
        back_populates="event",
        lazy="raise",
        order_by="TicketType.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def capacity(self) -> int:
        return sum(ticket_type.capacity for ticket_type in self.ticket_types)

    @property
    def tickets_sold(self) -> int:
        return sum(ticket_type.sold for ticket_type in self.ticket_types)

    @property
    def tickets_held(self) -> int:
        return sum(ticket_type.held for ticket_type in self.ticket_types)

    @property
    def tickets_available(self) -> int:
        return sum(ticket_type.available for ticket_type in self.ticket_types)

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES
