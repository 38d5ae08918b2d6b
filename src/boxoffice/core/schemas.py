"""The two bases every schema derives from (strict inputs, attribute-reading outputs), the text
type of free-text query parameters, and revenue per currency."""

import unicodedata
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    computed_field,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from boxoffice.core.types import LOCAL_TIME, MoneyOut, local_instant


def reject_nul(value: str) -> str:
    """NUL never belongs in text, and PostgreSQL cannot store it: a clear 422 instead of a 500."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


def _breaks_a_line(char: str) -> bool:
    # Cc: C0 and C1 controls (CR, LF, tab, U+0085 NEL, ...); Zl, Zp: U+2028 and U+2029.
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}


def reject_line_breaks(value: str) -> str:
    """A single-line field (a title, a name, a venue) holds no control or line-separator characters:
    they end up in email subjects and calendar files, where a line break is a new header."""
    if any(_breaks_a_line(char) for char in value):
        raise ValueError("must be a single line: no line breaks, tabs or other control characters")
    return value


def one_line(text: str) -> str:
    """Text made safe for a single-line place (a mail header): every control or separator becomes a
    space. For text stored before single-line fields were enforced."""
    return "".join(" " if _breaks_a_line(char) else char for char in text)


# The same rule for the OpenAPI document: no Cc (U+0000-U+001F, U+007F-U+009F), U+2028 or U+2029.
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


class _SingleLine:
    """Validates with ``reject_line_breaks`` and states the rule in the JSON schema as a pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(reject_line_breaks, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", SINGLE_LINE_PATTERN)
        return json_schema


SingleLine = _SingleLine()
"""Add to a text field's ``Annotated`` to make it single-line."""


class InputModel(BaseModel):
    """A request body: unknown fields are rejected (no mass assignment), strings are trimmed and may
    not contain NUL characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: Any) -> Any:
        return reject_nul(value) if isinstance(value, str) else value


class OutputModel(BaseModel):
    """A response body, built from ORM objects or dicts."""

    model_config = ConfigDict(from_attributes=True)


class LocalTimes(OutputModel):
    """An event's start and end in UTC, and beside them in the event's own time zone."""

    starts_at: datetime
    ends_at: datetime | None
    timezone: str

    @computed_field(description=LOCAL_TIME, examples=["2027-03-14T20:30:00+01:00"])  # type: ignore[prop-decorator]
    @property
    def starts_at_local(self) -> datetime:
        return self.starts_at.astimezone(ZoneInfo(self.timezone))

    @computed_field(description=LOCAL_TIME, examples=["2027-03-14T23:00:00+01:00"])  # type: ignore[prop-decorator]
    @property
    def ends_at_local(self) -> datetime | None:
        return local_instant(self.ends_at, self.timezone)


class Revenue(OutputModel):
    """Money taken in one currency: amounts in different currencies are never added up."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [{"currency": "EUR", "revenue": "117.48"}]}
    )

    currency: str
    revenue: MoneyOut


QueryText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(reject_nul)
]
"""A free-text query parameter (search words, a city): trimmed, bounded, no NUL."""
