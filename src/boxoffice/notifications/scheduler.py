"""Time-driven work: queueing reminders before events, dropping expired idempotency keys.

Any number of schedulers may run (one per worker): a reminder's outbox dedupe key makes queueing it
twice a no-op, so each holder is reminded exactly once.
"""

import json
from datetime import timedelta
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import service as accounts_service
from boxoffice.bookings import service as bookings_service
from boxoffice.core.config import Settings
from boxoffice.core.db import Database, rows_affected, utcnow
from boxoffice.models import OutboxMessage
from boxoffice.notifications import outbox
from boxoffice.notifications.outbox import MessageKind

REMINDER_BATCH = 500


async def run(session: AsyncSession, settings: Settings) -> int:
    """Queue the reminders now due; the number queued."""
    now = utcnow()
    due = await bookings_service.due_for_reminder(
        session, now=now, lead=timedelta(seconds=settings.reminder_lead_seconds), limit=REMINDER_BATCH
    )
    for booking in due:
        await outbox.queue_reminder(session, booking, booking.event)
    await bookings_service.mark_reminders_queued(session, [b.id for b in due], now)
    await bookings_service.forget_stale_idempotency_keys(session, now)
    return len(due)


async def prepare(database: Database, message: OutboxMessage, claim_token: str) -> bool:
    """Make a claimed message ready to send; False if there is nothing to send.

    A password reset request becomes the reset email (a new token) if an active account has the
    address, in one transaction with the token; the row is rewritten, so a retry sends that email.
    """
    if message.kind != MessageKind.PASSWORD_RESET_REQUESTED.value:
        return await still_relevant(database, message)
    async with database.unit_of_work() as session:
        payload = await accounts_service.password_reset_email(session, message.recipient)
        if payload is None:
            return False
        rewritten = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.claim_token == claim_token)
            .values(kind=MessageKind.PASSWORD_RESET.value, payload=json.dumps(payload))
        )
        if rows_affected(rewritten) != 1:
            raise ClaimLost(message.id)
    message.kind, message.payload = MessageKind.PASSWORD_RESET.value, json.dumps(payload)
    return True


class ClaimLost(Exception):
    """Another worker took the message over; this one leaves it alone."""


async def still_relevant(database: Database, message: OutboxMessage) -> bool:
    """A reminder is sent only if its booking is still confirmed and its event still ahead."""
    if message.kind != MessageKind.EVENT_REMINDER.value:
        return True
    booking_id = UUID(json.loads(message.payload)["booking"]["id"])
    async with database.reader() as session:
        return await bookings_service.still_worth_a_reminder(session, booking_id, utcnow())
