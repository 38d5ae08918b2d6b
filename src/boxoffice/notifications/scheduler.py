"""Time-driven work: queueing reminders before events, dropping expired idempotency keys.

Any number of schedulers may run (one per worker): a reminder's outbox dedupe key makes queueing it
twice a no-op, so each holder is reminded exactly once.
"""

import json
from datetime import timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import service as bookings_service
from boxoffice.core.config import Settings
from boxoffice.core.db import Database, utcnow
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


async def still_relevant(database: Database, message: OutboxMessage) -> bool:
    """A reminder is sent only if its booking is still confirmed and its event still ahead."""
    if message.kind != MessageKind.EVENT_REMINDER.value:
        return True
    booking_id = UUID(json.loads(message.payload)["booking"]["id"])
    async with database.reader() as session:
        return await bookings_service.still_worth_a_reminder(session, booking_id, utcnow())
