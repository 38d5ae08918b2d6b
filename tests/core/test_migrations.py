"""The schema comes from the migrations, and the migrations match the models."""

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from boxoffice.core.db import Base
from boxoffice.migrations import alembic_config, compare_type, include_object_for, upgrade_to_head


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": compare_type, "include_object": include_object_for(connection.dialect.name)},
    )
    return list(compare_metadata(context, Base.metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str, how: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(how)
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(database_url: str) -> None:
    assert await _inspect(database_url, _differences) == []


def test_migrations_go_from_empty_to_head_and_back(backend: str, empty_database_url: Any) -> None:
    url = empty_database_url(backend)
    upgrade_to_head(url)
    tables = asyncio.run(_inspect(url, _table_names))
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    command.downgrade(alembic_config(url), "base")
    assert asyncio.run(_inspect(url, _table_names)) <= {"alembic_version"}
    upgrade_to_head(url)
    assert asyncio.run(_inspect(url, _differences)) == []


def test_upgrading_twice_is_harmless(backend: str, empty_database_url: Any) -> None:
    url = empty_database_url(backend)
    upgrade_to_head(url)
    upgrade_to_head(url)
