"""Scale-out, proven: three ``boxoffice serve`` and two ``boxoffice worker`` processes on one database
server and one Redis sell a flash sale together, and lose nothing when a server and a worker are killed
with ``kill -9`` in the middle of it.

What makes it deterministic without sleeping: the SMTP server holds every message until the test lets
it through (``Gate``), so the moment both workers are each in the middle of a delivery is observable,
and the worker killed then has not delivered the message it holds (its connection drops before the
server accepts it; the message's lease runs out and the other worker sends it). The server is killed
once the sale has sold a quarter of its tickets, and the sale's second wave is sent to all three
servers, the dead one included: a request that cannot reach a server goes to the next one with the
same Idempotency-Key, as a client behind a load balancer would be retried.
"""

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from boxoffice.models import Booking, BookingStatus, OutboxMessage, OutboxStatus
from tests.conftest import REDIS_URL
from tests.factories import Account, assert_ledger_consistent, create_account, create_published_event
from tests.notifications.conftest import Gate, SmtpServer, eventually
from tests.processes import Served, boxoffice_serve, boxoffice_worker

pytestmark = pytest.mark.slow

CAPACITY = 40
FIRST_WAVE = 24  # fewer than the tickets: the sale cannot be over when a server and a worker die
SECOND_WAVE = 30
SERVERS = 3
WORKERS = 2


@pytest.fixture
def gated_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.inbox = Gate()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster_settings(gated_smtp: SmtpServer) -> dict[str, str]:
    return {
        "secret_key": "scale-out-" + "k" * 32,
        "redis_url": REDIS_URL,
        # The shared limit is under test, not the breaker: a loaded machine must not make Redis
        # look down (the default 0.25 s timeout fails open, letting limited requests through).
        "redis_timeout_seconds": "5",
        "redis_key_prefix": f"scale-out-{uuid.uuid4().hex[:8]}",
        "run_worker": "false",
        "rate_limits_enabled": "true",
        "rate_limit_auth": "100000/minute",
        "rate_limit_default": "100000/minute",
        "rate_limit_booking_writes": "3/hour",
        "email_backend": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(gated_smtp.port),
        "smtp_timeout_seconds": "120",
        "worker_poll_seconds": "0.05",
        "outbox_batch_size": "1",
        "outbox_lease_seconds": "2",
        "outbox_retry_base_seconds": "0.05",
        "outbox_retry_max_seconds": "0.1",
    }


@asynccontextmanager
async def clients(servers: list[Served]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(httpx.AsyncClient(base_url=server.base, timeout=60))
            for server in servers
        ]


async def book_anywhere(
    https: list[httpx.AsyncClient], first: int, account: Account, event_id: str
) -> httpx.Response:
    """Book at server ``first``; a server that cannot be reached, or that dies before it answers, is
    replaced by the next one, with the same Idempotency-Key."""
    headers = {**account.headers, "Idempotency-Key": f"sale-{account.id}"}
    for attempt in range(len(https)):
        http = https[(first + attempt) % len(https)]
        try:
            return await http.post("/api/v1/bookings", json={"event_id": event_id}, headers=headers)
        except httpx.TransportError:
            continue
    raise AssertionError("no server answered")


async def _confirmed(app: FastAPI) -> int:
    async with app.state.database.reader() as session:
        statement = select(func.count()).where(Booking.status == BookingStatus.CONFIRMED)
        return int(await session.scalar(statement) or 0)


async def _unsent(app: FastAPI) -> int:
    async with app.state.database.reader() as session:
        statement = select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT)
        return int(await session.scalar(statement) or 0)


async def _poll(app: FastAPI, probe: Any, condition: Any, within_seconds: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while not condition(await probe(app)):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _no_server_errors(responses: list[httpx.Response]) -> None:
    errors = [r.text for r in responses if r.status_code >= 500]
    assert not errors, errors[:3]


async def test_three_servers_and_two_workers_sell_a_flash_sale_and_lose_nothing_when_one_of_each_dies(
    app: FastAPI,
    backend: str,
    database_url: str,
    tmp_path: Path,
    gated_smtp: SmtpServer,
    cluster_settings: dict[str, str],
) -> None:
    if backend == "sqlite":
        pytest.skip("scale-out shares one database server: PostgreSQL or MariaDB/MySQL")
    if not REDIS_URL:
        pytest.skip("needs BOXOFFICE_TEST_REDIS_URL (CI sets it)")
    gate = gated_smtp.inbox
    assert isinstance(gate, Gate)

    with ExitStack() as stack:
        servers = [
            stack.enter_context(boxoffice_serve(database_url, tmp_path / f"serve{n}", **cluster_settings))
            for n in range(SERVERS)
        ]
        workers = [
            stack.enter_context(boxoffice_worker(database_url, tmp_path / f"worker{n}", **cluster_settings))
            for n in range(WORKERS)
        ]
        async with clients(servers) as https:
            organizer = await create_account(https[0], role="organizer")
            event = await create_published_event(https[1], organizer, capacity=CAPACITY)
            event_id = str(event["id"])
            spread = itertools.cycle(range(SERVERS))
            attendees = list(
                await asyncio.gather(
                    *(create_account(https[next(spread)]) for _ in range(FIRST_WAVE + SECOND_WAVE + 1))
                )
            )

            # The booking-write limit (3 an hour per user) is one count in Redis for all three
            # servers: two tries at each pass three times in all, not six.
            limited = attendees.pop()
            tries = await asyncio.gather(
                *(
                    https[n].post("/api/v1/bookings", json={"event_id": event_id}, headers=limited.headers)
                    for n in range(SERVERS)
                    for _ in range(2)
                )
            )
            assert Counter(r.status_code for r in tries) == {201: 1, 409: 2, 429: 3}

            first = [
                asyncio.create_task(book_anywhere(https, n % SERVERS, account, event_id))
                for n, account in enumerate(attendees[:FIRST_WAVE])
            ]
            # Mid-sale: a quarter sold, and each worker holding a message at the SMTP server.
            await _poll(app, _confirmed, lambda sold: sold >= CAPACITY // 4)
            await eventually(lambda: gate.in_delivery == WORKERS)
            servers[SERVERS - 1].kill()
            workers[0].kill()
            await eventually(lambda: gate.in_delivery == WORKERS - 1)
            gate.open()

            second = [
                asyncio.create_task(book_anywhere(https, n % SERVERS, account, event_id))
                for n, account in enumerate(attendees[FIRST_WAVE:])
            ]
            responses = await asyncio.gather(*first, *second)

            _no_server_errors(responses)
            statuses = Counter(r.status_code for r in responses)
            assert statuses == {201: CAPACITY - 1, 409: len(responses) - (CAPACITY - 1)}, statuses
            assert {r.json()["code"] for r in responses if r.status_code == 409} == {"sold_out"}
            booked = {r.json()["holder_email"] for r in responses if r.status_code == 201}

            # No oversell, and the ledger agrees with the bookings and tickets.
            assert await _confirmed(app) == CAPACITY
            await assert_ledger_consistent(app)
            page = (await https[0].get(f"/api/v1/events/{event_id}", headers=organizer.headers)).json()
            assert (page["tickets_sold"], page["tickets_available"]) == (CAPACITY, 0)

            # Every confirmation delivered, each exactly once, the killed worker's included.
            await _poll(app, _unsent, lambda unsent: unsent == 0)
            await eventually(lambda: len(gate.messages) >= CAPACITY)
            recipients = Counter(str(m["To"]) for m in gate.messages)
            assert recipients == Counter({**dict.fromkeys(booked, 1), limited.email: 1})
