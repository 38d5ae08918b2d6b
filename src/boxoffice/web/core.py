"""What every page shares: templates, the browser's session cookie, CSRF, notices and error pages.

A page is a FastAPI route on ``WebRoute``: it calls the services as the API's routers do, and every
error it does not handle itself becomes a readable HTML page (never JSON, never a stack trace). A
route that needs a signed-in user raises ``LoginRequired`` (through ``require_user``) and the
visitor is sent to the login page, and back afterwards.

Every POST is checked for its CSRF token here, before the route runs (signed double-submit: a random
cookie, and a form field or ``X-CSRF-Token`` header carrying its HMAC under the signing key).
"""

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import structlog
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException

from boxoffice.accounts.auth import Principal, authenticate_web
from boxoffice.core.config import Environment, Settings
from boxoffice.core.db import Database
from boxoffice.core.errors import DomainError
from boxoffice.core.security import Tokens

SESSION_COOKIE = "boxoffice_session"
CSRF_COOKIE = "boxoffice_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
HERE = Path(__file__).parent

log = structlog.get_logger(__name__)
templates = Jinja2Templates(directory=HERE / "templates")

# Short messages shown after a redirect (POST-redirect-GET), chosen by a code in ?notice=: nothing a
# visitor types is ever echoed from the query string.
NOTICES = {
    "welcome": "Welcome! Your account is ready and you are logged in.",
    "logged_in": "You are logged in.",
    "logged_out": "You are logged out.",
    "reset_sent": "If an account exists for this email, we have sent a link to reset its password.",
    "password_reset": "Your password has been changed. Log in with the new one.",
    "profile_saved": "Your profile has been saved.",
    "extended": "Your hold has been extended.",
    "released": "Your hold has been released; the tickets are back on sale.",
    "confirmed": "Your booking is confirmed. Your tickets are below and on their way by email.",
    "changed": "Your booking has been changed.",
    "cancelled": "Your booking has been cancelled.",
    "joined": "You are on the waiting list. We will email you when tickets come back.",
    "left": "You have left the waiting list.",
}


# Pages load nothing from elsewhere, run no inline script and may not be framed (clickjacking); they
# show personal data, so no cache keeps them.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """The page needs a signed-in user: the visitor is sent to log in, then back."""


def form_count(text: str) -> int | str:
    """A count typed into a form (``"2"``) as the JSON integer the API's schemas require; anything
    else is passed on as typed, so validation names the field in its message."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def tokens_of(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.tokens
    return tokens


def database_of(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """A writing unit of work for a form: it commits when the block ends and rolls back on an
    error, so a page may catch a service's error and show it without keeping half a change."""
    async with database_of(request).unit_of_work() as session:
        yield session


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session, for a page shown after a form's unit of work has ended."""
    database = database_of(request)
    async with database.session(database.reader) as session:
        yield session


async def signed_in_user(request: Request) -> Principal:
    """The signed-in user, looked up in a session of its own (for forms that write elsewhere)."""
    async with reading(request) as session:
        return await require_user(request, session)


async def current_principal(request: Request, session: AsyncSession) -> Principal | None:
    """The signed-in user of this request (looked up once per request), or None."""
    if not hasattr(request.state, "principal"):
        cookie = request.cookies.get(SESSION_COOKIE)
        request.state.principal = await authenticate_web(session, tokens_of(request), cookie)
    principal: Principal | None = request.state.principal
    return principal


async def require_user(request: Request, session: AsyncSession) -> Principal:
    principal = await current_principal(request, session)
    if principal is None:
        raise LoginRequired
    return principal


def _secure(request: Request) -> bool:
    return _settings(request).env is Environment.PRODUCTION


def set_session_cookie(request: Request, response: Response, value: str) -> None:
    max_age = int(_settings(request).refresh_token_ttl_seconds)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=_secure(request), path="/")


def _csrf_signature(request: Request, cookie: str) -> str:
    key = _settings(request).signing_key.encode()
    return hmac.new(key, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def _csrf_cookie(request: Request) -> str:
    """This browser's CSRF cookie, or a new one that the response will set."""
    cookie = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not cookie:
        cookie = secrets.token_urlsafe(32)
        request.state.new_csrf_cookie = cookie
    return cookie


def csrf_token(request: Request) -> str:
    return _csrf_signature(request, _csrf_cookie(request))


async def csrf_valid(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    return sent is not None and hmac.compare_digest(sent, _csrf_signature(request, cookie))


def _finish(request: Request, response: Response) -> Response:
    new_cookie = getattr(request.state, "new_csrf_cookie", None)
    if new_cookie and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE, new_cookie, httponly=True, samesite="lax", secure=_secure(request), path="/"
        )
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> Response:
    values = {
        "request": request,
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "principal", None) and request.state.principal.user,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template, values, status_code=status)
    return _finish(request, response)


def redirect(url: str, notice: str | None = None) -> RedirectResponse:
    """303 See Other: the browser GETs the next page (POST-redirect-GET)."""
    if notice:
        url += ("&" if "?" in url else "?") + f"notice={notice}"
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """A same-site path to return to after logging in; anything else goes home."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)


async def identify(request: Request) -> None:
    """Look up who is signed in when a page failed before its handler did, so an error page keeps
    the visitor's own navigation; an error page never fails for it (the database may be the problem)."""
    if hasattr(request.state, "principal") or SESSION_COOKIE not in request.cookies:
        return
    try:
        async with reading(request) as session:
            await current_principal(request, session)
    except Exception:  # the page is already an error: show it signed out
        log.warning("web_error_page_unidentified", path=request.url.path)
        request.state.principal = None


_HTTP_TITLES = {404: "Page not found", 405: "Not allowed", 413: "Too large"}


class WebRoute(APIRoute):
    """A page: POSTs must carry the CSRF token; errors are pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            if request.method == "POST" and not await csrf_valid(request):
                await identify(request)
                return error_page(
                    request,
                    403,
                    "This form has expired",
                    "The form was sent without its security token, or with an old one. "
                    "Go back, reload the page and send it again.",
                )
            try:
                return await handler(request)
            except LoginRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    target = request.headers.get("referer", "/").split(request.base_url.netloc, 1)[-1]
                return redirect(f"/login?next={quote(safe_next(target), safe='')}")
            except DomainError as error:
                await identify(request)
                response = error_page(request, error.status, error.title, error.detail)
                if "Retry-After" in error.headers:
                    response.headers["Retry-After"] = error.headers["Retry-After"]
                return response
            except RequestValidationError:
                await identify(request)
                return error_page(
                    request, 404 if request.method == "GET" else 422, "Not found", "There is no such page."
                )
            except StarletteHTTPException as error:
                await identify(request)
                title = _HTTP_TITLES.get(error.status_code, "Something went wrong")
                return error_page(request, error.status_code, title, "There is no such page.")
            except Exception:
                log.exception("web_page_failed", path=request.url.path)
                return error_page(
                    request,
                    500,
                    "Something went wrong",
                    "Sorry, the page could not be shown. Please try again in a moment.",
                )

        return page


# Template helpers ----------------------------------------------------------------------------------


def local_time(moment: datetime | str | None, zone: str, fmt: str = "%a %-d %B %Y, %H:%M") -> str:
    """A moment in the event's own time zone, the zone named (``Sat 4 April 2030, 20:00 CEST``)."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.strftime(fmt)} {local.tzname()}"


def money(amount: Decimal | str | int, currency: str) -> str:
    value = Decimal(str(amount))
    return "Free" if value == 0 else f"{value:,.2f} {currency}"


templates.env.filters["local_time"] = local_time
templates.env.globals["money"] = money
