"""Admission control for bookings of one event: few transactions at a time, many bookings in each.

PostgreSQL serialises bookings of one ticket type on its row, and handles that best with few
transactions queued on the row: on a 2-core machine the booking transaction peaks at about four
concurrent transactions and collapses with dozens (measured with pgbench, see docs/benchmark.md). So
each process lets at most ``BOOKING_CONCURRENCY_PER_EVENT`` booking transactions per event into the
database at once (``EventGate``); the rest wait here, in arrival order, holding no connection.
Bookings of different events do not wait for each other.

A booking is not a transaction of its own: it joins its event's queue in this process, and whoever
holds a place at the gate writes everything queued (up to ``BOOKING_BATCH_LIMIT`` bookings) in one
transaction, as ``service.create_bookings_once`` (group commit). In a rush the queue fills while a
transaction runs, so each transaction carries many bookings: the same number of round trips and one
update of the hot row for all of them. Each booking still gets its own answer, first come, first
served; one with an Idempotency-Key has its key claimed, and its answer replayed or stored, in the
same transaction.

This shapes load only; correctness never depends on it: the database enforces capacity and the one
active booking per user and event whatever arrives, from however many processes.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts.auth import Principal, authenticate_all
from boxoffice.bookings import service
from boxoffice.bookings.schemas import BookingCreate
from boxoffice.bookings.service import BookingRequest, KeyedOutcome, StoredResponse
from boxoffice.core import audit
from boxoffice.core.audit import RequestOrigin
from boxoffice.core.db import Database
from boxoffice.core.errors import DomainError
from boxoffice.core.security import TokenClaims
from boxoffice.models import Booking

# Enough for a rush on a small machine (tens of bookings arrive during one transaction); small enough
# that one transaction stays short and a statement has few parameters (17 a booking).
BOOKING_BATCH_LIMIT = 64


@dataclass
class _Gate:
    places: asyncio.Semaphore
    users: int = 0


class EventGate:
    """At most ``per_event`` holders per event at once, in arrival order."""

    def __init__(self, per_event: int) -> None:
        self._per_event = per_event
        self._gates: dict[UUID, _Gate] = {}

    @property
    def per_event(self) -> int:
        return self._per_event

    @asynccontextmanager
    async def admit(self, event_id: UUID) -> AsyncIterator[None]:
        """Hold one of the event's places for the block."""
        gate = self._gates.get(event_id) or _Gate(asyncio.Semaphore(self._per_event))
        self._gates[event_id] = gate
        gate.users += 1
        try:
            async with gate.places:
                yield
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._gates[event_id]


Answer = Booking | StoredResponse


@dataclass
class _Waiting:
    caller: TokenClaims
    data: BookingCreate
    idempotency_key: str | None
    origin: RequestOrigin | None
    answer: "asyncio.Future[Answer]"


@dataclass
class _Queue:
    waiting: deque[_Waiting] = field(default_factory=deque)
    writers: int = 0


class BookingQueue:
    """Plain bookings of this process, queued per event and written in batches."""

    def __init__(self, database: Database, gate: EventGate, batch_limit: int = BOOKING_BATCH_LIMIT) -> None:
        self._database = database
        self._gate = gate
        self._batch_limit = batch_limit
        self._queues: dict[UUID, _Queue] = {}
        self._writers: set[asyncio.Task[None]] = set()

    async def book(self, caller: TokenClaims, data: BookingCreate, idempotency_key: str | None) -> Answer:
        """Queue the booking and wait for its outcome: the booking, committed (with an Idempotency-Key,
        its stored answer, or the first answer replayed), or its refusal raised. The caller's login
        session is checked in the booking's transaction. A caller that stops waiting before its booking
        is taken into a transaction leaves nothing."""
        event_id = data.event_id
        queue = self._queues.setdefault(event_id, _Queue())
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        queue.waiting.append(_Waiting(caller, data, idempotency_key, audit.current_origin(), answer))
        if queue.writers < self._gate.per_event:
            queue.writers += 1
            writer = asyncio.create_task(self._write_queued(event_id, queue))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await answer

    async def _write_queued(self, event_id: UUID, queue: _Queue) -> None:
        try:
            while queue.waiting:
                async with self._gate.admit(event_id):
                    batch = self._take(queue)
                    if batch:
                        await self._write(event_id, batch)
        finally:
            queue.writers -= 1
            if queue.writers == 0:
                self._queues.pop(event_id, None)
                for waiting in queue.waiting:  # only if this writer was cancelled (shutting down)
                    waiting.answer.cancel()

    def _take(self, queue: _Queue) -> list[_Waiting]:
        batch: list[_Waiting] = []
        while queue.waiting and len(batch) < self._batch_limit:
            waiting = queue.waiting.popleft()
            if not waiting.answer.done():  # a caller that stopped waiting is dropped here
                batch.append(waiting)
        return batch

    async def _write(self, event_id: UUID, batch: list[_Waiting]) -> None:
        async def work(session: AsyncSession, lock_seats: bool) -> list[KeyedOutcome]:
            callers = await authenticate_all(session, [waiting.caller for waiting in batch])
            requests: list[BookingRequest] = []
            for waiting, caller in zip(batch, callers, strict=True):
                if isinstance(caller, Principal):
                    requests.append(
                        BookingRequest(caller.user, waiting.data, waiting.origin, waiting.idempotency_key)
                    )
            written = await service.create_bookings_once(session, event_id, requests, lock_seats=lock_seats)
            answers = iter(written)
            return [next(answers) if isinstance(caller, Principal) else caller for caller in callers]

        try:
            outcomes = await service.write_booking(self._database, work)
        except BaseException as error:
            # Nothing was written (the transaction rolled back): every booking in it fails alike.
            for waiting in batch:
                if waiting.answer.done():
                    continue
                if isinstance(error, Exception):
                    waiting.answer.set_exception(error)
                else:
                    waiting.answer.cancel()
            if not isinstance(error, Exception):
                raise
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.answer.done():
                continue
            if isinstance(outcome, DomainError):
                waiting.answer.set_exception(outcome)
            else:
                waiting.answer.set_result(outcome)
