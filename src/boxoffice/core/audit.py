"""The audit trail: every security- and money-relevant action, written in the transaction of the
action itself (so a rolled-back action leaves no entry, and an entry never lacks its action).

The request's client address and id reach it through a context variable set by the request
middleware, so services record an action with one call and no plumbing.
"""

import json
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.models import AuditEntry, User


class Action(StrEnum):
    LOGIN_SUCCEEDED = "auth.login_succeeded"
    LOGIN_FAILED = "auth.login_failed"
    PASSWORD_CHANGED = "auth.password_changed"  # noqa: S105  (an action name, not a secret)
    PASSWORD_RESET = "auth.password_reset"  # noqa: S105  (an action name, not a secret)
    ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    EVENT_PUBLISHED = "event.published"
    EVENT_CANCELLED = "event.cancelled"
    EVENT_DELETED = "event.deleted"
    BOOKING_CREATED = "booking.created"
    BOOKING_CHANGED = "booking.changed"
    BOOKING_CANCELLED = "booking.cancelled"
    HOLD_RELEASED = "hold.released"
    CHECKIN_CREATED = "checkin.created"
    CHECKIN_UNDONE = "checkin.undone"
    CHECKIN_TOKEN_CREATED = "checkin_token.created"  # noqa: S105  (an action name, not a secret)
    CHECKIN_TOKEN_REVOKED = "checkin_token.revoked"  # noqa: S105  (an action name, not a secret)
    TICKET_RENAMED = "ticket.renamed"


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None
    request_id: str | None


_origin: ContextVar[RequestOrigin | None] = ContextVar("boxoffice_request_origin", default=None)


def current_origin() -> RequestOrigin | None:
    return _origin.get()


def set_origin(origin: RequestOrigin | None) -> object:
    return _origin.set(origin)


def reset_origin(token: object) -> None:
    _origin.reset(token)  # type: ignore[arg-type]


def record(
    session: AsyncSession,
    actor: User | UUID | None,
    action: Action,
    target_type: str,
    target_id: UUID | str | None,
    *,
    origin: RequestOrigin | Literal["current"] | None = "current",
    **details: Any,
) -> None:
    """Add an entry to the caller's transaction. ``origin`` is the current request's unless given
    (work done for a request in another task, see bookings/writer.py)."""
    if origin == "current":
        origin = _origin.get()
    session.add(
        AuditEntry(
            actor_id=actor.id if isinstance(actor, User) else actor,
            action=action.value,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            ip_address=origin.ip if origin else None,
            request_id=origin.request_id if origin else None,
            details=json.dumps(details, default=str, sort_keys=True),
        )
    )
