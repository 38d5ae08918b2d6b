"""What differs between the three supported databases (SQLite, PostgreSQL, MariaDB/MySQL), in one place.

The rest of the code asks this module instead of testing a dialect's name. The schema needs nothing
here: the one-active-row rules are unique constraints over a nullable ``active_key`` column that is
NULL once the row has ended (NULLs never collide on any of the three), CHECK constraints are enforced
by all three (MariaDB from 10.2, MySQL from 8.0.16), and ``UTCDateTime`` stores microseconds in UTC
everywhere. The differences that remain are in statements:

- an INSERT that leaves out rows colliding with a unique key: ``ON CONFLICT DO NOTHING`` on
  PostgreSQL and SQLite, ``INSERT IGNORE`` on MariaDB/MySQL;
- ``UPDATE ... RETURNING``, which MariaDB lacks: there the rows are locked and read first, then
  updated;
- the claim of an idempotency key (see ``bookings/repository.py``): a transaction-scoped advisory
  lock on PostgreSQL, a named lock on MariaDB/MySQL released when the connection goes back to its
  pool, and nothing on SQLite, which runs one writer at a time;
- row locks of a SELECT with a join: ``FOR UPDATE OF t`` locks only t's rows on PostgreSQL and MySQL 8;
  MariaDB has no ``OF`` and locks the joined rows too, so there the rows are locked first by a
  SELECT of their table alone (``locks_joined_rows``, ``lock_rows``) and then read with the join;
- which errors mean "run the request again" (``core/retry.py``): InnoDB resolves a deadlock by rolling
  back one of its transactions (1213) and gives up waiting for a row lock after a while (1205); its
  foreign-key checks share-lock parent rows, which PostgreSQL's do not (KEY SHARE), so it deadlocks
  where PostgreSQL does not. PostgreSQL's deadlock and serialisation failures are retried the same
  way.
"""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

MYSQL = "mysql"  # SQLAlchemy's name for MariaDB and MySQL alike
POSTGRESQL = "postgresql"
SQLITE = "sqlite"

# InnoDB's "Deadlock found when trying to get lock" and "Lock wait timeout exceeded"; PostgreSQL's
# deadlock_detected and serialization_failure.
_MYSQL_RETRYABLE = {1213, 1205}
_POSTGRES_RETRYABLE = {"40P01", "40001"}


def name_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_ignoring_duplicates(
    session: AsyncSession, table: Any, *, index_elements: Iterable[str] = ()
) -> Any:
    """An INSERT of ``table`` that leaves out any row colliding with a unique key (with
    ``index_elements``, on PostgreSQL and SQLite: only with that one). ``.returning(...)`` after it
    gives the rows that went in, on all three databases."""
    dialect = name_of(session)
    if dialect == MYSQL:
        return mysql.insert(table).prefix_with("IGNORE")
    construct = postgresql.insert if dialect == POSTGRESQL else sqlite.insert
    return construct(table).on_conflict_do_nothing(index_elements=list(index_elements) or None)


async def update_returning(
    session: AsyncSession,
    table: Table | Any,
    conditions: Iterable[Any],
    values: Mapping[str, Any],
    *returned: Any,
) -> list[Any]:
    """``UPDATE table SET values WHERE conditions RETURNING returned``: the rows it changed.

    Where the database has no ``UPDATE ... RETURNING`` (MariaDB), the rows are first read with
    ``FOR UPDATE`` (locked until the transaction ends, so the conditions still hold), then updated by
    primary key, then the returned columns are read again: the same rows and values, under the same
    locks, in three statements instead of one."""
    conditions = list(conditions)
    if session.get_bind().dialect.update_returning:
        statement = update(table).where(*conditions).values(**values).returning(*returned)
        return list((await session.execute(statement.execution_options(synchronize_session=False))).all())
    keys = list(_primary_key(table))
    locked = [
        row[0] for row in (await session.execute(select(*keys).where(*conditions).with_for_update())).all()
    ]
    if not locked:
        return []
    key = keys[0]
    await session.execute(
        update(table).where(key.in_(locked)).values(**values).execution_options(synchronize_session=False)
    )
    return list((await session.execute(select(*returned).where(key.in_(locked)))).all())


