"""The one error model: domain exceptions, mapped once to RFC 9457 ``application/problem+json``.

Services raise these; nothing above a repository sees a driver exception, and no service raises
``HTTPException``. Each class carries the stable ``code`` of the API contract.
"""

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from boxoffice.core.json_body import allowed_methods

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    # Whether the unit of work commits before the error is answered (a spent session that must stay
    # revoked, a failed login that must stay audited); the default throws every change away.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    @property
    def headers(self) -> dict[str, str]:
        return {}


class NotAuthenticated(DomainError):
    status, code, title = 401, "not_authenticated", "Not authenticated"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class InvalidCredentials(NotAuthenticated):
    code, title = "invalid_credentials", "Invalid credentials"
    keeps_changes = True


class WrongCurrentPassword(DomainError):
    status, code, title = 403, "invalid_credentials", "Wrong current password"


class AccountDisabled(DomainError):
    status, code, title = 403, "account_disabled", "Account disabled"
    keeps_changes = True


class TokenInvalid(NotAuthenticated):
    code, title = "token_invalid", "Invalid token"


class TokenReused(NotAuthenticated):
    code, title = "token_reused", "Refresh token reused"
    keeps_changes = True


class ResetTokenInvalid(DomainError):
    status, code, title = 400, "token_invalid", "Invalid or expired token"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class EmailTaken(Conflict):
    code, title = "email_taken", "Email already registered"


class CannotModifySelf(Conflict):
    code, title = "cannot_modify_self", "Cannot modify yourself"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "Invalid status transition"


class CapacityBelowSold(Conflict):
    code, title = "capacity_below_sold", "Capacity below tickets sold"


class HasSales(Conflict):
    code, title = "has_sales", "Ticket type has sales"


class SoldOut(Conflict):
    code, title = "sold_out", "Sold out"


class AlreadyBooked(Conflict):
    code, title = "already_booked", "Already booked"


class AlreadyCancelled(Conflict):
    code, title = "already_cancelled", "Already cancelled"


class EventNotBookable(Conflict):
    code, title = "event_not_bookable", "Event not bookable"


class EventStarted(Conflict):
    code, title = "event_started", "Event already started"


class HoldExpired(Conflict):
    code, title = "hold_expired", "Hold expired"


class HoldLimit(Conflict):
    code, title = "hold_limit", "Hold limit reached"


class AlreadyCheckedIn(Conflict):
    code, title = "already_checked_in", "Already checked in"


class TicketCancelled(Conflict):
    code, title = "ticket_cancelled", "Ticket cancelled"


class AlreadyWaiting(Conflict):
    code, title = "already_waiting", "Already waiting"


class TicketsAvailable(Conflict):
    code, title = "tickets_available", "Tickets available"


class IdempotencyInProgress(Conflict):
    code, title = "idempotency_in_progress", "Request with this key in progress"


class IdempotencyKeyMismatch(DomainError):
    status, code, title = (
        422,
        "idempotency_key_mismatch",
        "Idempotency key reused with another body",
    )


class RuleViolation(DomainError):
    """A well-formed request that breaks a business rule tied to one field (422)."""

    status, code, title = 422, "validation_error", "Validation error"

    def __init__(self, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> None:
        super().__init__(msg, errors=[{"loc": list(loc), "msg": msg, "type": type_}])


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail or f"Too many requests; retry in {retry_after} s.")
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Problem(BaseModel):
    """An RFC 9457 problem document, as every error of this API is answered."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Sold out",
                    "status": 409,
                    "detail": "Only 2 tickets of 'General admission' are left.",
                    "code": "sold_out",
                }
            ]
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable snake_case identifier that clients switch on")


class FieldError(BaseModel):
    """One reason a request was refused: where (``loc``), why (``msg``) and a stable ``type``."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A 422 problem (``validation_error``): every field that is wrong, each with its location."""

    model_config = ConfigDict(extra="allow", json_schema_extra={})

    errors: list[FieldError] = Field(default_factory=list)


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


ProblemSpec = type[DomainError] | int
"""A problem a route may answer: a ``DomainError`` class, or a status whose problem is generic."""

