"""waitlist: waiting-list entries, offers as holds, ticket types' line length, events' waitlist settings

Revision ID: 0010_waitlist
Revises: 0009_tickets
Create Date: 2026-12-09 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0010_waitlist"
down_revision: str | None = "0009_tickets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waitlist_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("waitlist_offer_hours", sa.Integer(), nullable=False, server_default="24")
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_event_waitlist_offer_hours"), "waitlist_offer_hours BETWEEN 1 AND 168"
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.alter_column("waitlist_enabled", server_default=None)
        batch_op.alter_column("waitlist_offer_hours", server_default=None)

    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint(batch_op.f("ck_ticket_type_waiting_not_negative"), "waiting >= 0")
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.alter_column("waiting", server_default=None)
        batch_op.create_index(
            "ix_ticket_type_waiting",
            ["id"],
            unique=False,
            postgresql_where=sa.text("waiting > 0"),
            sqlite_where=sa.text("waiting > 0"),
        )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "offered",
                "booked",
                "expired",
                "left",
                name="waitliststatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("active_key", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("offered_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status IN ('waiting', 'offered') AND active_key = 1) "
            "OR (status NOT IN ('waiting', 'offered') AND active_key IS NULL)",
            name=op.f("ck_waitlist_entry_active_key_matches_status"),
        ),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_waitlist_entry_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_waitlist_entry_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_type.id"],
            name=op.f("fk_waitlist_entry_ticket_type_id_ticket_type"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_waitlist_entry_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
        sa.UniqueConstraint(
            "event_id", "user_id", "active_key", name=op.f("uq_waitlist_entry_event_id_user_id_active_key")
        ),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_entry_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            "ix_waitlist_entry_line", ["ticket_type_id", "status", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_waitlist_entry_user_id_created_at", ["user_id", "created_at"], unique=False)

    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waitlist_entry_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_hold_waitlist_entry_id"), ["waitlist_entry_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_hold_waitlist_entry_id_waitlist_entry"),
            "waitlist_entry",
            ["waitlist_entry_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_hold_waitlist_entry_id_waitlist_entry"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_hold_waitlist_entry_id"), type_="unique")
        batch_op.drop_column("waitlist_entry_id")
    op.drop_table("waitlist_entry")
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_type_waiting")
        batch_op.drop_constraint(batch_op.f("ck_ticket_type_waiting_not_negative"), type_="check")
        batch_op.drop_column("waiting")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_event_waitlist_offer_hours"), type_="check")
        batch_op.drop_column("waitlist_offer_hours")
        batch_op.drop_column("waitlist_enabled")
