"""tickets: one per seat of a confirmed booking, signed codes, events' signing keys, check-ins and
check-in tokens

Existing events get their signing keys, and existing confirmed bookings their tickets.

Revision ID: 0009_tickets
Revises: 0008
Create Date: 2026-12-09 08:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db
from boxoffice.tickets import codes

revision: str = "0009_tickets"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 1000


def upgrade() -> None:
    op.create_table(
        "ticket_signing_key",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("private_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_ticket_signing_key_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_ticket_signing_key")),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=True),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum("valid", "cancelled", name="ticketstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'valid' AND cancelled_at IS NULL) OR (status = 'cancelled' AND cancelled_at IS NOT NULL)",
            name=op.f("ck_ticket_cancelled_at_matches_status"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_ticket_number_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_ticket_booking_id_booking"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_ticket_event_id_event"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_type.id"],
            name=op.f("fk_ticket_ticket_type_id_ticket_type"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket")),
        sa.UniqueConstraint("booking_id", "number", name=op.f("uq_ticket_booking_id_number")),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_event_id_status", ["event_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_ticket_type_id"), ["ticket_type_id"], unique=False)

    op.create_table(
        "checkin",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("active_key", sa.SmallInteger(), nullable=True),
        sa.Column("nonce", sa.String(length=100), nullable=True),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "by_kind",
            sa.Enum("user", "checkin_token", name="checkinby", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("by_id", sa.Uuid(), nullable=False),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "(active_key = 1 AND undone_at IS NULL) OR (active_key IS NULL AND undone_at IS NOT NULL)",
            name=op.f("ck_checkin_active_key_matches_undone"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_checkin_event_id_event"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_checkin_ticket_id_ticket"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin")),
        sa.UniqueConstraint("event_id", "nonce", name=op.f("uq_checkin_event_id_nonce")),
        sa.UniqueConstraint("ticket_id", "active_key", name=op.f("uq_checkin_ticket_id_active_key")),
    )
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkin_event_id_active_key_created_at",
            ["event_id", "active_key", "created_at"],
            unique=False,
        )

    op.create_table(
        "checkin_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_checkin_token_created_by_user_account"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_checkin_token_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_checkin_token_token_hash")),
    )
    with op.batch_alter_table("checkin_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkin_token_event_id_revoked_at", ["event_id", "revoked_at"], unique=False
        )

    _issue_existing()


def _issue_existing() -> None:
    """A signing key for every event, and for every confirmed booking its tickets, with codes of
    format 1 (tickets/codes.py keeps that format as it is for as long as codes of it exist)."""
    bind = op.get_bind()
    now = boxoffice.core.db.utcnow()
    event = sa.table("event", sa.column("id", sa.Uuid()))
    key = sa.table(
        "ticket_signing_key",
        sa.column("event_id", sa.Uuid()),
        sa.column("public_key", sa.LargeBinary()),
        sa.column("private_key", sa.LargeBinary()),
        sa.column("created_at", boxoffice.core.db.UTCDateTime()),
    )
    booking = sa.table(
        "booking",
        sa.column("id", sa.Uuid()),
        sa.column("event_id", sa.Uuid()),
        sa.column("ticket_type_id", sa.Uuid()),
        sa.column("quantity", sa.Integer()),
        sa.column("status", sa.String()),
    )
    ticket = sa.table(
        "ticket",
        sa.column("id", sa.Uuid()),
        sa.column("event_id", sa.Uuid()),
        sa.column("booking_id", sa.Uuid()),
        sa.column("ticket_type_id", sa.Uuid()),
        sa.column("number", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("status", sa.String()),
        sa.column("created_at", boxoffice.core.db.UTCDateTime()),
    )
    private_keys: dict[uuid.UUID, bytes] = {}
    for event_id in bind.execute(sa.select(event.c.id)).scalars().all():
        pair = codes.new_key_pair()
        private_keys[event_id] = pair.private_key
        bind.execute(
            key.insert().values(
                event_id=event_id, public_key=pair.public_key, private_key=pair.private_key, created_at=now
            )
        )
    confirmed = bind.execute(
        sa.select(booking.c.id, booking.c.event_id, booking.c.ticket_type_id, booking.c.quantity).where(
            booking.c.status == "confirmed"
        )
    ).all()
    rows: list[dict[str, object]] = []
    for booking_id, event_id, ticket_type_id, quantity in confirmed:
        for number in range(1, quantity + 1):
            ticket_id = uuid.uuid4()
            rows.append(
                {
                    "id": ticket_id,
                    "event_id": event_id,
                    "booking_id": booking_id,
                    "ticket_type_id": ticket_type_id,
                    "number": number,
                    "code": codes.new_code(private_keys[event_id], event_id, ticket_id),
                    "status": "valid",
                    "created_at": now,
                }
            )
            if len(rows) == _CHUNK:
                bind.execute(ticket.insert(), rows)
                rows = []
    if rows:
        bind.execute(ticket.insert(), rows)


def downgrade() -> None:
    op.drop_table("checkin_token")
    op.drop_table("checkin")
    op.drop_table("ticket")
    op.drop_table("ticket_signing_key")
