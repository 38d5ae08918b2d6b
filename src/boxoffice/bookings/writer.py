"""The one way tickets are sold: a new booking, a new hold, a hold confirmed into a booking.

    router → BookingWriter (this module) → rules, allocation, repository

A booking (``POST /bookings``) is a hold confirmed in the same transaction: both take seats through
the same checks, the same allocation and the same ledger statement; a hold leaves its seats ``held``,
a booking or a confirmation makes them ``sold``. Changing, cancelling, extending and releasing move
seats too, but one at a time, through ``service``.

How a sale is written (docs/architecture.md has the measurements behind it):

- The caller's token is checked here (signature and expiry, ``accounts.auth``); whether its login
  session is alive is checked in the sale's own transaction.
- Each sale joins its event's queue in this process and waits, holding no connection. At most
  ``BOOKING_CONCURRENCY_PER_EVENT`` transactions per event and process run at once; whoever runs one
  takes everything queued for the event (up to ``BATCH_LIMIT``) and writes it in one transaction
  (group commit): PostgreSQL sells fastest on one hot row with few transactions at once and many
  sales in each. Sales of different events do not wait for each other.
- In the transaction (``_Batch``): the callers' sessions in one query; the event under a KEY SHARE
  lock; idempotency keys claimed; the holds being confirmed locked; each sale's rules; the new
  bookings and holds in one insert each; seats allocated first come, first served
  (``allocation.allocate``) from what the locked read counted, after expiring the event's due holds
  if they stand in the way; the losers' rows taken back; the winners' tickets in one insert
  (``tickets.service``), their emails, audit entries and idempotent answers; and last one
  conditional ledger statement per ticket type.
- Each sale gets its own answer: the booking or hold, or its own 401, 404, 409 or 422.

This shapes load only: the database enforces capacity, one active booking and one active hold per
user and event, whatever arrives from however many processes.
"""

import asyncio
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import auth
from boxoffice.bookings import handover, idempotency, repository, rules
from boxoffice.bookings.allocation import SeatRequest, allocate
from boxoffice.bookings.codes import new_booking_code
from boxoffice.bookings.idempotency import StoredResponse
from boxoffice.bookings.schemas import BookingCreate, BookingRead, HoldConfirm, HoldCreate
from boxoffice.core import audit
from boxoffice.core.audit import Action, RequestOrigin
from boxoffice.core.db import Database, utcnow
from boxoffice.core.dialects import checks_lock_parents
from boxoffice.core.errors import (
    AlreadyBooked,
    DomainError,
    HoldExpired,
    HoldLimit,
    NotAuthenticated,
    NotFound,
)
from boxoffice.core.security import TokenClaims, Tokens
from boxoffice.models import ACTIVE, Booking, BookingStatus, Event, Hold, HoldStatus, Ticket, TicketType, User
from boxoffice.notifications import outbox
from boxoffice.tickets import service as tickets_service

# Enough for a rush on a small machine (tens of sales arrive during one transaction); small enough
# that one transaction stays short and a statement has few parameters.
BATCH_LIMIT = 64

T = TypeVar("T")


@dataclass(frozen=True)
class NewBooking:
    data: BookingCreate
    idempotency_key: str | None = None


@dataclass(frozen=True)
class NewHold:
    data: HoldCreate


@dataclass(frozen=True)
class Confirmation:
    hold_id: UUID
    data: HoldConfirm
    idempotency_key: str | None = None


Sale = NewBooking | NewHold | Confirmation
Answer = Booking | Hold | StoredResponse


