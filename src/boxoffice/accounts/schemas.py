import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from boxoffice.core.schemas import InputModel, OutputModel, SingleLine
from boxoffice.models import Role

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def normalise_email(email: str) -> str:
    """Emails are case-insensitive: ``A@X.com`` and ``a@x.com`` are one account."""
    return email.strip().lower()


# The addresses accepted, as the OpenAPI document states them: plain ASCII, at most 64 characters
# before the @, a domain of letters, digits and hyphens under a letters-only top-level domain that is
# not reserved (RFC 6761: .test, .local, .localhost, .invalid, .onion, .arpa receive no mail).
EMAIL_PATTERN = (
    r"^(?=[^@]{1,64}@)[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?!(?:[Aa][Rr][Pp][Aa]|[Ii][Nn][Vv][Aa][Ll][Ii][Dd]|[Ll][Oo][Cc][Aa][Ll]|[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]"
    r"|[Oo][Nn][Ii][Oo][Nn]|[Tt][Ee][Ss][Tt])$)[A-Za-z]{2,63}$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address we can write to (such as ada@example.com)")
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error
    return normalise_email(value)


Email = Annotated[
    str,
    AfterValidator(_email),
    WithJsonSchema(
        {
            "type": "string",
            "format": "email",
            "maxLength": 254,
            "pattern": EMAIL_PATTERN,
            "examples": ["ada@example.com"],
        }
    ),
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


def _needs_current_password(field: str) -> dict[str, Any]:
    return {
        "if": {"required": [field], "properties": {field: {"type": "string"}}},
        "then": {"required": ["current_password"], "properties": {"current_password": {"type": "string"}}},
    }


class UserUpdate(InputModel):
    """Changing ``email`` or ``password`` takes ``current_password`` (the schema says so too)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "allOf": [_needs_current_password("email"), _needs_current_password("password")],
            "examples": [
                {
                    "full_name": "Ada King",
                    "email": "ada.king@example.com",
                    "current_password": "correct horse battery",
                }
            ],
        },
    )

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
