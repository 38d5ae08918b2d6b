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

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from boxoffice.core.errors import problem_response
from boxoffice.web import account, bookings, checkout, public, waitlist
from boxoffice.web.core import HERE, error_page

_fallback = APIRouter(include_in_schema=False)
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@_fallback.api_route("/{path:path}", methods=_EVERY_METHOD)
async def not_found(request: Request, path: str) -> Response:
    """Any other address: a readable 404 page, or the API's problem for an address under it."""
    if path == "api" or path.startswith("api/"):
        return problem_response(404, "not_found", "Not Found")
    return error_page(request, 404, "Page not found", "There is no page at this address.")


def mount(app: FastAPI) -> None:
    """Serve the pages at ``/`` (after the API and operational routes, which keep their paths)."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for area in (public, account, checkout, bookings, waitlist):
        app.include_router(area.router)
    app.include_router(_fallback)