class BookingWriter:
    """Sells the tickets of this process: queued per event, written in batches."""

    def __init__(
        self, database: Database, tokens: Tokens, per_event: int, batch_limit: int = BATCH_LIMIT
    ) -> None:
        self._database = database
        self._tokens = tokens
        self._per_event = per_event
        self._batch_limit = batch_limit
        self._queues: dict[UUID, _Queue] = {}
        self._writers: set[asyncio.Task[None]] = set()

    async def book(
        self, token: str | None, data: BookingCreate, idempotency_key: str | None = None
    ) -> Booking | StoredResponse:
        """Book tickets at once: the booking, committed, or (with an Idempotency-Key) its stored answer."""
        answer = await self._sell(token, data.event_id, NewBooking(data, idempotency_key))
        assert not isinstance(answer, Hold)
        return answer

    async def hold(self, token: str | None, data: HoldCreate) -> Hold:
        """Hold tickets for the event's hold time."""
        answer = await self._sell(token, data.event_id, NewHold(data))
        assert isinstance(answer, Hold)
        return answer

    async def confirm(
        self, token: str | None, hold_id: UUID, data: HoldConfirm, idempotency_key: str | None = None
    ) -> Booking | StoredResponse:
        """Turn a hold into a booking."""
        claims = auth.token_claims(self._tokens, token)
        event_id = await self._event_of_hold(claims, hold_id)
        answer = await self._enqueue(claims, event_id, Confirmation(hold_id, data, idempotency_key))
        assert not isinstance(answer, Hold)
        return answer

    def queued(self, event_id: UUID) -> int:
        """How many sales of the event wait in this process for a transaction."""
        queue = self._queues.get(event_id)
        return len(queue.waiting) if queue else 0

    @asynccontextmanager
    async def paused(self, event_id: UUID) -> AsyncIterator[None]:
        """Hold every place of the event's gate: its sales queue until the block ends (tests, and
        the demo's orderly writes do not need it; it is how a test lines sales up)."""
        queue = self._queues.setdefault(event_id, _Queue(asyncio.Semaphore(self._per_event)))
        queue.users += 1
        try:
            for _ in range(self._per_event):
                await queue.places.acquire()
            try:
                yield
            finally:
                for _ in range(self._per_event):
                    queue.places.release()
        finally:
            queue.users -= 1
            self._forget_if_idle(event_id, queue)

    async def _sell(self, token: str | None, event_id: UUID, sale: Sale) -> Answer:
        return await self._enqueue(auth.token_claims(self._tokens, token), event_id, sale)

    async def _event_of_hold(self, claims: TokenClaims, hold_id: UUID) -> UUID:
        async with self._database.session(self._database.reader) as session:
            event_id = await repository.event_id_of_hold(session, hold_id)
            if event_id is None:
                # Only someone signed in learns that there is no such hold.
                (caller,) = await auth.authenticate_all(session, [claims])
                if isinstance(caller, NotAuthenticated):
                    raise caller
                raise NotFound("No such hold.")
            return event_id

    async def _enqueue(self, claims: TokenClaims, event_id: UUID, sale: Sale) -> Answer:
        queue = self._queues.setdefault(event_id, _Queue(asyncio.Semaphore(self._per_event)))
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        queue.waiting.append(_Queued(claims, sale, audit.current_origin(), answer))
        if queue.writers < self._per_event:
            queue.writers += 1
            queue.users += 1
            writer = asyncio.create_task(self._write_queued(event_id, queue))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await answer

    async def _write_queued(self, event_id: UUID, queue: "_Queue") -> None:
        try:
            while queue.waiting:
                async with queue.places:
                    batch = queue.take(self._batch_limit)
                    if batch:
                        await self._write(event_id, batch)
        finally:
            queue.writers -= 1
            queue.users -= 1
            if queue.writers == 0:
                for waiting in queue.waiting:  # only if this writer was cancelled (shutting down)
                    waiting.answer.cancel()
                queue.waiting.clear()
            self._forget_if_idle(event_id, queue)

    def _forget_if_idle(self, event_id: UUID, queue: "_Queue") -> None:
        if queue.users == 0 and not queue.waiting and self._queues.get(event_id) is queue:
            del self._queues[event_id]

    async def _write(self, event_id: UUID, batch: list["_Queued"]) -> None:
        """Write a batch in one transaction and answer each of its callers."""
        try:
            outcomes = await self._in_transaction(
                lambda session, lock_seats: _Batch(session, event_id, batch, lock_seats).write()
            )
        except BaseException as error:
            # Nothing was written (the transaction rolled back): every sale in it fails alike.
            for waiting in batch:
                if not waiting.answer.done():
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

    async def _in_transaction(self, work: Callable[[AsyncSession, bool], Awaitable[T]]) -> T:
        """Run ``work(session, lock_seats)`` in a transaction of its own, committed here; if the seats it
        counted were taken meanwhile by another process, once more with the ticket types locked."""
        try:
            async with self._database.unit_of_work() as session:
                return await work(session, False)
        except _SeatsTakenMeanwhile:
            async with self._database.unit_of_work() as session:
                return await work(session, True)


