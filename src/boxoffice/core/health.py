"""Operations endpoints (no /api/v1 prefix): liveness, readiness, Prometheus metrics."""

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from boxoffice.core.db import Database
from boxoffice.core.errors import problem_response
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.ratelimit import RateLimiter

router = APIRouter(route_class=ApiRoute, tags=["operations"])

READINESS_TIMEOUT_SECONDS = 2.0


class Health(BaseModel):
    status: str = "ok"


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """Answers while the process runs."""
    return Health()


async def _database_answers(database: Database) -> bool:
    async def ping() -> None:
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), READINESS_TIMEOUT_SECONDS)
    except Exception:
        return False
    return True


async def _redis_answers(limiter: RateLimiter) -> bool:
    try:
        return bool(await asyncio.wait_for(limiter.storage.check(), READINESS_TIMEOUT_SECONDS))
    except Exception:
        return False


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "A dependency does not answer"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database (and Redis, if configured) answers, 503 otherwise. Email delivery is not
    part of readiness: a slow mail server delays email, it is not an outage."""
    checks = {"database": "ok" if await _database_answers(request.app.state.database) else "down"}
    if request.app.state.settings.redis_url:
        checks["redis"] = "ok" if await _redis_answers(request.app.state.rate_limiter) else "down"
    if all(state == "ok" for state in checks.values()):
        return JSONResponse(Readiness(status="ok", checks=checks).model_dump())
    return problem_response(
        503,
        "not_ready",
        "A dependency of the service does not answer.",
        title="Service unavailable",
        checks=checks,
    )


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
