"""notifications: outbox, password reset, reminders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:33:07.935298
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "skipped", "dead", name="outboxstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "password_reset_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_password_reset_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_token_token_hash")),
    )
    with op.batch_alter_table("password_reset_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_reset_token_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_queued_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB/MySQL refuse to drop one that a foreign key uses).
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("reminder_queued_at")

    op.drop_table("password_reset_token")
    op.drop_table("outbox_message")
