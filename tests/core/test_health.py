from pathlib import Path

from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from tests.conftest import make_settings
from tests.factories import assert_problem


async def test_healthz_answers_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_ok_when_the_database_answers(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_readyz_answers_503_when_the_database_does_not(tmp_path: Path) -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    app = create_app(make_settings(unreachable, tmp_path))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/readyz")
    body = assert_problem(response, 503, "not_ready")
    assert body["checks"] == {"database": "down"}
    await app.state.database.dispose()


async def test_metrics_are_prometheus_text(client: AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'boxoffice_http_requests_total{method="GET",route="/healthz",status="200"}' in response.text


async def test_openapi_describes_the_api_with_bearer_auth(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["info"]["title"] == "boxoffice"
    assert document["info"]["version"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"
    me = document["paths"]["/api/v1/users/me"]["get"]
    assert me["security"] == [{"OAuth2PasswordBearer": []}]
    assert "application/problem+json" in me["responses"]["401"]["content"]
    login_body = document["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(login_body)


async def test_docs_and_redoc_pages_are_served(client: AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/redoc")).status_code == 200
