"""A circuit breaker for an optional dependency (the rate limiter's Redis).

When a call fails, the breaker opens for ``open_seconds``: callers skip the dependency (and carry on
without it) instead of each waiting for a timeout. After that one call is tried again; success closes
the breaker, failure opens it for another period. Opening and closing are each logged once and
counted, so an outage shows as two log lines and a metric, not a traceback per request.
"""

import time

import structlog
from prometheus_client import Counter, Gauge

log = structlog.get_logger("boxoffice.breaker")

BREAKER_OPEN = Gauge("boxoffice_breaker_open", "1 while a dependency's circuit breaker is open", ["name"])
BREAKER_OPENED = Counter(
    "boxoffice_breaker_opened_total", "Times a dependency's circuit breaker opened", ["name"]
)
BREAKER_SKIPPED = Counter(
    "boxoffice_breaker_skipped_total", "Calls not made because the breaker was open", ["name"]
)


class CircuitBreaker:
    def __init__(self, name: str, open_seconds: float) -> None:
        self.name = name
        self.open_seconds = open_seconds
        self._open_until: float | None = None
        BREAKER_OPEN.labels(name).set(0)

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allows_call(self) -> bool:
        """Whether to try the dependency now: always while closed, once per period while open."""
        if self._open_until is None:
            return True
        if time.monotonic() >= self._open_until:
            self._open_until = time.monotonic() + self.open_seconds  # one probe per period
            return True
        BREAKER_SKIPPED.labels(self.name).inc()
        return False

    def succeeded(self) -> None:
        if self._open_until is not None:
            self._open_until = None
            BREAKER_OPEN.labels(self.name).set(0)
            log.warning("dependency_recovered", dependency=self.name)

    def failed(self, error: BaseException) -> None:
        was_open = self._open_until is not None
        self._open_until = time.monotonic() + self.open_seconds
        if not was_open:
            BREAKER_OPEN.labels(self.name).set(1)
            BREAKER_OPENED.labels(self.name).inc()
            log.warning(
                "dependency_down",
                dependency=self.name,
                error=f"{type(error).__name__}: {error}"[:300],
                skipped_for_seconds=self.open_seconds,
            )
