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


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "The database does not answer"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 while the database answers, 503 otherwise. Only the database decides: a process without
    it cannot serve anything. Redis (the shared rate-limit counters, if configured) does not: while
    it is down, requests are served without limits and the answer is 200 with `status: "degraded"`
    and `checks.redis: "down"`, so every instance is not taken out of rotation at once. Email
    delivery is not part of readiness either: a slow mail server delays email, it is not an outage."""
    checks = {"database": "ok" if await _database_answers(request.app.state.database) else "down"}
    if request.app.state.settings.redis_url:
        limiter: RateLimiter = request.app.state.rate_limiter
        checks["redis"] = "ok" if await limiter.store_answers() else "down"
    if checks["database"] != "ok":
        return problem_response(
            503,
            "not_ready",
            "The database does not answer.",
            title="Service unavailable",
            checks=checks,
        )
    status = "ok" if all(state == "ok" for state in checks.values()) else "degraded"
    return JSONResponse(Readiness(status=status, checks=checks).model_dump())


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
