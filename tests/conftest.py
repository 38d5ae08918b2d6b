"""Database and client fixtures.

Every test that uses the ``app`` or ``client`` fixture runs once per database backend: SQLite always,
PostgreSQL when ``BOXOFFICE_TEST_POSTGRES_URL`` is set and MariaDB/MySQL when
``BOXOFFICE_TEST_MARIADB_URL`` is set (under ``CI=true`` both must be, and a server that does not answer
fails the run; otherwise a MariaDB/MySQL server that does not answer skips its tests, naming the
setting). Each backend gets a fresh database per run, built by the Alembic migrations; tables are
emptied before each test.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncmy
import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from boxoffice.app import create_app
from boxoffice.core.config import Settings
from boxoffice.core.db import Base
from boxoffice.migrations import upgrade_to_head
from tests.browser import browser  # noqa: F401  (the shared Chromium, for any test that needs one)

POSTGRES_URL = os.environ.get("BOXOFFICE_TEST_POSTGRES_URL", "")
MARIADB_URL = os.environ.get("BOXOFFICE_TEST_MARIADB_URL", "")
REDIS_URL = os.environ.get("BOXOFFICE_TEST_REDIS_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else []) + (["mariadb"] if MARIADB_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true but BOXOFFICE_TEST_POSTGRES_URL is not set")
    if IN_CI and not MARIADB_URL:
        raise pytest.UsageError("CI=true but BOXOFFICE_TEST_MARIADB_URL is not set")
    if IN_CI and not REDIS_URL:
        raise pytest.UsageError("CI=true but BOXOFFICE_TEST_REDIS_URL is not set")


def pytest_report_header() -> str:
    redis = REDIS_URL or "not set (BOXOFFICE_TEST_REDIS_URL); shared-limit tests use Redis only when set"
    mariadb = "" if MARIADB_URL else " (set BOXOFFICE_TEST_MARIADB_URL to add MariaDB/MySQL)"
    return f"boxoffice test databases: {', '.join(BACKENDS)}{mariadb}; redis: {redis}"


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test app: cheap Argon2 parameters, quiet JSON logs, a throwaway key file, no
    in-process worker and no rate limits (the tests of those switch them on)."""
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-signing-key-" + "x" * 32,
        "secret_key_file": tmp_path / "secret",
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        "password_hash_parallelism": 1,
        "log_level": "WARNING",
        "log_format": "json",
        "run_worker": False,
        "rate_limits_enabled": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _postgres_admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def fresh_postgres_database() -> Iterator[Any]:
    """A factory of fresh, empty PostgreSQL databases, all dropped at the end of the run."""
    created: list[str] = []

    def make() -> str:
        name = f"boxoffice_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_postgres_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in created:
        asyncio.run(_postgres_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _mariadb_admin(url: str, statement: str) -> None:
    parts = make_url(url)
    connection = await asyncmy.connect(
        host=parts.host or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        charset="utf8mb4",
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture(scope="session")
def fresh_mariadb_database() -> Iterator[Any]:
    """A factory of fresh, empty MariaDB/MySQL databases (utf8mb4), all dropped at the end of the run.
    A server that does not answer skips the MariaDB tests, or fails them under ``CI=true``."""
    created: list[str] = []

    def make() -> str:
        name = f"boxoffice_test_{uuid.uuid4().hex[:12]}"
        statement = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        try:
            asyncio.run(_mariadb_admin(MARIADB_URL, statement))
        except (OSError, asyncmy.errors.OperationalError) as error:
            if IN_CI:
                raise
            pytest.skip(f"no MariaDB/MySQL at BOXOFFICE_TEST_MARIADB_URL ({error})")
        created.append(name)
        return make_url(MARIADB_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in created:
        asyncio.run(_mariadb_admin(MARIADB_URL, f"DROP DATABASE IF EXISTS `{name}`"))


@pytest.fixture(scope="session")
def empty_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A factory of URLs of empty databases of a given backend."""

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'boxoffice.db'}"
        fixture = "fresh_mariadb_database" if backend == "mariadb" else "fresh_postgres_database"
        return str(request.getfixturevalue(fixture)())

    return make


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, empty_database_url: Any) -> str:
    """The run's database of the current backend, migrated to head once."""
    url = str(empty_database_url(backend))
    upgrade_to_head(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with application.state.database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(delete(table))
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http
