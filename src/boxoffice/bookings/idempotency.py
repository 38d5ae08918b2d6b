"""Idempotency keys: the same key from the same user with the same request within 24 hours gets the
first answer again and changes nothing.

A key is claimed, and its first answer stored, in the transaction that does the work, so a request
that fails (409, 422, 5xx) stores nothing and may be retried with the same key.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import repository
from boxoffice.core.db import utcnow
from boxoffice.core.errors import IdempotencyInProgress, IdempotencyKeyMismatch

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    """An answer given under an Idempotency-Key: the first one (``replayed=False``) or a repeat of it."""

    status: int
    body: Any
    replayed: bool


def request_hash(request: Mapping[str, Any]) -> str:
    """A fingerprint of what a request asks for, to tell a repeat from another request."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def in_progress() -> IdempotencyInProgress:
    return IdempotencyInProgress(
        "A request with this Idempotency-Key is still being processed; retry shortly."
    )


async def replay_or_claim(
    session: AsyncSession, user_id: UUID, key: str, fingerprint: str
) -> StoredResponse | None:
    """The first answer to replay for a repeat, or None once the key is claimed for this request. A
    request with the key still running raises 409 ``idempotency_in_progress``; the key used with
    another request raises 422 ``idempotency_key_mismatch``."""
    if not await repository.claim_idempotency_key(session, user_id, key):
        raise in_progress()
    remembered = await repository.remembered_response(session, user_id, key)
    if remembered is not None and remembered.created_at < utcnow() - WINDOW:
        await repository.forget_response(session, remembered)
        remembered = None
    if remembered is None:
        return None
    if remembered.request_hash != fingerprint:
        raise IdempotencyKeyMismatch("This Idempotency-Key was used with a different request body.")
    return StoredResponse(remembered.response_status, json.loads(remembered.response_body), replayed=True)


def remember(
    session: AsyncSession, user_id: UUID, key: str, fingerprint: str, status: int, body: Any
) -> StoredResponse:
    """Store the first answer (flushed with the rest of the transaction) and return it."""
    repository.remember_response(
        session, user_id=user_id, key=key, request_hash=fingerprint, status=status, body=json.dumps(body)
    )
    return StoredResponse(status, body, replayed=False)


async def forget_stale(session: AsyncSession, now: datetime) -> int:
    return await repository.purge_idempotency_keys(session, now - WINDOW)
