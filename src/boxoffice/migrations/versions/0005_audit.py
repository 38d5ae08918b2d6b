"""audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 07:39:58.109286
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target_type", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_action_created_at", ["action", "created_at"], unique=False)
        batch_op.create_index("ix_audit_entry_actor_id_created_at", ["actor_id", "created_at"], unique=False)
        batch_op.create_index("ix_audit_entry_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_audit_entry_target", ["target_type", "target_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB/MySQL refuse to drop one that a foreign key uses).
    op.drop_table("audit_entry")
