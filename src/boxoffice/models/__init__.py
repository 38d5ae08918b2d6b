"""Every table, one module each; importing this package registers them all with the metadata."""

from boxoffice.models.audit_entry import AuditEntry
from boxoffice.models.auth_session import AuthSession
from boxoffice.models.booking import ACTIVE, Booking, BookingStatus
from boxoffice.models.checkin import CHECKED_IN, CheckIn, CheckInBy
from boxoffice.models.checkin_token import CheckinToken
from boxoffice.models.event import LISTED, PUBLIC_STATUSES, Event, EventStatus
from boxoffice.models.hold import Hold, HoldStatus
from boxoffice.models.idempotency_key import IdempotencyKey
from boxoffice.models.outbox_message import OutboxMessage, OutboxStatus
from boxoffice.models.password_reset_token import PasswordResetToken
from boxoffice.models.ticket import Ticket, TicketStatus
from boxoffice.models.ticket_signing_key import TicketSigningKey
from boxoffice.models.ticket_type import TicketType
from boxoffice.models.user import Role, User
from boxoffice.models.waitlist_entry import WaitlistEntry, WaitlistStatus

__all__ = [
    "ACTIVE",
    "CHECKED_IN",
    "LISTED",
    "PUBLIC_STATUSES",
    "AuditEntry",
    "AuthSession",
    "Booking",
    "BookingStatus",
    "CheckIn",
    "CheckInBy",
    "CheckinToken",
    "Event",
    "EventStatus",
    "Hold",
    "HoldStatus",
    "IdempotencyKey",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordResetToken",
    "Role",
    "Ticket",
    "TicketSigningKey",
    "TicketStatus",
    "TicketType",
    "User",
    "WaitlistEntry",
    "WaitlistStatus",
]
