"""The web app: server-rendered pages for attendees, beside the JSON API, on the same services.

    web/core.py       templates, the session cookie, CSRF, notices, error pages (``WebRoute``)
    web/public.py     the catalogue and its search, an event page, its .ics
    web/account.py    register, log in and out, forgotten and reset passwords, the profile
    web/checkout.py   hold, extend, release, confirm (waiting-list offers too)
    web/bookings.py   my bookings, change, cancel, tickets with QR codes
    web/waitlist.py   join, see one's place, leave
    web/templates/    Jinja2 pages;  web/static/  CSS, the hold timer, vendored htmx (with its licence)

Every page works without JavaScript (forms and links, POST-redirect-GET); htmx only enhances.
"""

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from boxoffice.core import health
from boxoffice.web import account, bookings, checkout, public, waitlist
from boxoffice.web.core import HERE, error_page, identify


def _page_not_found(reserved: tuple[str, ...], otherwise: ASGIApp) -> ASGIApp:
    """What the router does when no route matches: a readable 404 page, except under ``reserved``
    (the API's and the operational paths), which keep the framework's own (a JSON problem)."""

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or any(path == p or path.startswith(p + "/") for p in reserved):
            await otherwise(scope, receive, send)
            return
        request = Request(scope, receive)
        await identify(request)
        response = error_page(request, 404, "Page not found", "There is no page at this address.")
        await response(scope, receive, send)

    return default


API_PREFIX_ROOT = "/api"


def mount(app: FastAPI) -> None:
    """Serve the pages at ``/`` beside the API and operational routes, which keep their paths."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for area in (public, account, checkout, bookings, waitlist):
        app.include_router(area.router)
    operational = tuple(route.path for route in health.router.routes if isinstance(route, APIRoute))
    docs = tuple(url for url in (app.openapi_url, app.docs_url, app.redoc_url) if url)
    app.router.default = _page_not_found((API_PREFIX_ROOT, *docs, *operational), app.router.default)
