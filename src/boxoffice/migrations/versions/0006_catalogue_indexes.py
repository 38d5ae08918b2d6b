"""catalogue: partial indexes over listed events

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("status IN ('published', 'cancelled') AND deleted_at IS NULL")
PARTIAL = {"postgresql_where": LISTED, "sqlite_where": LISTED}


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_catalogue")
        batch_op.drop_index("ix_event_city_key_starts_at")
        batch_op.drop_index("ix_event_category_starts_at")
        batch_op.drop_index("ix_event_created_at")
        batch_op.create_index("ix_event_listed_starts_at", ["starts_at", "id"], unique=False, **PARTIAL)
        batch_op.create_index("ix_event_listed_city", ["city_key", "starts_at"], unique=False, **PARTIAL)
        batch_op.create_index("ix_event_listed_category", ["category", "starts_at"], unique=False, **PARTIAL)
        batch_op.create_index("ix_event_listed_created_at", ["created_at", "id"], unique=False, **PARTIAL)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_event_search_text_trgm", table_name="event")
        op.create_index(
            "ix_event_listed_search_trgm",
            "event",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_where=LISTED,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_event_listed_search_trgm", table_name="event")
        op.create_index(
            "ix_event_search_text_trgm",
            "event",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_listed_created_at", **PARTIAL)
        batch_op.drop_index("ix_event_listed_category", **PARTIAL)
        batch_op.drop_index("ix_event_listed_city", **PARTIAL)
        batch_op.drop_index("ix_event_listed_starts_at", **PARTIAL)
        batch_op.create_index("ix_event_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_event_category_starts_at", ["category", "starts_at"], unique=False)
        batch_op.create_index("ix_event_city_key_starts_at", ["city_key", "starts_at"], unique=False)
        batch_op.create_index("ix_event_catalogue", ["status", "starts_at"], unique=False)
