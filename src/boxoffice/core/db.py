"""Engine, sessions and the column types every model shares.

SQLite is the zero-configuration default. It runs in WAL mode with a busy timeout and foreign keys on,
and write transactions start with ``BEGIN IMMEDIATE`` so that concurrent writers queue for the lock
instead of failing half-way with "database is locked".
"""

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, CursorResult, Dialect, Result, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable, Select
from sqlalchemy.types import TypeDecorator

from boxoffice.core import dialects
from boxoffice.core.config import Settings
from boxoffice.core.errors import DomainError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "boxoffice_sqlite_immediate"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC on every backend and always returned aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        # MariaDB/MySQL keep whole seconds unless told otherwise: microseconds, as the others store.
        if dialect.name == dialects.MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialects.naive_datetimes(dialect) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Database:
    """The engines and two session factories: one for reads, one for writes.

    On PostgreSQL reads run in autocommit on a pool of their own (``read_engine``). On SQLite there is
    one engine, and the writer's transactions begin IMMEDIATE.
    """

    engine: AsyncEngine
    read_engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    single_statement: AsyncEngine
    read_rows_gate: asyncio.Semaphore

    @property
    def closes_in_place(self) -> bool:
        """Whether a session or connection with no transaction open closes without waiting.

        SQLAlchemy's ``async with`` closes in a task of its own, so that a cancelled caller cannot
        abandon the close halfway, and that task costs a full turn of the event loop: under load, a
        large share of a short request's latency (docs/benchmark.md). On PostgreSQL such a close has
        nothing to roll back and never waits, so it cannot be cut short and is done in place. On
        SQLite the connection is rolled back on its way to the pool, through the driver's thread, so
        SQLAlchemy's way is kept there.
        """
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        """A session of ``factory`` (``reader`` or ``writer``), closed when the block ends. The block
        commits or rolls back before it ends (see ``closes_in_place``)."""
        session = factory()
        if not self.closes_in_place:
            async with session:
                yield session
            return
        try:
            yield session
        finally:
            await session.close()

    @asynccontextmanager
    async def unit_of_work(
        self, factory: async_sessionmaker[AsyncSession] | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block succeeds and rolls back when it fails:
        the one place anything commits (requests through ``deps.SessionDep``, the booking writer, the
        worker, the CLI). A ``DomainError`` that ``keeps_changes`` (a spent refresh token that must
        stay revoked, a failed login that must stay audited) commits before it propagates. The
        ``writer`` factory unless another is given."""
        async with self.session(factory or self.writer) as session:
            try:
                yield session
            except DomainError as error:
                if error.keeps_changes:
                    await session.commit()
                else:
                    await session.rollback()
                raise
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()

    async def execute_alone(self, statement: Executable) -> int:
        """Run one write statement as a transaction of its own and return the rows it touched.

        On PostgreSQL it runs in autocommit (one round trip instead of BEGIN, statement, COMMIT); a
        single statement is atomic either way. On SQLite it is a short ``BEGIN IMMEDIATE`` transaction.
        """
        async with self.single_statement.begin() as connection:
            return int(cast(CursorResult[Any], await connection.execute(statement)).rowcount)

    async def read_rows(
        self, statement: Select[Any], values: Mapping[str, Any], *, session: AsyncSession | None = None
    ) -> Sequence[Sequence[Any]]:
        """The rows of a SELECT: the path of the catalogue's reads.

        On PostgreSQL the statement is compiled once and run straight on asyncpg, which keeps it
        prepared on each connection: no SQLAlchemy work per execution or per row (docs/benchmark.md).
        Values are then passed to the driver as they are, so they must be of its own types (str, int,
        UUID, aware datetime), and columns come back as it decodes them, which for this schema is what
        SQLAlchemy would return. Elsewhere the statement runs through SQLAlchemy.

        Without a ``session`` the read needs no unit of work: it runs on a pooled read connection of its
        own, closed in place (``closes_in_place``), and at most ``CATALOGUE_READ_CONCURRENCY`` such
        reads run at once in a process; the rest wait in arrival order, holding nothing. Letting every
        request in flight into the database at once made the catalogue's latency both higher and far
        more uneven under load (docs/benchmark.md). A request that holds a session reads on its
        session's connection instead, and never waits at the gate: holding one connection while
        waiting for another could leave every connection held by a waiter.
        """
        if session is not None:
            return await self._read_on(await session.connection(), statement, values)
        async with self.read_rows_gate:
            if self.read_engine.dialect.name != "postgresql":
                async with self.read_engine.connect() as connection:
                    return await self._read_on(connection, statement, values)
            connection = await self.read_engine.connect()
            try:
                return await self._read_on(connection, statement, values)
            finally:
                await connection.close()  # autocommit: nothing to roll back, never waits

    @staticmethod
    async def _read_on(
        connection: AsyncConnection, statement: Select[Any], values: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        if connection.dialect.name != "postgresql":
            return cast(Sequence[Sequence[Any]], (await connection.execute(statement, values)).all())
        sql, names = _compiled(statement, connection.dialect)
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        try:
            return cast(Sequence[Sequence[Any]], await driver.fetch(sql, *(values[name] for name in names)))
        except BaseException:
            # SQLAlchemy never saw this error, so it cannot tell that the connection is gone (a
            # restarted or failed-over server): without this the dead connection would go back to
            # the pool and fail every read it is given.
            if driver.is_closed():
                await connection.invalidate()
            raise

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def create_database(settings: Settings) -> Database:
    if settings.is_sqlite:
        engine = _create_sqlite_engine(settings)
        return Database(
            engine=engine,
            read_engine=engine,
            reader=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
            writer=async_sessionmaker(
                engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False, autoflush=False
            ),
            single_statement=engine.execution_options(**{_IMMEDIATE: True}),
            read_rows_gate=asyncio.Semaphore(settings.catalogue_read_concurrency),
        )
    if _dialect_name(settings) == dialects.MYSQL:
        return _create_mysql_database(settings)
    # Two pools: one for writes, and one for reads in autocommit (a read needs no transaction of its
    # own: no BEGIN and COMMIT round trips for each GET). Separate pools mean a flood of reads (the
    # catalogue, or the checks of a flash sale's refused bookings) never makes a write wait for a
    # connection while it holds its event's place in the booking writer.
    engine = _create_server_engine(settings, settings.db_write_pool_size)
    read_engine = _create_server_engine(settings, settings.db_read_pool_size, isolation_level="AUTOCOMMIT")
    return Database(
        engine=engine,
        read_engine=read_engine,
        reader=async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False),
        writer=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        single_statement=read_engine,
        read_rows_gate=asyncio.Semaphore(settings.catalogue_read_concurrency),
    )


def _dialect_name(settings: Settings) -> str:
    return make_url(settings.database_url).get_dialect().name


def _create_mysql_database(settings: Settings) -> Database:
    """MariaDB/MySQL: two pools as on PostgreSQL. Writes run under READ COMMITTED, PostgreSQL's
    default and what the service's conditional statements are written for (InnoDB's default,
    REPEATABLE READ, would read a snapshot older than the rows a statement waited for)."""
    engine = _create_server_engine(settings, settings.db_write_pool_size, isolation_level="READ COMMITTED")
    read_engine = _create_server_engine(settings, settings.db_read_pool_size, isolation_level="AUTOCOMMIT")
    for each in (engine, read_engine):
        event.listen(each.sync_engine, "connect", dialects.configure_mysql_connection)
        event.listen(each.sync_engine.pool, "reset", dialects.release_named_locks)
    return Database(
        engine=engine,
        read_engine=read_engine,
        reader=async_sessionmaker(read_engine, expire_on_commit=False, autoflush=False),
        writer=async_sessionmaker(engine, expire_on_commit=False, autoflush=False),
        single_statement=read_engine,
        read_rows_gate=asyncio.Semaphore(settings.catalogue_read_concurrency),
    )


@cache
def _compiled(statement: Select[Any], dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """A statement's SQL for the driver and the names of its parameters in order. Statements run this
    way are built once (module constants or cached builders), so each is compiled once."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ())


