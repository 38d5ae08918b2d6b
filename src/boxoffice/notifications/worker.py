"""The outbox worker: claims due messages, sends them, marks them sent, retries failures.

Delivery is at least once. A claim is a lease (``claim_token`` + ``claimed_until``) taken in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never wait for each other); the
message is sent outside any transaction; a second short transaction marks it sent, but only while the
claim is still this worker's. Just before each send the worker renews its claim on that one message
(a fresh lease), and skips the message if the claim is no longer its own: a slow mail server makes a
batch outlast its lease, and another worker has taken over the rest of it. While the message is being
sent the worker keeps renewing that one lease (every third of a lease), so a slow send is never taken
over. A worker killed mid-send leaves its claims to expire, and another worker sends those messages
again: nothing is lost, and short of a crash nothing is sent twice.
"""

import asyncio
import contextlib
import random
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from uuid import UUID

import anyio.to_thread
import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import DBAPIError

from boxoffice.core.config import Settings
from boxoffice.core.db import Database, utcnow
from boxoffice.core.dialects import is_retryable
from boxoffice.models import OutboxMessage, OutboxStatus
from boxoffice.notifications import scheduler
from boxoffice.notifications.mailer import Mailer, create_mailer
from boxoffice.notifications.messages import render

log = structlog.get_logger("boxoffice.worker")

SCHEDULE_ATTEMPTS = 5
OUTBOX_PENDING = Gauge("boxoffice_outbox_pending", "Outbox messages waiting to be sent")
OUTBOX_SENT = Counter("boxoffice_outbox_sent_total", "Outbox messages sent")
OUTBOX_RETRIED = Counter("boxoffice_outbox_retried_total", "Failed sends scheduled for another attempt")
OUTBOX_DEAD = Counter("boxoffice_outbox_dead_total", "Messages given up on after too many attempts")
OUTBOX_SKIPPED = Counter("boxoffice_outbox_skipped_total", "Messages no longer relevant when due")

OUTBOX_CLAIM_LOST = Counter(
    "boxoffice_outbox_claim_lost_total",
    "Claimed messages not sent because another worker took them over after the lease ran out",
)

SCHEDULER_INTERVAL_SECONDS = 30.0


def retry_delay(attempts: int, base: float, ceiling: float) -> float:
    """Exponential backoff, capped, with "equal" jitter: between half and all of
    min(ceiling, base * 2^(attempts-1)). The half that is fixed makes the schedule's total length
    predictable (docs/operations.md), the other half spreads retries out."""
    step = min(ceiling, base * 2.0 ** (attempts - 1))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311  (jitter, not secrets)


def minimum_retry_span(settings: Settings) -> float:
    """The shortest time between a message's first failed attempt and its being declared dead."""
    return sum(
        min(settings.outbox_retry_max_seconds, settings.outbox_retry_base_seconds * 2.0 ** (n - 1)) / 2
        for n in range(1, settings.outbox_max_attempts)
    )


