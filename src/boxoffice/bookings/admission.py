"""Admission control for bookings of one event.

PostgreSQL serialises bookings of one ticket type on its row, and handles that best with few
transactions queued on the row: on a 2-core machine the booking transaction peaks at about four
concurrent transactions and collapses with dozens (measured with pgbench, see docs/benchmark.md). So
each process lets at most ``BOOKING_CONCURRENCY_PER_EVENT`` booking transactions per event into the
database at once; the rest wait here, in arrival order, which costs nothing. A place is held until the
booking's transaction has ended (committed or rolled back). Bookings of different events do not wait
for each other. This shapes load only; correctness never depends on it (the database enforces capacity
whatever arrives).
"""

import asyncio
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.db import when_done


class EventGate:
    def __init__(self, per_event: int) -> None:
        self._per_event = per_event
        self._gates: dict[UUID, tuple[asyncio.Semaphore, int]] = {}

    async def admit(self, session: AsyncSession, event_id: UUID) -> None:
        """Wait for a place at the event's gate; it is given back when ``session``'s unit of work ends."""
        semaphore, users = self._gates.get(event_id) or (asyncio.Semaphore(self._per_event), 0)
        self._gates[event_id] = (semaphore, users + 1)
        try:
            await semaphore.acquire()
        except BaseException:
            self._leave(event_id)
            raise

        def release() -> None:
            semaphore.release()
            self._leave(event_id)

        when_done(session, release)

    def _leave(self, event_id: UUID) -> None:
        semaphore, users = self._gates[event_id]
        if users == 1:
            del self._gates[event_id]
        else:
            self._gates[event_id] = (semaphore, users - 1)
