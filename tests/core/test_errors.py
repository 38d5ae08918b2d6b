"""The error model: problem+json everywhere, request ids on every response, no traces."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.factories import assert_problem


async def test_unknown_route_is_a_not_found_problem(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_a_problem(client: AsyncClient) -> None:
    assert_problem(await client.delete("/api/v1/auth/register"), 405, "method_not_allowed")


async def test_validation_errors_list_each_field(client: AsyncClient) -> None:
    response = await client.post("/api/v1/auth/register", json={"email": "not-an-email"})
    body = assert_problem(response, 422, "validation_error")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert {("body", "email"), ("body", "password"), ("body", "full_name")} <= locations
    assert all(set(error) == {"loc", "msg", "type"} for error in body["errors"])


async def test_malformed_json_is_a_validation_problem(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_error")


async def test_validation_errors_do_not_echo_the_input(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "a@example.com", "password": "Zq9!x", "full_name": "A"},
    )
    assert "Zq9!x" not in response.text


async def test_unknown_body_fields_are_rejected(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "a@example.com",
            "password": "long-enough-1",
            "full_name": "A",
            "is_active": False,
        },
    )
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "is_active"]


async def test_unhandled_error_is_a_500_problem_with_request_id_and_no_trace(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/boom", headers={"X-Request-ID": "trace-me-42"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == "trace-me-42"
    assert response.headers["X-Request-ID"] == "trace-me-42"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


async def test_request_id_is_generated_when_absent(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) >= 16


async def test_request_id_is_echoed_when_sent(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


async def test_unacceptable_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"


async def test_errors_carry_the_request_id_header(client: AsyncClient) -> None:
    response = await client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["X-Request-ID"]
