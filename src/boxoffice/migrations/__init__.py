"""Alembic migrations, shipped inside the package so ``boxoffice migrate`` works from a wheel."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import LargeBinary
from sqlalchemy.dialects import mysql

_HERE = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str) -> list[str]:
    """Apply every pending migration; return those applied, oldest first, as "revision description".
    Blocking; call it where no event loop runs (or in a thread)."""
    config = alembic_config(database_url)
    applied: list[str] = []
    config.attributes["applied"] = applied
    command.upgrade(config, "head")
    return applied


def include_object_for(dialect_name: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` hook: leave out schema items meant for another backend only
    (such as PostgreSQL's trigram index, declared with ``ddl_if(dialect="postgresql")``)."""

    def include(item: Any, _name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        ddl_if = getattr(item, "_ddl_if", None)
        if type_ != "index" or ddl_if is None or ddl_if.dialect is None:
            return True
        dialects = (ddl_if.dialect,) if isinstance(ddl_if.dialect, str) else tuple(ddl_if.dialect)
        return dialect_name in dialects

    return include


def compare_type(
    context: Any, _inspected_column: Any, _metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Alembic's ``compare_type`` hook: its own comparison (None), except that a short binary column,
    which MariaDB/MySQL store as TINYBLOB, is the ``LargeBinary(n)`` of the model."""
    if context.dialect.name == "mysql" and isinstance(metadata_type, LargeBinary):
        return not isinstance(inspected_type, LargeBinary | mysql.TINYBLOB)
    return None
