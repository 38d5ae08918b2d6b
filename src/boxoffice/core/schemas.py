"""The two bases every schema derives from (strict inputs, attribute-reading outputs), and the text
type of free-text query parameters."""

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator


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


SingleLine = AfterValidator(reject_line_breaks)
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


QueryText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(reject_nul)
]
"""A free-text query parameter (search words, a city): trimmed, bounded, no NUL."""
