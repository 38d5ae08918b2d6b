"""bookings and idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:27:01.460213
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_idempotency_key_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_key")),
    )
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_key_created_at"), ["created_at"], unique=False)

    op.create_table(
        "booking",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("confirmed", "cancelled", name="bookingstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("active_key", sa.SmallInteger(), nullable=True),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_email", sa.String(length=320), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("total_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "(status = 'confirmed' AND active_key = 1) OR (status = 'cancelled' AND active_key IS NULL)",
            name=op.f("ck_booking_active_key_matches_status"),
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_booking_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_booking_event_id_event"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_type.id"],
            name=op.f("fk_booking_ticket_type_id_ticket_type"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_booking_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("code", name=op.f("uq_booking_code")),
        sa.UniqueConstraint(
            "event_id", "user_id", "active_key", name=op.f("uq_booking_event_id_user_id_active_key")
        ),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_event_id_status", ["event_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_ticket_type_id"), ["ticket_type_id"], unique=False)
        batch_op.create_index("ix_booking_user_id_created_at", ["user_id", "created_at"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB/MySQL refuse to drop one that a foreign key uses).
    op.drop_table("booking")
    op.drop_table("idempotency_key")
