import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from boxoffice.core.db import Base

if TYPE_CHECKING:
    from boxoffice.models.event import Event


class TicketType(Base):
    """A kind of ticket of one event, with its own price and capacity.

    ``sold`` and ``held`` are the seat ledger: only ever changed by conditional single-statement
    updates; ``sold`` always equals the sum of the quantities of the confirmed bookings of this type,
    ``held`` the sum of its active holds', and together they never exceed ``capacity``.

    ``waiting`` counts the entries of its waiting list still in line. While it is above zero, the
    tickets that are neither sold nor held are set aside for the line (offered to it, first come
    first served) and the public sees the ticket type sold out: ``available`` is 0.
    """

    __tablename__ = "ticket_type"
    __table_args__ = (
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("waiting >= 0", name="waiting_not_negative"),
        CheckConstraint("sold + held <= capacity", name="sold_and_held_within_capacity"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        UniqueConstraint("event_id", "name"),
        # The worker's look for lines that have tickets to offer: only ticket types with a line.
        Index(
            "ix_ticket_type_waiting",
            "id",
            postgresql_where=text("waiting > 0"),
            sqlite_where=text("waiting > 0"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    capacity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped["Event"] = relationship(back_populates="ticket_types", lazy="raise")

    @property
    def free(self) -> int:
        """Neither sold nor held: on sale, or set aside for the waiting list while anyone waits."""
        return self.capacity - self.sold - self.held

    @property
    def available(self) -> int:
        """What the public may buy: nothing while anyone waits."""
        return 0 if self.waiting else self.free