@dataclass
class _Queued:
    caller: TokenClaims
    sale: Sale
    origin: RequestOrigin | None
    answer: "asyncio.Future[Answer]"


@dataclass
class _Queue:
    """An event's sales waiting in this process, and its gate: ``places`` transactions at once."""

    places: asyncio.Semaphore
    waiting: deque[_Queued] = field(default_factory=deque)
    writers: int = 0
    users: int = 0

    def take(self, limit: int) -> list[_Queued]:
        batch: list[_Queued] = []
        while self.waiting and len(batch) < limit:
            waiting = self.waiting.popleft()
            if not waiting.answer.done():  # a caller that stopped waiting is dropped here
                batch.append(waiting)
        return batch


class _SeatsTakenMeanwhile(Exception):
    """The seats counted at the start of the transaction were taken by another one before the ledger
    statement (PostgreSQL, another process): roll back and write again with the ticket types locked."""


Outcome = Answer | DomainError


@dataclass
class _Line:
    """What one sale of the batch does: who buys, which ticket type, and its rows."""

    index: int
    user: User
    ticket_type: TicketType
    quantity: int
    booking: Booking | None = None  # a new booking, or the booking a confirmation makes
    new_hold: Hold | None = None
    confirmed_hold: Hold | None = None

    @property
    def needs_seats(self) -> bool:
        """Whether it takes seats: anything but the confirmation of a hold that still holds them."""
        return self.confirmed_hold is None or self.confirmed_hold.status is HoldStatus.EXPIRED


