"""The background work: sending the email outbox (with its reminders and housekeeping), returning
expired holds' tickets to sale (or to the waiting list), and offering waiting lists the free tickets
nobody has been offered yet.

``boxoffice worker`` runs it (as many processes as the load needs, anywhere), and so does each
``boxoffice serve`` process unless ``BOXOFFICE_RUN_WORKER=false``. Every job is safe to run in any
number of processes at once: the outbox claims messages with leases, the hold sweep skips holds
another transaction has locked, and offers are made under the ticket type's row lock.
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
from boxoffice.waitlist import service as waitlist_service

log = structlog.get_logger("boxoffice.worker")

HOLDS_EXPIRED = Counter("boxoffice_hold_tickets_expired_total", "Tickets returned to sale by expired holds")
LINES_SERVED = Counter(
    "boxoffice_waitlist_lines_served_total",
    "Waiting lists the sweep found with free tickets nobody was offered",
)


async def run(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Run every background job until ``stop`` is set."""
    waitlist_service.install()
    await asyncio.gather(
        create_worker(database, settings).run(stop), sweep_expired_holds(database, settings, stop)
    )


async def sweep_expired_holds(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Every ``HOLD_SWEEP_SECONDS``, expire the holds whose time has run out and return their tickets
    to sale, so what the catalogue shows as available is at most that much behind (a sale that
    needs the tickets of a hold whose time has run out expires it itself, at once: writer.py); and
    offer waiting lists any free tickets nobody has been offered."""
    while not stop.is_set():
        try:
            await expire_holds_now(database)
        except Exception:
            log.exception("hold_sweep_failed")
        try:
            await offer_free_tickets_now(database)
        except Exception:
            log.exception("waitlist_sweep_failed")
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


async def offer_free_tickets_now(database: Database) -> int:
    """Offer the free tickets of every ticket type whose line was not offered them when they became
    free (normally offers are made in the transaction that frees tickets; see docs/architecture.md),
    one transaction per ticket type; how many ticket types had some. Lines of events that have
    started are ended first."""
    async with database.reader() as session:
        started = await waitlist_service.any_line_of_a_started_event(session)
        lines = await waitlist_service.lines_with_free_tickets(session)
    if started:
        async with database.unit_of_work() as session:
            await waitlist_service.end_lines_of_started_events(session)
    for ticket_type_id in lines:
        async with database.unit_of_work() as session:
            await bookings_service.offer_free_tickets(session, ticket_type_id)
    if lines:
        LINES_SERVED.inc(len(lines))
        log.info("waitlist_lines_served", ticket_types=len(lines))
    return len(lines)


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
