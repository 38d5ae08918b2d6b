"""The OpenAPI document and the interactive documentation, served from the package.

FastAPI writes the document from the routes; ``refine`` then says what the routes cannot: every
problem is ``application/problem+json`` with its own ``code`` example, the problems every route shares
(401 with a token, 413 with a body, 422 with any input, 429 under ``/api/v1``), which routes also work
without a token, and an example for every request and success response.

``/docs`` (Swagger UI) and ``/redoc`` load their scripts and styles from ``boxoffice/static`` (pinned,
with their licences; see ``static/README.md``), so they work without internet.
"""

from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema

from boxoffice.core.errors import PROBLEM_JSON, Problem, ValidationProblem, problems

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS_URL = "/docs/assets"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

ANONYMOUS: dict[str, Any] = {"x-anonymous": True}
"""``openapi_extra`` of a route that takes a token but also answers without one."""

_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    "429": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def install_docs(app: FastAPI) -> None:
    """Serve ``/openapi.json``, ``/docs`` and ``/redoc``; the app is made with both URLs off."""
    title = app.title
    app.mount(ASSETS_URL, StaticFiles(directory=STATIC), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{title} - API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=OPENAPI_URL,
            title=f"{title} - API",
            redoc_js_url=f"{ASSETS_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )

    app.openapi = _document_of(app)  # type: ignore[method-assign]


def _document_of(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refine(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    return openapi


def refine(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    _, problem_schemas = models_json_schema(
        [(Problem, "serialization"), (ValidationProblem, "serialization")],
        ref_template="#/components/schemas/{model}",
    )
    schemas.update(problem_schemas.get("$defs", {}))
    for path, item in document["paths"].items():
        for operation in item.values():
            _refine_operation(path, operation, schemas)
    return document


def _refine_operation(path: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    if operation.pop("x-anonymous", False):
        operation["security"] = [{}, *operation.get("security", [])]
    responses: dict[str, Any] = operation["responses"]
    shared: list[int] = []
    if operation.get("security"):
        shared += [401, 403]  # 403: a check-in token anywhere but at the door
    if operation.get("requestBody"):
        shared.append(413)
    if operation.get("parameters") or operation.get("requestBody"):
        shared.append(422)
    if path.startswith("/api/"):
        shared.append(429)
    for status, response in problems(*shared).items():
        key = str(status)
        existing = responses.get(key)
        if existing is None or PROBLEM_JSON not in existing.get("content", {}):
            responses[key] = response
        else:
            examples = existing["content"][PROBLEM_JSON]["examples"]
            for code, example in response["content"][PROBLEM_JSON]["examples"].items():
                examples.setdefault(code, example)
    for key, headers in _HEADERS.items():
        if key in responses:
            responses[key].setdefault("headers", {}).update(headers)
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        _add_example(media, schemas)
    for key, response in responses.items():
        if key.startswith("2"):
            for media in response.get("content", {}).values():
                _add_example(media, schemas)


def _add_example(media: dict[str, Any], schemas: dict[str, Any]) -> None:
    if "example" in media or "examples" in media or "schema" not in media:
        return
    if media["schema"].get("type") != "string":  # text and images: the route gives its own example
        media["example"] = example_of(media["schema"], schemas)


# Realistic values for properties no model gives an example of, by property name.
_BY_NAME: dict[str, Any] = {
    "title": "Jazz at the Harbour",
    "description": "An evening of jazz by the water.",
    "venue": "Harbour Hall",
    "city": "Lisbon",
    "address": "Rua do Cais 12",
    "category": "music",
    "timezone": "Europe/Lisbon",
    "currency": "EUR",
    "email": "ada@example.com",
    "username": "ada@example.com",
    "detail": "If an account has this email, a reset link is on its way.",
    "holder_email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "holder_name": "Ada Lovelace",
    "name": "General admission",
    "code": "K7QM-3XTP",
    "booking_code": "K7QM-3XTP",
    "password": "correct horse battery",
    "new_password": "correct horse battery staple",
    "current_password": "correct horse battery",
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI…",
    "refresh_token": "rt_3q2+7w…",
    "token": "ci_Zm9vYmFy…",
    "token_type": "bearer",
    "expires_in": 900,
    "reason": "The venue is closed for repairs.",
    "cancellation_reason": None,
    "public_key": "MCowBQYDK2VwAyEA0n3hI3cXQ1jl2x3Ffz2xT6n1Xo7xJH1uXbTS3K6bq3E=",
    "algorithm": "ed25519",
    "quantity": 2,
    "capacity": 200,
    "sold": 120,
    "held": 4,
    "available": 76,
    "tickets_sold": 120,
    "tickets_available": 76,
    "total": 1,
    "limit": 20,
    "offset": 0,
    "position": 3,
    "max_tickets_per_booking": 10,
    "hold_minutes": 10,
    "waitlist_offer_hours": 24,
    "revenue": "3000.00",
    "price": "25.00",
    "unit_price": "25.00",
    "total_price": "50.00",
    "status": "ok",
}
_BY_FORMAT = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "2027-03-14T19:30:00Z",
    "email": "ada@example.com",
    "uri": "https://boxoffice.example.com/",
    "date": "2027-03-14",
}


def example_of(schema: dict[str, Any], schemas: dict[str, Any], name: str | None = None) -> Any:
    """An example value of ``schema``: the schema's own example where it has one, otherwise one made
    from property names, formats and types."""
    if "$ref" in schema:
        return example_of(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, name)
    if schema.get("examples"):
        return deepcopy(schema["examples"][0])
    if "example" in schema:
        return deepcopy(schema["example"])
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = [option for option in schema.get(combinator, []) if option.get("type") != "null"]
        if options:
            return example_of(options[0], schemas, name)
    if name in _BY_NAME and schema.get("type") not in ("object", "array"):
        return _BY_NAME[name]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {key: example_of(value, schemas, key) for key, value in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}), schemas, name)]
    if kind == "string":
        if "pattern" in schema and "\\." in schema["pattern"]:
            return "25.00"
        return _BY_FORMAT.get(schema.get("format", ""), "text")
    if kind == "integer":
        return schema.get("default", schema.get("minimum", 1))
    if kind == "number":
        return schema.get("default", 1.5)
    if kind == "boolean":
        return schema.get("default", True)
    return None
