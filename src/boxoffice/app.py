"""The application factory: routers, middleware, error handlers, lifespan."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from boxoffice import __version__, web
from boxoffice import worker as background
from boxoffice.accounts.router import auth_router, users_router
from boxoffice.admin.router import router as admin_router
from boxoffice.bookings.router import router as bookings_router
from boxoffice.bookings.writer import BookingWriter
from boxoffice.core import health
from boxoffice.core.body_limit import BodyLimitMiddleware
from boxoffice.core.config import Settings
from boxoffice.core.db import create_database
from boxoffice.core.errors import install_error_handlers
from boxoffice.core.header_limit import HeaderLimitMiddleware
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.observability import RequestContextMiddleware, configure_logging
from boxoffice.core.openapi import install_docs
from boxoffice.core.proxies import TrustedProxyMiddleware
from boxoffice.core.ratelimit import Budget, RateLimiter, rate_limit
from boxoffice.core.retry import RetryOnLockConflict
from boxoffice.core.security import Passwords, Tokens
from boxoffice.events.router import router as events_router
from boxoffice.events.totals import CatalogueTotals
from boxoffice.tickets.router import door as door_router
from boxoffice.tickets.router import router as tickets_router
from boxoffice.waitlist import service as waitlist_service
from boxoffice.waitlist.router import router as waitlist_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
Organizers publish events with ticket types and capacity; people book tickets, change or cancel them,
and are told by email. Capacity is enforced by the database: a ticket that does not exist is never sold.

Every error is `application/problem+json` with a stable `code`. Authenticate with
`POST /api/v1/auth/login` (or the **Authorize** button) and send `Authorization: Bearer <token>`.
"""

TAGS = [
    {"name": "auth", "description": "Registration, login, token refresh and logout."},
    {"name": "users", "description": "The caller's own account."},
    {"name": "events", "description": "The catalogue, and organizers' events and ticket types."},
    {"name": "bookings", "description": "Booking, changing and cancelling tickets; guest lists."},
    {
        "name": "holds",
        "description": "Checkout holds: tickets held for a few minutes, then confirmed or given back.",
    },
    {"name": "tickets", "description": "Tickets, one per seat, with their signed codes and QR images."},
    {
        "name": "check-in",
        "description": "The door: check-in and undo, keys for offline scanners, door devices' tokens.",
    },
    {
        "name": "waitlist",
        "description": "Waiting lists: queue for returned tickets of a sold-out event; offers are holds.",
    },
    {"name": "admin", "description": "Users, roles, bans, platform figures and the audit log (admins only)."},
    {"name": "operations", "description": "Health, readiness and metrics for operators."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings)
    waitlist_service.install()
    database = create_database(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        worker = (
            asyncio.create_task(background.run(database, settings, stop), name="worker")
            if settings.run_worker
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await app.state.rate_limiter.close()
            await database.dispose()

    app = FastAPI(
        title="boxoffice",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.passwords = Passwords(settings)
    app.state.tokens = Tokens(settings)
    app.state.rate_limiter = RateLimiter(settings, app.state.tokens)
    app.state.booking_writer = BookingWriter(
        database, app.state.tokens, settings.booking_concurrency_per_event
    )
    app.state.catalogue_totals = CatalogueTotals()

    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RetryOnLockConflict)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        HeaderLimitMiddleware, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count
    )
    app.add_middleware(RequestContextMiddleware)
    # Added last, so it wraps everything: the client address is settled before anything reads it.
    app.add_middleware(TrustedProxyMiddleware, networks=settings.trusted_proxies)

    api = APIRouter(
        route_class=ApiRoute, prefix=API_PREFIX, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
    )
    api.include_router(auth_router)
    api.include_router(users_router)
    api.include_router(events_router)
    api.include_router(bookings_router)
    api.include_router(tickets_router)
    api.include_router(door_router)
    api.include_router(waitlist_router)
    api.include_router(admin_router)
    app.include_router(api)
    app.include_router(health.router)
    install_docs(app)
    web.mount(app)  # last: its catch-all answers only what no API route does
    return app


def create_served_app() -> FastAPI:
    """The app as each ``boxoffice serve`` process runs it (uvicorn's factory).

    Everything built here lives as long as the process. Frozen out of the garbage collector's sight,
    it is no longer scanned by every full collection: with some 150,000 objects, each one stopped
    the event loop, and every request in flight with it, for about 100 ms (docs/benchmark.md).
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