# Realistic ``detail`` texts for the documentation's examples, one per ``code``.
EXAMPLE_DETAILS = {
    "validation_error": "The request is not valid; see errors.",
    "not_authenticated": "Send an access token as 'Authorization: Bearer <token>'.",
    "invalid_credentials": "The email or password is wrong.",
    "account_disabled": "This account has been disabled.",
    "token_invalid": "The token is invalid or has expired.",
    "token_reused": "This refresh token was already used; the session has been ended.",
    "forbidden": "Only organizers and admins may do this.",
    "not_found": "No such event.",
    "email_taken": "An account with this email already exists.",
    "cannot_modify_self": "An admin cannot demote or disable themselves.",
    "invalid_transition": "A cancelled event cannot be changed.",
    "capacity_below_sold": "Capacity 10 is below the 12 tickets sold.",
    "has_sales": "This ticket type has been booked; it cannot be deleted.",
    "sold_out": "Only 2 tickets of 'General admission' are left.",
    "already_booked": "You already have a booking for this event; change its quantity instead.",
    "already_cancelled": "This booking is already cancelled.",
    "event_not_bookable": "Sales for this event are closed.",
    "event_started": "The event has started; the booking can no longer change.",
    "hold_expired": "The hold expired and its tickets were sold meanwhile.",
    "hold_limit": "You already hold tickets for this event.",
    "already_checked_in": "This ticket was checked in at 2027-03-14T19:02:11Z.",
    "ticket_cancelled": "This ticket was cancelled.",
    "already_waiting": "You are already on the waiting list for this ticket type.",
    "tickets_available": "Tickets are available: book them instead.",
    "idempotency_in_progress": "A request with this Idempotency-Key is still running.",
    "idempotency_key_mismatch": "This Idempotency-Key was used with another body.",
    "rate_limited": "Too many requests; retry in 42 s.",
    "payload_too_large": "The request body is larger than 1048576 bytes.",
}


class PayloadTooLarge(DomainError):
    """Answered by ``BodyLimitMiddleware`` before any route runs; here for the documentation."""

    status, code, title = 413, "payload_too_large", "Payload too large"


class ValidationFailed(RuleViolation):
    """Answered for any request that does not match its schema; here for the documentation."""


_GENERIC_PROBLEMS: dict[int, type[DomainError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    413: PayloadTooLarge,
    422: ValidationFailed,
    429: RateLimited,
}


def problem_example(error: type[DomainError]) -> dict[str, Any]:
    """The example problem document of one error class, as the API answers it."""
    example: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": error.status,
        "detail": EXAMPLE_DETAILS.get(error.code, error.title),
        "code": error.code,
    }
    if error.status == 422:
        example["errors"] = [
            {
                "loc": ["body", "quantity"],
                "msg": "Input should be greater than or equal to 1",
                "type": "greater_than_equal",
            }
        ]
    if error is AlreadyCheckedIn:
        example["checked_in_at"] = "2027-03-14T19:02:11Z"
    return example


def problems(*specs: ProblemSpec) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry that documents a route's problem answers in OpenAPI.

    Each problem is listed under its status with its own ``code`` as an example. Name the error classes
    a route raises; a bare status stands for its generic problem (401 ``not_authenticated``, 403
    ``forbidden``, 404 ``not_found``, 413, 422 ``validation_error``, 429 ``rate_limited``).
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for spec in specs:
        error = _GENERIC_PROBLEMS[spec] if isinstance(spec, int) else spec
        schema = "ValidationProblem" if error.status == 422 else "Problem"
        response = responses.setdefault(
            error.status,
            {
                "description": HTTPStatus(error.status).phrase,
                "content": {
                    PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}, "examples": {}}
                },
            },
        )
        examples = response["content"][PROBLEM_JSON]["examples"]
        examples[error.code] = {"summary": error.title, "value": problem_example(error)}
    return responses


_HTTP_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def clean_validation_errors(errors: Iterable[Any]) -> list[dict[str, Any]]:
    """Keep what a client needs (loc, msg, type); drop echoed input, which may be huge or secret."""
    return [
        {"loc": list(error["loc"]), "msg": str(error["msg"]), "type": str(error["type"])} for error in errors
    ]


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status, exc.code, exc.detail, title=exc.title, headers=exc.headers, **exc.extra
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        422,
        "validation_error",
        "The request is not valid; see errors.",
        title="Validation error",
        errors=clean_validation_errors(exc.errors()),
    )


# FastAPI's answer to a body it cannot decode (not UTF-8, say): a 422 like any other bad JSON here.
_UNPARSABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        return await _validation_error(
            request,
            RequestValidationError(
                [{"loc": ("body",), "msg": "The body is not valid JSON", "type": "json_invalid"}]
            ),
        )
    code = _HTTP_STATUS_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route at this path only; name them all.
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(exc.status_code, code, detail, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
