import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.core.db import Base, UTCDateTime, utcnow


class CheckinToken(Base):
    """A door device's credential for one event: it may check tickets in, undo check-ins and read the
    event's check-in keys, nothing else. Only the SHA-256 of the token is stored; the token itself is
    shown once, when it is made. Revoking keeps the row (the audit trail names it)."""

    __tablename__ = "checkin_token"
    __table_args__ = (Index("ix_checkin_token_event_id_revoked_at", "event_id", "revoked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("event.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("user_account.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
