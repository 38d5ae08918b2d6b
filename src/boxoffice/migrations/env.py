"""Alembic environment: runs migrations over the service's own async drivers."""

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import boxoffice.models  # noqa: F401  (registers every table with the metadata)
from boxoffice.core.config import Settings
from boxoffice.core.db import Base
from boxoffice.migrations import compare_type, include_object_for

# Serialises concurrent `boxoffice serve` start-ups on PostgreSQL: one migrates, the others wait.
_PG_MIGRATION_LOCK = 0x626F786F6666  # "boxoff"


def _database_url() -> str:
    url = context.config.attributes.get("database_url")
    return str(url) if url else Settings().database_url


def _record(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    """Alembic's ``on_version_apply``: note each revision applied, for ``upgrade_to_head``."""
    applied = context.config.attributes.get("applied")
    if applied is not None and step.is_upgrade:
        for script in step.up_revisions:
            if isinstance(script, Script):
                applied.append(f"{script.revision} ({' '.join(script.doc.split())})")


def _run(connection: Connection) -> None:
    context.configure(
        on_version_apply=_record,
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=compare_type,
        include_object=include_object_for(connection.dialect.name),
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    if connection.dialect.name == "mysql":
        # MariaDB/MySQL: the same serialisation with a named lock (held until this connection closes),
        # and every table created from here on in utf8mb4 with a binary collation, as text compares
        # on the other two databases (case- and accent-sensitive).
        connection.execute(text("SELECT GET_LOCK('boxoffice_migrate', 86400)"))
        connection.execute(text("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