def _create_server_engine(settings: Settings, pool_size: int, **options: Any) -> AsyncEngine:
    """An engine of a database server (PostgreSQL, MariaDB/MySQL)."""
    return create_async_engine(
        settings.database_url,
        # Connections are opened as needed and kept. Overflow connections, opened and closed as load
        # comes and goes, cost PostgreSQL a new backend each time: measured as the biggest single cost
        # under load (see docs/benchmark.md), so the default overflow is 0.
        pool_size=pool_size,
        max_overflow=settings.db_max_overflow,
        # No pre-ping (a round trip per request); connections are recycled and a dropped one is
        # discarded when it fails.
        pool_recycle=1800,
        **options,
    )


def _create_sqlite_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.database_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )
    event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    event.listen(engine.sync_engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _begin_sqlite_transaction).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def violates_unique(error: Exception, constraint: str, sqlite_columns: str) -> bool:
    """Whether an IntegrityError comes from one particular unique constraint.

    PostgreSQL and MariaDB/MySQL name the constraint; SQLite names the columns (``table.column, ...``).
    """
    message = str(getattr(error, "orig", error))
    return constraint in message or f"UNIQUE constraint failed: {sqlite_columns}" in message


def contains(expression: Any, needle: Any) -> Any:
    """A case-insensitive substring test in which ``%``, ``_`` and ``\\`` in user input are literal:
    user input is never a pattern. ``expression`` must already be lower-cased (a case-folded column,
    or ``func.lower(column)``). ``needle`` is the user's text, or a bound parameter whose value is
    made by ``substring_pattern``."""
    pattern = substring_pattern(needle) if isinstance(needle, str) else needle
    return expression.like(pattern, escape="\\")


def substring_pattern(needle: str) -> str:
    """The LIKE pattern of ``contains``: the case-folded text, escaped, between wildcards."""
    escaped = needle.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched: how conditional statements tell who won."""
    return int(cast(CursorResult[Any], result).rowcount)
