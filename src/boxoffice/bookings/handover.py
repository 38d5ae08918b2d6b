"""What bookings tells a waiting list, without depending on one.

Bookings owns the seat ledger and the holds; the waiting list (``boxoffice.waitlist``) owns the line.
Every transaction that returns tickets (``service._give_back``) asks the installed ``Line`` to offer
the free tickets of a ticket type that has a line, in that same transaction, while it holds the
ticket type's row lock: so offers are made one transaction at a time per ticket type, and each free
ticket is offered once. The line also learns, in the transactions that do it, that an offer (a hold
with ``waitlist_entry_id``) ended, was confirmed into a booking, or that its event was cancelled.

The waiting list installs itself (``boxoffice.waitlist.service.install``) when the app or the worker
is built; with nothing installed, no offers are made and a ticket type's line keeps what is free
set aside (the public sale stays closed while ``waiting > 0``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.models import Booking, Event, HoldStatus


@dataclass(frozen=True)
class Handed:
    """What a hand-over did to a ticket type's ledger: tickets now held by new offers, and entries no
    longer in line (offered, or ended because their user booked the event meanwhile)."""

    tickets: int = 0
    left_line: int = 0


@dataclass(frozen=True)
class EndedOffer:
    hold_id: UUID
    entry_id: UUID
    status: HoldStatus  # released (declined) or expired


class Line(Protocol):
    async def hand_over(self, session: AsyncSession, ticket_type_id: UUID, free: int) -> Handed:
        """Offer up to ``free`` tickets to the head of the ticket type's line (its row is locked by
        the caller). The offers' holds are made through ``service.place_offers``; the caller moves
        the ledger by what is returned."""
        ...

    async def offers_ended(self, session: AsyncSession, ended: Sequence[EndedOffer]) -> None: ...

    async def offers_booked(self, session: AsyncSession, booked: Mapping[UUID, Booking]) -> None:
        """Entries (by id) whose offers were confirmed into these bookings."""
        ...

    async def event_cancelled(self, session: AsyncSession, event: Event) -> None:
        """End every entry of the event still in line or holding an offer, and tell each of them."""
        ...


_installed: Line | None = None


def install(line: Line) -> None:
    global _installed
    _installed = line


def installed() -> Line | None:
    return _installed
