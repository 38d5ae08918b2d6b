"""catalogue: indexes for a search or a category within a city

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = sa.text("status IN ('published', 'cancelled') AND deleted_at IS NULL")
PARTIAL = {"postgresql_where": LISTED, "sqlite_where": LISTED}


def _trigram_index(name: str, columns: list[str]) -> None:
    op.create_index(
        name,
        "event",
        columns,
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
        postgresql_where=LISTED,
    )


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_listed_city_category", ["city_key", "category", "starts_at"], unique=False, **PARTIAL
        )
    if op.get_bind().dialect.name == "postgresql":
        # One GIN index over the city and the trigrams (btree_gin lets a GIN index hold the plain
        # city column): a search within a city intersects both inside the index, instead of
        # rechecking the text of every event in the city. It serves a search alone just as well.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.drop_index("ix_event_listed_search_trgm", table_name="event")
        _trigram_index("ix_event_listed_city_search_trgm", ["city_key", "search_text"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_event_listed_city_search_trgm", table_name="event")
        _trigram_index("ix_event_listed_search_trgm", ["search_text"])
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("ix_event_listed_city_category", **PARTIAL)
