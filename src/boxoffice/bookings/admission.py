"""Admission control for bookings of one event.

PostgreSQL serialises bookings of one ticket type on its row, and handles that best with few
transactions queued on the row: on a 2-core machine the booking transaction peaks at about four
concurrent transactions and collapses with dozens (measured with pgbench, see docs/benchmark.md). So
each process lets at most ``BOOKING_CONCURRENCY_PER_EVENT`` booking transactions per event into the
database at once; the rest wait here, in arrival order, which costs nothing. Bookings of different
events do not wait for each other. This shapes load only; correctness never depends on it (the
database enforces capacity whatever arrives).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID


class EventGate:
    def __init__(self, per_event: int) -> None:
        self._per_event = per_event
        self._gates: dict[UUID, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def admit(self, event_id: UUID) -> AsyncIterator[None]:
        semaphore, users = self._gates.get(event_id) or (asyncio.Semaphore(self._per_event), 0)
        self._gates[event_id] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._gates[event_id]
            if users == 1:
                del self._gates[event_id]
            else:
                self._gates[event_id] = (semaphore, users - 1)