class _Batch:
    """One transaction of sales of one event, in queue order (see the module docstring)."""

    def __init__(
        self, session: AsyncSession, event_id: UUID, queued: list[_Queued], lock_seats: bool
    ) -> None:
        self.session = session
        self.event_id = event_id
        self.queued = queued
        self.lock_seats = lock_seats
        self.outcomes: list[Outcome | None] = [None] * len(queued)
        self.now = utcnow()
        self.returned: dict[UUID, int] | None = None  # tickets of holds this batch expired
        self.lined: set[UUID] = set()  # ticket types with a waiting list: not for the public sale

    async def write(self) -> list[Outcome]:
        users = await self._authenticated()
        event = await repository.event_for_booking(self.session, self.event_id)
        # Where foreign-key checks share-lock the ticket types (MariaDB/MySQL), the batch's inserts would
        # do so before its seat update: two processes' batches would then deadlock, so there the
        # ticket types are locked first, always.
        self.lock_seats = self.lock_seats or checks_lock_parents(self.session)
        if self.lock_seats and event is not None:
            await repository.lock_ticket_types(self.session, self.event_id)
        if event is not None:
            self.lined = {ticket_type.id for ticket_type in event.ticket_types if ticket_type.waiting}
        await self._claim_keys(users)
        sales = [self.queued[index].sale for index in users]
        holds = await repository.holds_for_update(
            self.session, {sale.hold_id for sale in sales if isinstance(sale, Confirmation)}
        )
        lines = self._lines(event, users, holds)
        if any(line.new_hold is not None for line in lines):
            # A buyer's own hold that ran out must not stand in the way of their new one.
            await self._expire_due_holds(lines)
        lines = await self._insert(lines)
        winners = await self._allocate(lines)
        await self._finish(winners)
        answered = [outcome for outcome in self.outcomes if outcome is not None]
        assert len(answered) == len(self.queued)  # every sale has its answer
        return answered

    def _refuse(self, index: int, error: DomainError) -> None:
        self.outcomes[index] = error

    async def _authenticated(self) -> dict[int, User]:
        principals = await auth.authenticate_all(self.session, [queued.caller for queued in self.queued])
        users: dict[int, User] = {}
        for index, principal in enumerate(principals):
            if isinstance(principal, NotAuthenticated):
                self._refuse(index, principal)
            else:
                users[index] = principal.user
        return users

    def _fingerprint(self, sale: NewBooking | Confirmation) -> str:
        if isinstance(sale, NewBooking):
            return idempotency.request_hash(sale.data.model_dump(mode="json"))
        return idempotency.request_hash(
            {"confirm_hold": str(sale.hold_id), **sale.data.model_dump(mode="json")}
        )

    async def _claim_keys(self, users: dict[int, User]) -> None:
        """Replay the first answer of each repeated key, claim the others; two sales with one key in
        the batch are like two at once: the second is 409 ``idempotency_in_progress``."""
        claimed: set[tuple[UUID, str]] = set()
        for index, user in list(users.items()):
            sale = self.queued[index].sale
            if isinstance(sale, NewHold) or sale.idempotency_key is None:
                continue
            try:
                if (user.id, sale.idempotency_key) in claimed:
                    raise idempotency.in_progress()
                claimed.add((user.id, sale.idempotency_key))
                replay = await idempotency.replay_or_claim(
                    self.session, user.id, sale.idempotency_key, self._fingerprint(sale)
                )
            except DomainError as error:
                self._refuse(index, error)
                del users[index]
                continue
            if replay is not None:
                self.outcomes[index] = replay
                del users[index]

    def _lines(self, event: Event | None, users: dict[int, User], holds: dict[UUID, Hold]) -> list[_Line]:
        lines: list[_Line] = []
        confirming: set[UUID] = set()
        for index, user in users.items():
            sale = self.queued[index].sale
            try:
                if isinstance(sale, Confirmation):
                    line = self._confirmation(index, user, event, holds.get(sale.hold_id), sale, confirming)
                else:
                    line = self._new_sale(index, user, event, sale)
            except DomainError as error:
                self._refuse(index, error)
                continue
            lines.append(line)
        return lines

    def _new_sale(self, index: int, user: User, event: Event | None, sale: NewBooking | NewHold) -> _Line:
        data = sale.data
        ticket_type = rules.saleable_ticket_type(event, user, data.ticket_type_id, data.quantity)
        assert event is not None  # checked by the rules
        if ticket_type.waiting:
            # Whatever returns goes to the people in line; the public sees it sold out.
            raise rules.sold_out(ticket_type, 0)
        if data.quantity > ticket_type.available + ticket_type.held:
            # It cannot fit even if every hold expired: answered without writing anything.
            raise rules.sold_out(ticket_type, ticket_type.available)
        line = _Line(index, user, ticket_type, data.quantity)
        if isinstance(sale, NewBooking):
            holder = (sale.data.holder_name, sale.data.holder_email)
            line.booking = self._new_booking(event, ticket_type, user, data.quantity, *holder)
        else:
            line.new_hold = Hold(
                id=uuid.uuid4(),
                event_id=event.id,
                ticket_type_id=ticket_type.id,
                user_id=user.id,
                quantity=data.quantity,
                status=HoldStatus.ACTIVE,
                active_key=ACTIVE,
                expires_at=self.now + timedelta(minutes=event.hold_minutes),
                created_at=self.now,
                ended_at=None,
                booking_id=None,
            )
        return line

    def _confirmation(
        self,
        index: int,
        user: User,
        event: Event | None,
        hold: Hold | None,
        sale: Confirmation,
        confirming: set[UUID],
    ) -> _Line:
        if hold is None or event is None or hold.user_id != user.id or hold.event_id != event.id:
            raise NotFound("No such hold.")
        if hold.status is HoldStatus.CONFIRMED or hold.id in confirming:
            raise AlreadyBooked("This hold is already confirmed; see your bookings.")
        if hold.status is HoldStatus.RELEASED:
            raise HoldExpired("This hold was released; hold the tickets again.")
        rules.ensure_on_sale(event, self.now)
        ticket_type = rules.pick_ticket_type(event, hold.ticket_type_id)
        confirming.add(hold.id)
        booking = self._new_booking(
            event, ticket_type, user, hold.quantity, sale.data.holder_name, sale.data.holder_email
        )
        return _Line(index, user, ticket_type, hold.quantity, booking=booking, confirmed_hold=hold)

    def _new_booking(
        self,
        event: Event,
        ticket_type: TicketType,
        user: User,
        quantity: int,
        holder_name: str | None,
        holder_email: str | None,
    ) -> Booking:
        booking = Booking(
            id=uuid.uuid4(),
            event_id=event.id,
            ticket_type_id=ticket_type.id,
            user_id=user.id,
            quantity=quantity,
            status=BookingStatus.CONFIRMED,
            active_key=ACTIVE,
            holder_name=holder_name or user.full_name,
            holder_email=holder_email or user.email,
            unit_price=ticket_type.price,
            total_price=ticket_type.price * quantity,
            currency=event.currency,
            created_at=self.now,
            updated_at=self.now,
        )
        booking.event = event
        return booking

    async def _insert(self, lines: list[_Line]) -> list[_Line]:
        """Insert every line's booking or hold; the lines whose rows the database refused (a second
        active booking or hold of the user for the event) are answered and dropped."""
        holders = {line.user.id for line in lines if line.new_hold is not None}
        booked_already = await repository.users_with_active_booking(self.session, self.event_id, holders)
        kept: list[_Line] = []
        for line in lines:
            # A hold after its user's booking in this same batch is refused as if they came one by one
            # (even should that booking turn out sold out: both at once is a client's own race).
            if line.new_hold is not None and line.user.id in booked_already:
                self._refuse(line.index, _already_booked())
                continue
            kept.append(line)
            if line.booking is not None:
                booked_already.add(line.user.id)
        bookings = [line.booking for line in kept if line.booking is not None]
        holds = [line.new_hold for line in kept if line.new_hold is not None]
        inserted = await repository.insert_bookings(self.session, bookings, new_booking_code)
        inserted |= await repository.insert_holds(self.session, holds)
        written: list[_Line] = []
        for line in kept:
            if line.booking is not None and line.booking.id not in inserted:
                self._refuse(line.index, _already_booked())
            elif line.new_hold is not None and line.new_hold.id not in inserted:
                self._refuse(line.index, _hold_limit())
            else:
                written.append(line)
        return written

    async def _expire_due_holds(self, lines: list[_Line]) -> dict[UUID, int]:
        """Expire the event's holds whose time has run out (once per batch), but none this batch
        confirms, no waiting-list offer and none of a ticket type with a waiting list (their tickets
        would go to the line, not to this batch: the worker's sweep expires those); their tickets per
        ticket type."""
        if self.returned is None:
            confirming = [line.confirmed_hold.id for line in lines if line.confirmed_hold is not None]
            ended = await repository.end_active_holds(
                self.session,
                [
                    Hold.event_id == self.event_id,
                    Hold.expires_at <= self.now,
                    Hold.id.not_in(confirming),
                    Hold.waitlist_entry_id.is_(None),
                    Hold.ticket_type_id.not_in(self.lined),
                ],
                HoldStatus.EXPIRED,
                skip_locked=True,
            )
            self.returned = ended.tickets
        return self.returned

    async def _allocate(self, lines: list[_Line]) -> list[_Line]:
        """Seats for the lines that need them, first come, first served, from what the locked read
        counted (plus what holds expired by this batch returned). If some do not fit and holds of
        their ticket type may have run out, the event's due holds are expired and the seats allocated
        again. Returns the lines that get what they need; the others are answered and taken back."""
        seated = [line for line in lines if line.needs_seats]
        ticket_types = {line.ticket_type.id: line.ticket_type for line in lines}
        requests = [SeatRequest(line.ticket_type.id, line.quantity) for line in seated]

        def available() -> dict[UUID, int]:
            returned = self.returned or {}
            return {tid: t.available + returned.get(tid, 0) for tid, t in ticket_types.items()}

        allocation = allocate(available(), requests)
        short = {line.ticket_type.id for line, got in zip(seated, allocation.granted, strict=True) if not got}
        may_free = self.returned is None and any(ticket_types[tid].held for tid in short)
        if may_free and await self._expire_due_holds(lines):
            allocation = allocate(available(), requests)
        losers = [line for line, got in zip(seated, allocation.granted, strict=True) if not got]
        for line in losers:
            left = allocation.left[line.ticket_type.id]
            self._refuse(
                line.index, _hold_gone() if line.confirmed_hold else rules.sold_out(line.ticket_type, left)
            )
        await repository.delete_bookings(self.session, [ln.booking.id for ln in losers if ln.booking])
        await repository.delete_holds(self.session, [ln.new_hold.id for ln in losers if ln.new_hold])
        lost = {line.index for line in losers}
        return [line for line in lines if line.index not in lost]

    async def _finish(self, winners: list[_Line]) -> None:
        """Answer the winners, record what they did, and move the seats: last, one statement per ticket
        type, so the hot ticket-type rows are locked as briefly as possible."""
        sold: dict[UUID, int] = {}
        held: dict[UUID, int] = {tid: -quantity for tid, quantity in (self.returned or {}).items()}
        await repository.mark_holds_confirmed(
            self.session,
            {ln.confirmed_hold.id: ln.booking.id for ln in winners if ln.confirmed_hold and ln.booking},
        )
        tickets = await tickets_service.issue_tickets(
            self.session, [line.booking for line in winners if line.booking is not None]
        )
        offers_booked = {
            ln.confirmed_hold.waitlist_entry_id: ln.booking
            for ln in winners
            if ln.confirmed_hold and ln.confirmed_hold.waitlist_entry_id and ln.booking
        }
        waiting_list = handover.installed()
        if offers_booked and waiting_list is not None:
            await waiting_list.offers_booked(self.session, offers_booked)
        # Seats the public sale takes (not a hold's own, being confirmed): none while anyone waits.
        public = {ln.ticket_type.id for ln in winners if ln.needs_seats}
        for line in winners:
            tid = line.ticket_type.id
            if line.new_hold is not None:
                held[tid] = held.get(tid, 0) + line.quantity
                self.outcomes[line.index] = line.new_hold
                continue
            assert line.booking is not None
            sold[tid] = sold.get(tid, 0) + line.quantity
            if line.confirmed_hold is not None and line.confirmed_hold.status is HoldStatus.ACTIVE:
                held[tid] = held.get(tid, 0) - line.quantity
            self.outcomes[line.index] = self._booked(line, tickets[line.booking.id])
        await self.session.flush()
        for tid in sorted(set(sold) | set(held)):
            moved = await repository.move_seats(
                self.session, tid, sold=sold.get(tid, 0), held=held.get(tid, 0), public=tid in public
            )
            if not moved:
                if self.lock_seats:
                    raise RuntimeError(f"seats of locked ticket type {tid} moved")
                raise _SeatsTakenMeanwhile

    def _booked(self, line: _Line, tickets: list[Ticket]) -> Booking | StoredResponse:
        booking = line.booking
        assert booking is not None
        queued = self.queued[line.index]
        offer = line.confirmed_hold is not None and line.confirmed_hold.waitlist_entry_id is not None
        outbox.booking_confirmed(self.session, booking, booking.event, tickets, from_waitlist=offer)
        details: dict[str, object] = {"event_id": self.event_id, "quantity": booking.quantity}
        if line.confirmed_hold is not None:
            details["hold_id"] = line.confirmed_hold.id
        audit.record(
            self.session,
            line.user,
            Action.BOOKING_CREATED,
            "booking",
            booking.id,
            origin=queued.origin,
            **details,
        )
        sale = queued.sale
        assert not isinstance(sale, NewHold)
        if sale.idempotency_key is None:
            return booking
        body = BookingRead.model_validate(booking).model_dump(mode="json")
        return idempotency.remember(
            self.session, line.user.id, sale.idempotency_key, self._fingerprint(sale), 201, body
        )


def _already_booked() -> AlreadyBooked:
    return AlreadyBooked("You already have a booking for this event; change its quantity instead.")


def _hold_limit() -> HoldLimit:
    return HoldLimit("You already hold tickets for this event; confirm or release them first.")


def _hold_gone() -> HoldExpired:
    return HoldExpired("This hold expired and its tickets have been sold meanwhile.")