def _primary_key(table: Any) -> Any:
    mapped = getattr(table, "__table__", table)
    columns = list(mapped.primary_key.columns)
    if len(columns) != 1:
        raise TypeError("update_returning needs a table with a one-column primary key")
    return [getattr(table, columns[0].key) if hasattr(table, "__table__") else columns[0]]


def locks_joined_rows(session: AsyncSession) -> bool:
    """Whether a locking SELECT with a join locks the joined tables' rows too, whatever its ``OF``
    says (MariaDB). PostgreSQL and MySQL 8 lock only the tables named; SQLite locks no rows."""
    dialect = session.get_bind().dialect
    return dialect.name == MYSQL and not getattr(dialect, "supports_for_update_of", False)


async def lock_rows(
    session: AsyncSession, model: Any, *conditions: Any, read: bool = False, skip_locked: bool = False
) -> list[Any]:
    """Lock the rows of ``model`` that match, and only them (FOR UPDATE; with ``read`` FOR SHARE, with
    ``skip_locked`` leaving out rows locked by others); their primary keys."""
    [key] = _primary_key(model)
    query = select(key).where(*conditions).with_for_update(read=read, skip_locked=skip_locked)
    return list(await session.scalars(query))


def checks_lock_parents(session: AsyncSession) -> bool:
    """Whether a foreign-key check share-locks the row referred to, so that a transaction that
    inserts rows referring to a row and then updates it must lock it first (MariaDB/MySQL; see
    ``lock_before_referencing``)."""
    return name_of(session) == MYSQL


async def lock_before_referencing(session: AsyncSession, model: Any, key: Any) -> None:
    """Lock a row FOR UPDATE before inserting rows that refer to it, in a transaction that updates it
    afterwards (MariaDB/MySQL). InnoDB's foreign-key check share-locks the row referred to; two such
    transactions would each hold that share lock and wait for the other's to update the row: a
    deadlock. PostgreSQL's check takes a KEY SHARE lock, which an update of other columns does not
    wait for, so there this does nothing."""
    if checks_lock_parents(session):
        [column] = _primary_key(model)
        await lock_rows(session, model, column == key)


def _lock_name(owner: UUID, key: str) -> str:
    return "boxoffice:" + hashlib.sha256(f"{owner}:{key}".encode()).hexdigest()[:48]


def advisory_key(owner: UUID, key: str) -> int:
    digest = hashlib.sha256(f"{owner}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def try_transaction_lock(session: AsyncSession, owner: UUID, key: str) -> bool:
    """Take a lock named by (owner, key) for this transaction without waiting; False if another
    transaction holds it. PostgreSQL: an advisory transaction lock. MariaDB/MySQL: a named lock,
    released when the connection returns to its pool (``release_named_locks``), which the unit of
    work does as soon as the transaction ends. SQLite: always True (one writer at a time)."""
    dialect = name_of(session)
    if dialect == POSTGRESQL:
        statement = text("SELECT pg_try_advisory_xact_lock(:key)")
        return bool(await session.scalar(statement, {"key": advisory_key(owner, key)}))
    if dialect == MYSQL:
        return bool(await session.scalar(text("SELECT GET_LOCK(:name, 0)"), {"name": _lock_name(owner, key)}))
    return True


def release_named_locks(dbapi_connection: Any, *_: Any) -> None:
    """The pool's reset hook on MariaDB/MySQL: free the named locks a connection took
    (``try_transaction_lock``) before another checkout can use it."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("DO RELEASE_ALL_LOCKS()")
    finally:
        cursor.close()


def configure_mysql_connection(dbapi_connection: Any, _record: Any) -> None:
    """Every MariaDB/MySQL connection: utf8mb4 and UTC, whatever the server's defaults, and strict
    mode (a value that does not fit is an error, not a silent truncation)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET NAMES utf8mb4 COLLATE utf8mb4_bin")
        cursor.execute("SET time_zone = '+00:00'")
        cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')")
    finally:
        cursor.close()


def is_retryable(error: BaseException) -> bool:
    """Whether a database error means the transaction lost a lock conflict and may simply run again."""
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _POSTGRES_RETRYABLE:
        return True
    args: tuple[Any, ...] = tuple(getattr(error.orig, "args", ()))
    return bool(args) and args[0] in _MYSQL_RETRYABLE


def naive_datetimes(dialect: Dialect) -> bool:
    """Whether the database stores datetimes without a time zone (they are stored in UTC there)."""
    return dialect.name in {SQLITE, MYSQL}
