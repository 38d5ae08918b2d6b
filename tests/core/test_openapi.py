"""The OpenAPI document tells the truth: every error as the API answers it, with its own code, the
contract's error codes on the operations the contract gives them to, and examples everywhere."""

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from boxoffice.app import create_app
from boxoffice.core.config import Settings

PROBLEM_JSON = "application/problem+json"

# The contract's error codes (API.md, "Errors"); internal_error is a 500 and never documented per
# operation.
CONTRACT_CODES = {
    "validation_error",
    "not_authenticated",
    "invalid_credentials",
    "account_disabled",
    "forbidden",
    "not_found",
    "email_taken",
    "token_invalid",
    "token_reused",
    "rate_limited",
    "sold_out",
    "already_booked",
    "already_cancelled",
    "event_not_bookable",
    "event_started",
    "invalid_transition",
    "capacity_below_sold",
    "has_sales",
    "idempotency_key_mismatch",
    "idempotency_in_progress",
    "cannot_modify_self",
    "payload_too_large",
    "hold_expired",
    "hold_limit",
    "already_waiting",
    "tickets_available",
    "already_checked_in",
    "ticket_cancelled",
}

# Each operation's errors as the contract's tables list them (API.md), as (status, code).
CONTRACT_ERRORS: dict[tuple[str, str], set[tuple[int, str]]] = {
    ("post", "/auth/register"): {(409, "email_taken"), (422, "validation_error")},
    ("post", "/auth/login"): {(401, "invalid_credentials"), (403, "account_disabled")},
    ("post", "/auth/refresh"): {(401, "token_invalid"), (401, "token_reused")},
    ("post", "/auth/logout"): {(401, "not_authenticated")},
    ("post", "/auth/password/forgot"): {(422, "validation_error"), (429, "rate_limited")},
    ("post", "/auth/password/reset"): {(400, "token_invalid"), (422, "validation_error")},
    ("get", "/users/me"): {(401, "not_authenticated")},
    ("patch", "/users/me"): {(422, "validation_error"), (409, "email_taken"), (403, "invalid_credentials")},
    ("get", "/events"): {(422, "validation_error")},
    ("get", "/events/{event_id}"): {(404, "not_found")},
    ("post", "/events"): {(403, "forbidden"), (422, "validation_error")},
    ("patch", "/events/{event_id}"): {(409, "invalid_transition"), (422, "validation_error")},
    ("post", "/events/{event_id}/publish"): {(409, "invalid_transition"), (422, "validation_error")},
    ("post", "/events/{event_id}/cancel"): {(409, "invalid_transition")},
    ("get", "/organizer/events"): {(403, "forbidden")},
    ("post", "/events/{event_id}/ticket-types"): {(409, "invalid_transition")},
    ("patch", "/events/{event_id}/ticket-types/{ticket_type_id}"): {(409, "capacity_below_sold")},
    ("delete", "/events/{event_id}/ticket-types/{ticket_type_id}"): {(409, "has_sales")},
    ("get", "/events/{event_id}/bookings"): {(404, "not_found")},
    ("get", "/events/{event_id}/stats"): {(404, "not_found")},
    ("post", "/bookings"): {
        (404, "not_found"),
        (409, "sold_out"),
        (409, "already_booked"),
        (409, "event_not_bookable"),
        (422, "validation_error"),
        (422, "idempotency_key_mismatch"),
        (409, "idempotency_in_progress"),
    },
    ("get", "/bookings/{booking_id}"): {(404, "not_found")},
    ("patch", "/bookings/{booking_id}"): {
        (409, "sold_out"),
        (409, "already_cancelled"),
        (409, "event_started"),
        (422, "validation_error"),
    },
    ("delete", "/bookings/{booking_id}"): {(409, "already_cancelled"), (409, "event_started")},
    ("get", "/admin/users"): {(403, "forbidden")},
    ("get", "/admin/users/{user_id}"): {(404, "not_found")},
    ("patch", "/admin/users/{user_id}"): {(409, "cannot_modify_self")},
    ("post", "/holds"): {
        (404, "not_found"),
        (409, "sold_out"),
        (409, "already_booked"),
        (409, "event_not_bookable"),
        (409, "hold_limit"),
        (422, "validation_error"),
    },
    ("get", "/holds/{hold_id}"): {(404, "not_found")},
    ("post", "/holds/{hold_id}/extend"): {(409, "hold_expired"), (409, "hold_limit")},
    ("post", "/holds/{hold_id}/confirm"): {
        (409, "hold_expired"),
        (409, "already_booked"),
        (422, "validation_error"),
    },
    ("delete", "/holds/{hold_id}"): {(404, "not_found")},
    ("post", "/events/{event_id}/waitlist"): {
        (409, "tickets_available"),
        (409, "already_waiting"),
        (409, "already_booked"),
        (409, "event_not_bookable"),
    },
    ("delete", "/waitlist/{entry_id}"): {(404, "not_found")},
    ("get", "/events/{event_id}/waitlist"): {(404, "not_found")},
    ("get", "/bookings/{booking_id}/tickets"): {(404, "not_found")},
    ("get", "/tickets/{ticket_id}/qr.svg"): {(404, "not_found")},
    ("get", "/tickets/{ticket_id}/qr.png"): {(404, "not_found")},
    ("post", "/events/{event_id}/checkins"): {
        (404, "not_found"),
        (409, "already_checked_in"),
        (409, "ticket_cancelled"),
    },
    ("delete", "/events/{event_id}/checkins/{checkin_id}"): {(404, "not_found")},
    ("get", "/events/{event_id}/checkins"): {(404, "not_found")},
    ("get", "/events/{event_id}/checkin-keys"): {(404, "not_found")},
    ("post", "/events/{event_id}/checkin-tokens"): {(404, "not_found")},
    ("get", "/events/{event_id}/checkin-tokens"): {(404, "not_found")},
    ("delete", "/events/{event_id}/checkin-tokens/{token_id}"): {(404, "not_found")},
}

