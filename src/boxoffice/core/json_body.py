"""One answer to a body that is not JSON, on every endpoint; and a 405 that names every method.

``ApiRoute`` (the ``route_class`` of every router) reads the body before FastAPI does. A body that
is not a form must be JSON: undecodable bytes, malformed JSON and JSON nested deeper than the parser
allows (a ``RecursionError``) all answer the same 422 ``validation_error`` with one error
``{"loc": ["body"], "type": "json_invalid"}``, never a 400 or a 500. A form body that cannot be read
(a multipart body without its boundary) is the same 422 with ``type: "form_invalid"``.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.routing import Match

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def invalid_json(msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": msg, "type": "json_invalid"}])


async def parse_json_body(request: Request) -> Any:
    """The request's JSON body (``None`` when empty), parsed once and kept for FastAPI to reuse."""
    body = await request.body()
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except UnicodeDecodeError as error:
        raise invalid_json("The body is not UTF-8 text.") from error
    except RecursionError as error:
        raise invalid_json("The JSON body is nested too deeply.") from error
    except ValueError as error:
        raise invalid_json(f"The body is not valid JSON: {error}") from error
    request._json = parsed
    return parsed


async def _parse_form(request: Request) -> None:
    """Read a form body once (Starlette keeps it); one that cannot be read is the same kind of 422."""
    try:
        await request.form()
    except Exception as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"The body is not a readable form: {error}", "type": "form_invalid"}]
        ) from error


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in _FORM_TYPES:
                await parse_json_body(request)
            else:
                await _parse_form(request)
            return await handler(request)

        return checked


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers at the request's path (the 405's ``Allow``)."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]
