"""holds: checkout holds, ticket types' held seats, events' hold time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held", sa.Integer(), nullable=False, server_default="0"))
        batch_op.drop_constraint(batch_op.f("ck_ticket_type_sold_within_capacity"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_ticket_type_held_not_negative"), "held >= 0")
        batch_op.create_check_constraint(
            batch_op.f("ck_ticket_type_sold_and_held_within_capacity"), "sold + held <= capacity"
        )
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.alter_column("held", server_default=None)

    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_minutes", sa.Integer(), nullable=False, server_default="10"))
        batch_op.create_check_constraint(
            batch_op.f("ck_event_hold_minutes"), "hold_minutes BETWEEN 1 AND 120"
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("hold_minutes", server_default=None)

    op.create_table(
        "hold",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active", "confirmed", "released", "expired", name="holdstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("active_key", sa.SmallInteger(), nullable=True),
        sa.Column("expires_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(status = 'active' AND active_key = 1) OR (status <> 'active' AND active_key IS NULL)",
            name=op.f("ck_hold_active_key_matches_status"),
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_hold_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_hold_booking_id_booking"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_hold_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_type.id"],
            name=op.f("fk_hold_ticket_type_id_ticket_type"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_hold_user_id_user_account"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold")),
        sa.UniqueConstraint(
            "event_id", "user_id", "active_key", name=op.f("uq_hold_event_id_user_id_active_key")
        ),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index("ix_hold_status_expires_at", ["status", "expires_at"], unique=False)
        batch_op.create_index(
            "ix_hold_event_id_status_expires_at", ["event_id", "status", "expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hold_ticket_type_id"), ["ticket_type_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_booking_id"), ["booking_id"], unique=False)


def downgrade() -> None:
    op.drop_table("hold")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_event_hold_minutes"), type_="check")
        batch_op.drop_column("hold_minutes")
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_ticket_type_sold_and_held_within_capacity"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_ticket_type_held_not_negative"), type_="check")
        batch_op.drop_column("held")
        batch_op.create_check_constraint(
            batch_op.f("ck_ticket_type_sold_within_capacity"), "sold <= capacity"
        )