ANONYMOUS_ONLY = {
    ("post", "/auth/register"),
    ("post", "/auth/login"),
    ("post", "/auth/refresh"),
    ("post", "/auth/password/forgot"),
    ("post", "/auth/password/reset"),
    ("get", "/events"),
}
ANONYMOUS_OR_SIGNED_IN = {("get", "/events/{event_id}")}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key="test-signing-key-" + "x" * 32,
        secret_key_file=tmp_path_factory.mktemp("key") / "secret",
        log_level="WARNING",
    )
    return create_app(settings).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _documented_problems(operation: dict[str, Any]) -> set[tuple[int, str]]:
    found = set()
    for status, response in operation["responses"].items():
        for example in response.get("content", {}).get(PROBLEM_JSON, {}).get("examples", {}).values():
            found.add((int(status), example["value"]["code"]))
    return found


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource = Resource(contents=document, specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:openapi", resource)
    rooted = {**schema}
    if "$ref" in rooted:
        rooted["$ref"] = "urn:openapi" + rooted["$ref"]
    return Draft202012Validator(_rebase(rooted), registry=registry)


def _rebase(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            key: ("urn:openapi" + value if key == "$ref" and value.startswith("#") else _rebase(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(value) for value in schema]
    return schema


def test_every_error_is_problem_json_with_the_problem_schema(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")) or status == "503":
                continue
            content = response.get("content", {})
            assert set(content) == {PROBLEM_JSON}, (method, path, status)
            schema = content[PROBLEM_JSON]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schema == ("ValidationProblem" if status == "422" else "Problem"), (method, path, status)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_each_problem_example_has_its_own_status_and_a_contract_code(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get(PROBLEM_JSON)
            if media is None:
                continue
            assert media["examples"], (method, path, status)
            validator = _validator(document, media["schema"])
            for name, example in media["examples"].items():
                value = example["value"]
                assert value["status"] == int(status), (method, path, status, name)
                assert value["code"] == name
                assert value["code"] in CONTRACT_CODES, (method, path, value["code"])
                validator.validate(value)


def test_operations_list_the_contracts_errors(document: dict[str, Any]) -> None:
    operations = {(method, path.removeprefix("/api/v1")): op for method, path, op in _operations(document)}
    for key, errors in CONTRACT_ERRORS.items():
        assert key in operations, key
        missing = errors - _documented_problems(operations[key])
        assert not missing, (key, missing)


def test_every_call_that_can_fail_so_documents_it(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        problems = _documented_problems(operation)
        if path.startswith("/api/"):
            assert (429, "rate_limited") in problems, (method, path)
        if operation.get("security"):
            assert {(401, "not_authenticated"), (403, "forbidden")} <= problems, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert (422, "validation_error") in problems, (method, path)
        if operation.get("requestBody"):
            assert (413, "payload_too_large") in problems, (method, path)
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_anonymous_routes_are_not_locked(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        key = (method, path.removeprefix("/api/v1"))
        if key in ANONYMOUS_ONLY:
            assert not operation.get("security"), key
        if key in ANONYMOUS_OR_SIGNED_IN:
            assert {} in operation["security"], key
            assert len(operation["security"]) == 2, key


def test_every_request_and_success_response_has_a_valid_example(document: dict[str, Any]) -> None:
    count = 0
    for method, path, operation in _operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in media, (method, path, media_type)
            _validator(document, media["schema"]).validate(media["example"])
            count += 1
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            for media_type, media in response.get("content", {}).items():
                if media_type.startswith("image/"):
                    continue
                assert "example" in media, (method, path, status, media_type)
                if media_type == "application/json":
                    _validator(document, media["schema"]).validate(media["example"])
                count += 1
    assert count > 60
