"""CSV exports that spreadsheets open safely, with timestamps written as the JSON answers write them."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import TypeAdapter

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_INSTANT = TypeAdapter(datetime)


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


FormatQuery = Annotated[
    ExportFormat | None,
    Query(alias="format", description="`csv` for every row as CSV (as `Accept: text/csv` does)"),
]


def wants_csv(request: Request, chosen: ExportFormat | None) -> bool:
    """CSV when ``?format=csv`` asks for it, or, with no ``format``, when ``Accept`` names text/csv."""
    if chosen is not None:
        return chosen is ExportFormat.CSV
    return "text/csv" in request.headers.get("accept", "")


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula: such text is prefixed with ``'``.
    An instant is written as the JSON answers write it (RFC 3339 in UTC, ``Z``)."""
    if isinstance(value, datetime):
        return str(_INSTANT.dump_python(value, mode="json"))
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
