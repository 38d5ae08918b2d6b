"""Rate limits: per client IP for anonymous calls, per user otherwise; 429 ``rate_limited`` with
``Retry-After``. Counters live in Redis when ``BOXOFFICE_REDIS_URL`` is set, so every process shares
them; otherwise in the process's memory.

If Redis stops answering, requests are let through: rate limiting protects the service, it must not
take it down. Every Redis call has a short timeout (``REDIS_TIMEOUT_SECONDS``), and the first failure
opens a circuit breaker (``REDIS_BREAKER_SECONDS``): meanwhile requests skip Redis entirely, unlimited,
and ``/readyz`` reports the process as degraded (still ready). See core/breaker.py.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, cast

import redis.asyncio
import structlog
from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from boxoffice.core.breaker import CircuitBreaker
from boxoffice.core.config import Settings
from boxoffice.core.errors import RateLimited
from boxoffice.core.security import Tokens, TokenType

log = structlog.get_logger("boxoffice.ratelimit")


class Budget(StrEnum):
    AUTH = "auth"  # register, login, password forgot and reset: each its own counter
    BOOKING_WRITES = "booking_writes"
    DEFAULT = "default"
    # Per email address a booking names as its holder's: whoever books, that address gets at most
    # this many bookings' emails started, so nobody can make boxoffice mail a stranger over and over.
    RECIPIENT = "recipient"


class RateLimiter:
    def __init__(self, settings: Settings, tokens: Tokens) -> None:
        self.enabled = settings.rate_limits_enabled
        self._tokens = tokens
        self._prefix = settings.redis_key_prefix
        self._timeout = settings.redis_timeout_seconds
        self._pool = (
            redis.asyncio.ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
            )
            if settings.redis_url
            else None
        )
        self.breaker = CircuitBreaker("redis", settings.redis_breaker_seconds) if settings.redis_url else None
        self.storage: Storage = (
            RedisStorage(
                f"async+{settings.redis_url}",
                implementation="redispy",
                key_prefix=self._prefix,
                connection_pool=cast(Any, self._pool),
            )
            if settings.redis_url
            else MemoryStorage()
        )
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)
        self._limits: dict[Budget, RateLimitItem] = {
            Budget.AUTH: parse(settings.rate_limit_auth),
            Budget.BOOKING_WRITES: parse(settings.rate_limit_booking_writes),
            Budget.DEFAULT: parse(settings.rate_limit_default),
            Budget.RECIPIENT: parse(settings.rate_limit_recipient),
        }

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    def caller(self, request: Request) -> str:
        """``user:<id>`` for a caller with a genuine access token, ``ip:<address>`` otherwise."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            claims = self._tokens.decode(token.strip(), TokenType.ACCESS)
            if claims is not None:
                return f"user:{claims.user_id}"
        return f"ip:{request.client.host if request.client else 'unknown'}"

    async def _call(self, call: Awaitable[Any]) -> Any:
        # The socket timeouts bound each read and connect; this bounds the whole call as well.
        return await asyncio.wait_for(call, self._timeout * 4)

    async def hit(self, budget: Budget, bucket: str, caller: str) -> None:
        limit = self._limits[budget]
        if self.breaker is not None and not self.breaker.allows_call():
            return
        try:
            if await self._call(self._limiter.hit(limit, bucket, caller)):
                self._succeeded()
                return
            stats = await self._call(self._limiter.get_window_stats(limit, bucket, caller))
        except Exception as error:
            if self.breaker is None:
                log.exception("rate_limit_storage_failed", budget=budget.value)
            else:
                self.breaker.failed(error)
            return
        self._succeeded()
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(retry_after, f"Too many requests; limit is {limit}. Retry in {retry_after} s.")

    def _succeeded(self) -> None:
        if self.breaker is not None:
            self.breaker.succeeded()

    async def store_answers(self) -> bool:
        """Whether the shared store answers now (readiness); skipped while the breaker is open."""
        if self.breaker is not None and not self.breaker.allows_call():
            return False
        try:
            answers = bool(await self._call(self.storage.check()))
        except Exception as error:
            answers = False
            if self.breaker is not None:
                self.breaker.failed(error)
        if answers:
            self._succeeded()
        return answers


def rate_limit(budget: Budget, bucket: str | None = None) -> Callable[[Request], Awaitable[None]]:
    """A dependency charging one request to ``budget``; ``bucket`` separates counters of one budget."""
    name = bucket or budget.value

    async def charge(request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        if limiter.enabled:
            await limiter.hit(budget, name, limiter.caller(request))

    return charge


async def charge_recipient(request: Request, holder_email: str | None) -> None:
    """Charge one request that names ``holder_email`` to that address's own budget."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if limiter.enabled and holder_email is not None:
        await limiter.hit(Budget.RECIPIENT, Budget.RECIPIENT.value, f"recipient:{holder_email.lower()}")
