import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.core.db import Base, UTCDateTime, utcnow


class TicketSigningKey(Base):
    """An event's Ed25519 key pair: the private key signs its tickets' codes, the public key lets a
    scanner verify them offline. Made with the event and never changed (docs/tickets.md)."""

    __tablename__ = "ticket_signing_key"

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
