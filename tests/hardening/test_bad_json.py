"""Every endpoint answers a body that is not JSON with the same 422 problem: never 400, never 500."""

import re

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.factories import assert_problem

BAD_BODIES = {
    "malformed": b"{not json",
    "undecodable": b'{"email": "\xff\xfe"}',
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
    "deeply_nested_object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}


def _concrete(path: str) -> str:
    """A real-looking id in every placeholder (the body must be refused before the id is looked at)."""
    return re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)


def _json_invalid(response_body: dict[str, object]) -> None:
    errors = response_body["errors"]
    assert isinstance(errors, list)
    assert [(e["loc"], e["type"]) for e in errors] == [(["body"], "json_invalid")]


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
async def test_login_answers_bad_json_with_a_validation_problem(client: AsyncClient, kind: str) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=BAD_BODIES[kind], headers={"content-type": "application/json"}
    )
    _json_invalid(assert_problem(response, 422, "validation_error"))


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
async def test_every_endpoint_answers_bad_json_with_the_same_problem(
    app: FastAPI, client: AsyncClient, kind: str
) -> None:
    """Before authentication, routing to a resource or anything else: the body is read first."""
    operations = [
        (method.upper(), _concrete(path))
        for path, methods in app.openapi()["paths"].items()
        for method in methods
        if method != "get"
    ]
    assert len(operations) >= 30
    for method, path in operations:
        response = await client.request(
            method, path, content=BAD_BODIES[kind], headers={"content-type": "application/json"}
        )
        assert response.status_code == 422, (method, path, response.text)
        _json_invalid(assert_problem(response, 422, "validation_error"))


async def test_a_body_without_content_type_is_read_as_json(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/register", content=b"\x80\x81")
    _json_invalid(assert_problem(response, 422, "validation_error"))


async def test_method_not_allowed_names_every_method_of_the_path(client: AsyncClient) -> None:
    """GET and PATCH /events/{id} and DELETE are separate routes: Allow lists them all."""
    response = await client.put("/api/v1/events/00000000-0000-0000-0000-000000000000")
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


async def test_an_unreadable_form_is_a_validation_problem_too(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"garbage", headers={"content-type": "multipart/form-data"}
    )
    body = assert_problem(response, 422, "validation_error")
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body"], "form_invalid")]
