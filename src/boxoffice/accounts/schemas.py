from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from boxoffice.core.schemas import InputModel, OutputModel, SingleLine
from boxoffice.models import Role

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def normalise_email(email: str) -> str:
    """Emails are case-insensitive: ``A@X.com`` and ``a@x.com`` are one account."""
    return email.strip().lower()


Email = Annotated[
    EmailStr,
    Field(max_length=320, examples=["ada@example.com"]),
    AfterValidator(normalise_email),
]
NewPassword = Annotated[
    str,
    Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, examples=["correct horse battery"]),
]
# Any password a user could have; capped so nobody makes the server hash a megabyte.
GivenPassword = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]
FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    SingleLine,
    Field(examples=["Ada Lovelace"]),
]
Token = Annotated[str, Field(min_length=1, max_length=4096)]


class RegisterRequest(InputModel):
    email: Email
    password: NewPassword
    full_name: FullName
    role: Literal["attendee", "organizer"] = "attendee"


class LoginRequest(InputModel):
    email: Email
    password: GivenPassword


class RefreshRequest(InputModel):
    refresh_token: Token


class LogoutRequest(InputModel):
    refresh_token: Token | None = None


class UserUpdate(InputModel):
    full_name: FullName | None = None
    email: Email | None = None
    password: NewPassword | None = None
    current_password: GivenPassword | None = None


class UserRead(OutputModel):
    id: UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime


class TokenPair(OutputModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires", examples=[900])


class PasswordForgotRequest(InputModel):
    email: Email


class PasswordResetRequest(InputModel):
    token: Token
    new_password: NewPassword


class Accepted(OutputModel):
    detail: str
