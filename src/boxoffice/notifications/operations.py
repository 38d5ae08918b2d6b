"""What an operator does with the outbox (``boxoffice outbox ...``): list, inspect, requeue."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select, update

from boxoffice.core.config import Settings
from boxoffice.core.db import create_database, utcnow
from boxoffice.models import OutboxMessage, OutboxStatus


class NotRequeueable(Exception):
    """The message does not exist, or is not dead (requeueing a sent one would send it again)."""


async def list_messages(
    settings: Settings, status: OutboxStatus | None, limit: int
) -> Sequence[OutboxMessage]:
    database = create_database(settings)
    try:
        async with database.reader() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
            if status is not None:
                query = query.where(OutboxMessage.status == status)
            messages = (await session.scalars(query)).all()
            session.expunge_all()
            return messages
    finally:
        await database.dispose()


async def get_message(settings: Settings, message_id: UUID) -> OutboxMessage | None:
    database = create_database(settings)
    try:
        async with database.reader() as session:
            message = await session.get(OutboxMessage, message_id)
            if message is not None:
                session.expunge(message)
            return message
    finally:
        await database.dispose()


async def requeue(settings: Settings, message_id: UUID | None) -> int:
    """Give dead messages (one, or all when ``message_id`` is None) a fresh set of attempts, due now.
    The last error stays until the next attempt replaces it. Returns how many were requeued."""
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            claim_token=None,
            claimed_until=None,
        )
    )
    if message_id is not None:
        statement = statement.where(OutboxMessage.id == message_id)
    database = create_database(settings)
    try:
        count = await database.execute_alone(statement)
    finally:
        await database.dispose()
    if message_id is not None and count == 0:
        raise NotRequeueable(f"message {message_id} does not exist or is not dead")
    return count