class OutboxWorker:
    def __init__(self, database: Database, settings: Settings, mailer: Mailer) -> None:
        self._database = database
        self._settings = settings
        self._mailer = mailer
        self._token = secrets.token_hex(16)
        self._next_schedule = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; then finish the message in hand and release the rest."""
        log.info("worker_started", worker=self._token[:8])
        while not stop.is_set():
            handled = 0
            try:
                await self._schedule_if_due()
                handled = await self.process_batch(stop)
            except Exception:
                log.exception("worker_iteration_failed")
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.worker_poll_seconds)
        log.info("worker_stopped", worker=self._token[:8])

    async def _schedule_if_due(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if loop_time < self._next_schedule:
            return
        self._next_schedule = loop_time + SCHEDULER_INTERVAL_SECONDS
        await self.schedule()

    async def schedule(self) -> None:
        """Queue due reminders and drop expired housekeeping rows; safe to run in many workers. A run
        that loses a lock conflict to another worker's (an InnoDB deadlock) runs again."""
        for attempt in range(1, SCHEDULE_ATTEMPTS + 1):
            try:
                async with self._database.unit_of_work() as session:
                    await scheduler.run(session, self._settings)
                break
            except DBAPIError as error:
                if attempt == SCHEDULE_ATTEMPTS or not is_retryable(error):
                    raise
        async with self._database.reader() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        OUTBOX_PENDING.set(int(pending or 0))

    async def process_batch(self, stop: asyncio.Event | None = None) -> int:
        """Claim up to a batch of due messages and send them; the number handled."""
        claimed = await self._claim()
        for index, message in enumerate(claimed):
            if stop is not None and stop.is_set():
                await self._release([m.id for m in claimed[index:]])
                break
            await self._deliver(message)
        return len(claimed)

    async def drain(self, max_batches: int = 1000) -> int:
        """Send until nothing is due (tests, and the end of a worker's life); the number handled."""
        total = 0
        for _ in range(max_batches):
            handled = await self.process_batch()
            if handled == 0:
                break
            total += handled
        return total

    async def _claim(self) -> Sequence[OutboxMessage]:
        now = utcnow()
        async with self._database.unit_of_work() as session:
            due_ids = (
                await session.scalars(
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                    )
                    .order_by(OutboxMessage.next_attempt_at)
                    .limit(self._settings.outbox_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not due_ids:
                return []
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due_ids))
                .values(
                    claim_token=self._token,
                    claimed_until=now + timedelta(seconds=self._settings.outbox_lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            claimed = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(due_ids), OutboxMessage.claim_token == self._token)
                    .order_by(OutboxMessage.next_attempt_at)
                )
            ).all()
            session.expunge_all()
            return claimed

    async def _renew_claim(self, message: OutboxMessage) -> bool:
        """Take a fresh lease on this one message; False if it is no longer ours to send."""
        renewed = await self._database.execute_alone(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.claim_token == self._token,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(claimed_until=utcnow() + timedelta(seconds=self._settings.outbox_lease_seconds))
        )
        return renewed == 1

    async def _deliver(self, message: OutboxMessage) -> None:
        if not await self._renew_claim(message):
            OUTBOX_CLAIM_LOST.inc()
            log.warning("email_claim_lost", message_id=str(message.id), kind=message.kind)
            return
        try:
            async with self._keeping_claim(message):
                if not await scheduler.prepare(self._database, message, self._token):
                    await self._finish(message, OutboxStatus.SKIPPED)
                    OUTBOX_SKIPPED.inc()
                    return
                email = await anyio.to_thread.run_sync(render, message, self._settings.public_url)
                await self._mailer.send(email)
        except scheduler.ClaimLost:
            OUTBOX_CLAIM_LOST.inc()
            return
        except Exception as error:
            await self._failed(message, error)
            return
        await self._finish(message, OutboxStatus.SENT)
        OUTBOX_SENT.inc()

    @contextlib.asynccontextmanager
    async def _keeping_claim(self, message: OutboxMessage) -> AsyncIterator[None]:
        """Renew the lease on the message in hand every third of a lease while it is being prepared
        and sent: a mail server slower to accept it than a lease is long must not let another worker
        take it over and send it a second time. Only a worker that has died stops renewing."""
        done = asyncio.Event()
        renewing = asyncio.create_task(self._renew_until(message, done))
        try:
            yield
        finally:
            done.set()
            await renewing  # at most the renewal under way: never cancelled halfway through a statement

    async def _renew_until(self, message: OutboxMessage, done: asyncio.Event) -> None:
        interval = self._settings.outbox_lease_seconds / 3
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), interval)
            if done.is_set():
                return
            try:
                if not await self._renew_claim(message):
                    return  # taken over after all (this worker stalled for a whole lease)
            except Exception:
                log.warning("email_claim_renewal_failed", message_id=str(message.id), exc_info=True)

    async def _finish(self, message: OutboxMessage, status: OutboxStatus) -> None:
        # One statement on its own (autocommit on PostgreSQL): this runs once per email sent.
        await self._database.execute_alone(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == self._token)
            .values(
                status=status,
                sent_at=utcnow() if status is OutboxStatus.SENT else None,
                attempts=OutboxMessage.attempts + 1,
                claim_token=None,
                claimed_until=None,
            )
        )

    async def _failed(self, message: OutboxMessage, error: Exception) -> None:
        attempts = message.attempts + 1
        reason = f"{type(error).__name__}: {error}"[:1000]
        dead = attempts >= self._settings.outbox_max_attempts
        delay = retry_delay(
            attempts, self._settings.outbox_retry_base_seconds, self._settings.outbox_retry_max_seconds
        )
        await self._database.execute_alone(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == self._token)
            .values(
                status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
                attempts=attempts,
                next_attempt_at=utcnow() + timedelta(seconds=delay),
                last_error=reason,
                claim_token=None,
                claimed_until=None,
            )
        )
        if dead:
            OUTBOX_DEAD.inc()
            log.error(
                "email_dead", message_id=str(message.id), kind=message.kind, attempts=attempts, error=reason
            )
        else:
            OUTBOX_RETRIED.inc()
            log.warning(
                "email_send_failed",
                message_id=str(message.id),
                kind=message.kind,
                attempts=attempts,
                retry_in_seconds=round(delay, 1),
                error=reason,
            )

    async def _release(self, message_ids: list[UUID]) -> None:
        await self._database.execute_alone(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), OutboxMessage.claim_token == self._token)
            .values(claim_token=None, claimed_until=None)
        )


def create_worker(database: Database, settings: Settings) -> OutboxWorker:
    return OutboxWorker(database, settings, create_mailer(settings))
