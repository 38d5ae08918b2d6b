"""Creating the first admin from the command line (admins are never created over HTTP)."""

from typing import TypeVar
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from boxoffice.accounts import service
from boxoffice.accounts.schemas import Email, FullName, NewPassword
from boxoffice.core.config import Settings
from boxoffice.core.db import create_database
from boxoffice.core.errors import EmailTaken
from boxoffice.core.security import Passwords
from boxoffice.models import Role

T = TypeVar("T")


class AdminSetupError(Exception):
    """The admin could not be created; the message says why, for the terminal."""


def _validated(adapter: TypeAdapter[T], value: str, field: str) -> T:
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        raise AdminSetupError(f"{field}: {error.errors()[0]['msg']}") from error


async def create_admin_account(settings: Settings, email: str, password: str, full_name: str) -> UUID:
    clean_email = _validated(TypeAdapter(Email), email, "email")
    clean_password = _validated(TypeAdapter(NewPassword), password, "password")
    clean_name = _validated(TypeAdapter(FullName), full_name, "full name")
    database = create_database(settings)
    try:
        async with database.unit_of_work() as session:
            user = await service.create_user(
                session,
                Passwords(settings),
                email=clean_email,
                password=clean_password,
                full_name=clean_name,
                role=Role.ADMIN,
            )
            return user.id
    except EmailTaken as error:
        raise AdminSetupError(f"an account with email {clean_email} already exists") from error
    finally:
        await database.dispose()
