"""Logs, metrics and the per-request context (request id, access log, the last-resort 500)."""

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.core import audit
from boxoffice.core.config import LogFormat, Settings
from boxoffice.core.errors import problem_response

log = structlog.get_logger("boxoffice")

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

HTTP_REQUESTS = Counter(
    "boxoffice_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "boxoffice_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _pretty(settings: Settings) -> bool:
    return settings.log_format is LogFormat.CONSOLE or (
        settings.log_format is LogFormat.AUTO and sys.stderr.isatty()
    )


def _renderer(pretty: bool) -> Any:
    return structlog.dev.ConsoleRenderer() if pretty else structlog.processors.JSONRenderer()


def log_formatter(pretty: bool) -> logging.Formatter:
    """A ``logging`` formatter that writes standard-library records (uvicorn's, other libraries')
    as structlog writes its own: JSON lines, or the console format."""
    return structlog.stdlib.ProcessorFormatter(
        processor=_renderer(pretty),
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    )


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: its server and error lines in the format of every other line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"boxoffice": {"()": f"{__name__}.log_formatter", "pretty": _pretty(settings)}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "boxoffice",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": settings.log_level.upper(), "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    pretty = _pretty(settings)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _renderer(pretty),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(log_formatter(pretty))
    logging.basicConfig(level=level, handlers=[handler])


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _ACCEPTABLE_REQUEST_ID.match(candidate) else None
    return None


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", ""))


class RequestContextMiddleware:
    """Outermost middleware: gives every request an id, logs and measures it, and turns an
    unhandled exception into a 500 problem that carries the request id and no trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        client = scope.get("client")
        origin = audit.set_origin(
            audit.RequestOrigin(ip=client[0] if client else None, request_id=request_id)
        )
        started = time.perf_counter()
        outcome = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["started"] = True
                outcome["status"] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if not outcome["started"]:
                response = problem_response(
                    500,
                    "internal_error",
                    "Something went wrong on our side. Quote the request id if you report it.",
                    title="Internal server error",
                    request_id=request_id,
                )
                await response(scope, receive, send_with_id)
        finally:
            self._record(scope, int(outcome["status"]), time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")
            audit.reset_origin(origin)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope.get("method", "")
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(seconds)
        log.info(
            "request",
            method=method,
            path=scope.get("path"),
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )
