"""Admission control for bookings of one event.

PostgreSQL serialises bookings of one ticket type on its row, and handles that best with few
transactions queued on the row: on a 2-core machine the booking transaction peaks at about four
concurrent transactions and collapses with dozens (measured with pgbench, see docs/benchmark.md). So
each process lets at most ``BOOKING_CONCURRENCY_PER_EVENT`` booking transactions per event into the
database at once; the rest wait here, in arrival order, holding nothing. Bookings of different events
do not wait for each other.

When a booking that was let in finds its event sold out, every booking still waiting for that event is
woken and checked again at once (``recheck``): the refused ones answer now instead of waiting their
turn behind a crowd of fast sold-out answers, and the others (a smaller quantity may still fit) wait
again, at the back. This shapes load only; correctness never depends on it (the database enforces
capacity whatever arrives).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

Recheck = Callable[[], Awaitable[None]]


@dataclass
class _Gate:
    places: asyncio.Semaphore
    users: int = 0
    # Set, and replaced by a fresh one, each time a booking inside finds the event sold out.
    sold_out: asyncio.Event = field(default_factory=asyncio.Event)


class EventGate:
    def __init__(self, per_event: int) -> None:
        self._per_event = per_event
        self._gates: dict[UUID, _Gate] = {}

    @asynccontextmanager
    async def admit(self, event_id: UUID, recheck: Recheck | None = None) -> AsyncIterator[None]:
        """Hold one of the event's places for the block; while waiting for it, run ``recheck`` (which
        raises to refuse) whenever a booking of this event has been found sold out."""
        gate = self._gates.get(event_id) or _Gate(asyncio.Semaphore(self._per_event))
        self._gates[event_id] = gate
        gate.users += 1
        try:
            await self._wait_for_place(gate, recheck)
            try:
                yield
            finally:
                gate.places.release()
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._gates[event_id]

    def sold_out(self, event_id: UUID) -> None:
        """A booking of this event was refused as sold out: wake everyone waiting to check again."""
        gate = self._gates.get(event_id)
        if gate is not None:
            gate.sold_out.set()
            gate.sold_out = asyncio.Event()

    @staticmethod
    async def _wait_for_place(gate: _Gate, recheck: Recheck | None) -> None:
        while True:
            if recheck is None:
                await gate.places.acquire()
                return
            acquiring = asyncio.ensure_future(gate.places.acquire())
            woken = asyncio.ensure_future(gate.sold_out.wait())
            try:
                await asyncio.wait({acquiring, woken}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                woken.cancel()
                if await _settled(acquiring):
                    gate.places.release()
                raise
            woken.cancel()
            if await _settled(acquiring):
                return
            await recheck()


async def _settled(acquiring: "asyncio.Future[Any]") -> bool:
    """Cancel an acquire unless it is done, and let it settle; whether it got a place. (A place
    granted just as it was cancelled goes to the next waiter: the semaphore sees to that.)"""
    if not acquiring.done():
        acquiring.cancel()
    await asyncio.wait({acquiring})
    return not acquiring.cancelled()
