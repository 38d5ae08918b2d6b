"""Alembic migrations, shipped inside the package so ``boxoffice migrate`` works from a wheel."""

from pathlib import Path

from alembic import command
from alembic.config import Config

_HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> None:
    """Apply every pending migration. Blocking; call it where no event loop runs (or in a thread)."""
    command.upgrade(alembic_config(database_url), "head")
