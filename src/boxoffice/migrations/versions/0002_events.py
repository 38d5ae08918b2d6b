"""events and ticket types

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:25:43.869802
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import boxoffice.core.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("starts_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "cancelled", name="eventstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("max_tickets_per_booking", sa.Integer(), nullable=False),
        sa.Column("sales_start_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sales_end_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=1000), nullable=True),
        sa.Column("city_key", sa.String(length=100), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", boxoffice.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "max_tickets_per_booking BETWEEN 1 AND 50", name=op.f("ck_event_max_tickets_per_booking")
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["user_account.id"],
            name=op.f("fk_event_organizer_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_catalogue", ["status", "starts_at"], unique=False)
        batch_op.create_index("ix_event_category_starts_at", ["category", "starts_at"], unique=False)
        batch_op.create_index("ix_event_city_key_starts_at", ["city_key", "starts_at"], unique=False)
        batch_op.create_index("ix_event_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_event_organizer_id_created_at", ["organizer_id", "created_at"], unique=False
        )

    op.create_table(
        "ticket_type",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("price >= 0", name=op.f("ck_ticket_type_price_not_negative")),
        sa.CheckConstraint("sold <= capacity", name=op.f("ck_ticket_type_sold_within_capacity")),
        sa.CheckConstraint("sold >= 0", name=op.f("ck_ticket_type_sold_not_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_ticket_type_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_type")),
        sa.UniqueConstraint("event_id", "name", name=op.f("uq_ticket_type_event_id_name")),
    )
    with op.batch_alter_table("ticket_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_type_event_id"), ["event_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Substring search (q) stays an index scan at 100,000 events: a trigram index.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            "ix_event_search_text_trgm",
            "event",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade() -> None:
    # Dropping a table drops its indexes (MariaDB/MySQL refuse to drop one that a foreign key uses).
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_event_search_text_trgm", table_name="event")
    op.drop_table("ticket_type")
    op.drop_table("event")
