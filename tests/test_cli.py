"""The `boxoffice` command: migrate, create-admin, openapi, and refusing to run misconfigured."""

import asyncio
import gc
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from boxoffice.cli import app
from boxoffice.core.config import Settings
from boxoffice.core.security import Passwords
from boxoffice.models import Booking, Event, User
from tests.conftest import make_settings
from tests.factories import unique_email

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = make_settings(database_url, tmp_path)
    for name, value in {
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_SECRET_KEY_FILE": str(tmp_path / "secret"),
        "BOXOFFICE_PASSWORD_HASH_TIME_COST": "1",
        "BOXOFFICE_PASSWORD_HASH_MEMORY_KIB": "1024",
        "BOXOFFICE_PASSWORD_HASH_PARALLELISM": "1",
        "BOXOFFICE_LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BOXOFFICE_ADMIN_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    return settings


def _stored_user(settings: Settings, email: str) -> User | None:
    async def fetch() -> User | None:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.connect() as connection:
                row = (await connection.execute(select(User).where(User.email == email))).first()
                return User(**row._mapping) if row else None
        finally:
            await engine.dispose()

    return asyncio.run(fetch())


def _password_matches(settings: Settings, password: str, password_hash: str) -> bool:
    return asyncio.run(Passwords(settings).verify(password, password_hash))


def test_create_admin_makes_an_active_admin(cli_env: Settings) -> None:
    email = unique_email("root")
    result = runner.invoke(app, ["create-admin", "--email", email, "--password", "admin-password-1"])
    assert result.exit_code == 0, result.output
    assert f"admin {email} created" in result.output
    user = _stored_user(cli_env, email)
    assert user is not None
    assert user.role == "admin"
    assert user.is_active
    assert _password_matches(cli_env, "admin-password-1", user.password_hash)


def test_create_admin_twice_refuses_and_changes_nothing(cli_env: Settings) -> None:
    email = unique_email("root")
    assert (
        runner.invoke(app, ["create-admin", "--email", email, "--password", "first-password"]).exit_code == 0
    )
    second = runner.invoke(app, ["create-admin", "--email", email.upper(), "--password", "second-password"])
    assert second.exit_code == 1
    assert "already exists" in second.output
    user = _stored_user(cli_env, email)
    assert user is not None
    assert _password_matches(cli_env, "first-password", user.password_hash)


def test_create_admin_reads_the_password_from_the_environment(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_ADMIN_PASSWORD", "from-the-environment")
    email = unique_email("root")
    assert runner.invoke(app, ["create-admin", "--email", email]).exit_code == 0
    user = _stored_user(cli_env, email)
    assert user is not None
    assert _password_matches(cli_env, "from-the-environment", user.password_hash)


def test_create_admin_prompts_for_the_password(cli_env: Settings) -> None:
    email = unique_email("root")
    result = runner.invoke(app, ["create-admin", "--email", email], input="typed-password\ntyped-password\n")
    assert result.exit_code == 0, result.output
    user = _stored_user(cli_env, email)
    assert user is not None
    assert _password_matches(cli_env, "typed-password", user.password_hash)


@pytest.mark.parametrize(
    ("email", "password"), [("not-an-email", "long-enough-pw"), ("ok@example.com", "short")]
)
def test_create_admin_rejects_bad_input(cli_env: Settings, email: str, password: str) -> None:
    result = runner.invoke(app, ["create-admin", "--email", email, "--password", password])
    assert result.exit_code == 1
    assert "error:" in result.output


def test_migrate_brings_the_database_to_head(cli_env: Settings) -> None:
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "database is up to date (0 migrations applied)" in result.output


def test_migrate_names_each_revision_it_applies(
    cli_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    applied = [line.split()[2] for line in result.output.splitlines() if line.startswith("applied migration")]
    assert applied[0] == "0001"
    assert applied[-1] == "0010_waitlist"
    assert applied == sorted(applied)
    assert f"({len(applied)} migrations applied)" in result.output
    again = runner.invoke(app, ["migrate"])
    assert "applied migration" not in again.output


def test_openapi_prints_the_document(cli_env: Settings) -> None:
    result = runner.invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert "/api/v1/auth/login" in json.loads(result.output)["paths"]


@pytest.mark.parametrize("key", [None, "changeme", "too-short-for-production"])
def test_production_refuses_to_start_without_a_real_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOXOFFICE_ENV", "production")
    if key is None:
        monkeypatch.delenv("BOXOFFICE_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("BOXOFFICE_SECRET_KEY", key)
    result = runner.invoke(app, ["serve", "--no-migrate"])
    assert result.exit_code == 2
    assert "BOXOFFICE_SECRET_KEY" in result.output
    assert not (tmp_path / "boxoffice.db").exists()


def test_production_starts_with_a_real_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_ENV", "production")
    monkeypatch.setenv("BOXOFFICE_SECRET_KEY", "k" * 48)
    assert Settings(_env_file=None).signing_key == "k" * 48  # type: ignore[call-arg]


def test_the_development_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "secret"
    first = Settings(_env_file=None, secret_key_file=key_file).signing_key  # type: ignore[call-arg]
    second = Settings(_env_file=None, secret_key_file=key_file).signing_key  # type: ignore[call-arg]
    assert first == second
    assert len(first) >= 32
    assert key_file.stat().st_mode & 0o077 == 0


def test_demo_fills_an_empty_database_and_refuses_a_second_time(
    backend: str, empty_database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = empty_database_url(backend)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    monkeypatch.setenv("BOXOFFICE_PASSWORD_HASH_MEMORY_KIB", "1024")
    monkeypatch.setenv("BOXOFFICE_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.chdir(tmp_path)

    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "nadia@demo.boxoffice" in first.output
    assert "demo-password" in first.output

    async def catalogue_size() -> tuple[int, int]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                events = await connection.scalar(
                    select(func.count()).select_from(Event).where(Event.status == "published")
                )
                bookings = await connection.scalar(select(func.count()).select_from(Booking))
                return int(events or 0), int(bookings or 0)
        finally:
            await engine.dispose()

    events, bookings = asyncio.run(catalogue_size())
    assert events >= 5
    assert bookings >= 5

    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 1
    assert "already has accounts" in second.output
    assert "demo --reset" in second.output
    assert asyncio.run(catalogue_size()) == (events, bookings)

    declined = runner.invoke(app, ["demo", "--reset"], input="n\n")
    assert declined.exit_code == 1
    assert "Delete ALL data" in declined.output
    assert "nothing deleted" in declined.output
    assert asyncio.run(catalogue_size()) == (events, bookings)

    confirmed = runner.invoke(app, ["demo", "--reset"], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert "nadia@demo.boxoffice" in confirmed.output
    assert asyncio.run(catalogue_size()) == (events, bookings)  # the same demo again, not twice

    unasked = runner.invoke(app, ["demo", "--reset", "--yes"])
    assert unasked.exit_code == 0, unasked.output
    assert "Delete ALL data" not in unasked.output
    assert asyncio.run(catalogue_size()) == (events, bookings)


def test_the_served_app_keeps_its_startup_objects_out_of_the_collectors_sight(cli_env: Settings) -> None:
    from boxoffice.app import create_served_app

    gc.unfreeze()
    try:
        create_served_app()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
