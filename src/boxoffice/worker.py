"""The background work: sending the email outbox (with its reminders and housekeeping) and returning
expired holds' tickets to sale.

``boxoffice worker`` runs it (as many processes as the load needs, anywhere), and so does each
``boxoffice serve`` process unless ``BOXOFFICE_RUN_WORKER=false``. Every job is safe to run in any
number of processes at once: the outbox claims messages with leases, the hold sweep skips holds
another transaction has locked.
"""

import asyncio
import contextlib
import signal

import structlog
from prometheus_client import Counter

from boxoffice.bookings import service as bookings_service
from boxoffice.core.config import Settings
from boxoffice.core.db import Database, create_database, utcnow
from boxoffice.notifications.worker import create_worker

log = structlog.get_logger("boxoffice.worker")

HOLDS_EXPIRED = Counter("boxoffice_hold_tickets_expired_total", "Tickets returned to sale by expired holds")


async def run(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Run every background job until ``stop`` is set."""
    await asyncio.gather(
        create_worker(database, settings).run(stop), sweep_expired_holds(database, settings, stop)
    )


async def sweep_expired_holds(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Every ``HOLD_SWEEP_SECONDS``, expire the holds whose time has run out and return their tickets
    to sale, so what the catalogue shows as available is at most that much behind. (A sale that
    needs the tickets of a hold whose time has run out expires it itself, at once: writer.py.)"""
    while not stop.is_set():
        try:
            await expire_holds_now(database)
        except Exception:
            log.exception("hold_sweep_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.hold_sweep_seconds)


async def expire_holds_now(database: Database, batch: int = bookings_service.EXPIRY_SWEEP_BATCH) -> int:
    """Expire every hold that is due, ``batch`` holds per transaction; the number of tickets returned."""
    total = 0
    while True:
        async with database.unit_of_work() as session:
            returned = await bookings_service.expire_due_holds(session, utcnow(), limit=batch)
        if not returned:
            if total:
                log.info("holds_expired", tickets=total)
            return total
        HOLDS_EXPIRED.inc(returned)
        total += returned


async def run_standalone(settings: Settings) -> None:
    """``boxoffice worker``: work until SIGTERM or SIGINT, then stop cleanly."""
    database = create_database(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await run(database, settings, stop)
    finally:
        await database.dispose()
