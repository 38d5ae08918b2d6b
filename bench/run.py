"""The boxoffice benchmark: ``./dev bench``.

Starts everything it needs on this machine: a fresh PostgreSQL database (on the server named by
BOXOFFICE_BENCH_POSTGRES_URL, default the local one), `boxoffice serve` with one process per core and a
separate `boxoffice worker`, as in production (rate limits off, logs at warning level). It seeds users
with access tokens and events before any clock starts, drives the load with wrk (installed with apt-get
if missing), measures the database's own limit for the same booking statements with pgbench, prints a
table and writes bench/results/latest.json. Every figure comes from this run.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from boxoffice.core.config import Settings
from boxoffice.core.security import Tokens, TokenType
from boxoffice.events.repository import search_key
from boxoffice.migrations import upgrade_to_head
from boxoffice.tickets.codes import new_key_pair

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
ADMIN_URL = os.environ.get(
    "BOXOFFICE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SIGNING_KEY = "bench-signing-key-" + "b" * 40
CPUS = os.cpu_count() or 1
USERS = 10_000
FLASH_CAPACITY = 5_000
SPREAD_EVENTS = 1_000
SPREAD_CAPACITY = 5
BROWSE_EVENTS = 100_000
BROWSE_SECONDS = 20
# The concurrency at which PostgreSQL books fastest on one hot row here (see docs/benchmark.md); the
# flash sale is also measured there, as context for the same-concurrency ratio.
DB_BEST_CLIENTS = 4
WARMUP_SECONDS = 5
# --compare-with REF: the flash sale run against the build of REF ("before") and this checkout
# ("after") in one run, per connection count in the order before, after, after, before, ... (rounds:
# --compare-rounds), each run on
# an event of its own, so that drift during the run (a warmer cache, a busier machine) favours neither.
COMPARED_BUILDS = ("before", "after")
COMPARED_CONNECTIONS = (64, 256)
BOOKING_RUN_TIMEOUT_SECONDS = 600
LOST_REQUEST_GRACE_SECONDS = 35  # wrk's request timeout is 30 s
OUTBOX_DRAIN_TIMEOUT_SECONDS = 600
CITIES = [
    "Berlin", "Hamburg", "Munich", "Cologne", "Leipzig", "Vienna", "Zurich", "Paris", "Lyon", "Madrid",
    "Barcelona", "Lisbon", "Porto", "Rome", "Milan", "Naples", "Amsterdam", "Rotterdam", "Brussels",
    "Copenhagen", "Oslo", "Stockholm", "Helsinki", "Warsaw", "Krakow", "Prague", "Budapest", "Athens",
    "Dublin", "London", "Manchester", "Edinburgh", "Glasgow", "Bristol", "Seville", "Valencia", "Nice",
    "Marseille", "Turin", "Florence", "Gdansk", "Tallinn", "Riga", "Vilnius", "Ljubljana", "Zagreb",
    "Bratislava", "Salzburg", "Geneva", "Basel",
]  # fmt: skip
CATEGORIES = ["music", "tech", "food", "sport", "theatre", "art", "family", "film"]
ADJECTIVES = [
    "Midnight", "Summer", "Winter", "Electric", "Acoustic", "Open-Air", "Indie", "Classical", "Late",
    "Spring", "Harbour", "Rooftop", "Underground", "Grand", "Little", "Golden", "Urban", "Secret",
]  # fmt: skip
NOUNS = [
    "Jazz Night", "Festival", "Conference", "Market", "Concert", "Meetup", "Showcase", "Workshop",
    "Marathon", "Opera", "Film Club", "Comedy Hour", "Gala", "Fair", "Session", "Tour", "Quiz", "Rave",
]  # fmt: skip


def log(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------------
# tools and machine


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk is needed: install it (Debian/Ubuntu: apt-get install wrk) and rerun")
    log("installing wrk with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set size (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


# --------------------------------------------------------------------------------------------------
# database


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin_execute(statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(ADMIN_URL))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def bench_database(keep: bool) -> Iterator[str]:
    name = f"boxoffice_bench_{int(time.time())}"
    asyncio.run(admin_execute(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if keep:
            log(f"kept database {name}")
        else:
            asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class EventSet:
    """Events of one scenario and, per user, the ticket type they book and how many tickets."""

    name: str
    event_ids: list[uuid.UUID]
    ticket_type_ids: list[uuid.UUID]
    capacity: int


@dataclass
class Seed:
    user_ids: list[uuid.UUID]
    session_ids: list[uuid.UUID]
    tokens: list[str]
    sets: dict[str, EventSet] = field(default_factory=dict)
    browse_event_ids: list[uuid.UUID] = field(default_factory=list)


EVENT_COLUMNS = [
    "id", "organizer_id", "title", "description", "venue", "city", "address", "category", "starts_at",
    "ends_at", "timezone", "currency", "status", "max_tickets_per_booking", "sales_start_at",
    "sales_end_at", "cancellation_reason", "city_key", "search_text", "created_at", "updated_at",
    "published_at", "cancelled_at", "deleted_at", "hold_minutes", "waitlist_enabled",
    "waitlist_offer_hours",
]  # fmt: skip
TICKET_TYPE_COLUMNS = ["id", "event_id", "name", "price", "capacity", "sold", "held", "waiting", "position"]


def event_row(
    organizer: uuid.UUID, title: str, city: str, category: str, starts: datetime
) -> tuple[Any, ...]:
    now = datetime.now(UTC)
    description = f"{title} in {city}: a boxoffice benchmark event."
    venue = f"{city} {random.choice(['Hall', 'Arena', 'Club', 'Park', 'Theatre'])}"
    values = {
        "id": uuid.uuid4(), "organizer_id": organizer, "title": title, "description": description,
        "venue": venue, "city": city, "address": None, "category": category, "starts_at": starts,
        "ends_at": starts + timedelta(hours=3), "timezone": "Europe/Berlin", "currency": "EUR",
        "status": "published", "max_tickets_per_booking": 10, "sales_start_at": None,
        "sales_end_at": None, "cancellation_reason": None, "city_key": city.lower(),
        "search_text": search_key(title, description, venue, city), "created_at": now,
        "updated_at": now, "published_at": now, "cancelled_at": None, "deleted_at": None,
        "hold_minutes": 10, "waitlist_enabled": False, "waitlist_offer_hours": 24,
    }  # fmt: skip
    return tuple(values[column] for column in EVENT_COLUMNS)


async def seed(url: str, compared_builds: tuple[str, ...] = (), compared_rounds: int = 0) -> Seed:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    tokens = Tokens(Settings(_env_file=None, secret_key=SIGNING_KEY, access_token_ttl_seconds=4 * 3600))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    try:
        organizer = uuid.uuid4()
        user_ids = [uuid.uuid4() for _ in range(USERS)]
        session_ids = [uuid.uuid4() for _ in range(USERS)]
        password_hash = "$argon2id$v=19$m=65536,t=3,p=4$bench$not-a-real-hash"  # noqa: S105  (nobody logs in)
        await connection.copy_records_to_table(
            "user_account",
            columns=[
                "id",
                "email",
                "password_hash",
                "full_name",
                "role",
                "is_active",
                "created_at",
                "updated_at",
            ],
            records=[
                (
                    organizer,
                    "organizer@bench.boxoffice",
                    password_hash,
                    "Bench Organizer",
                    "organizer",
                    True,
                    now,
                    now,
                )
            ]
            + [
                (
                    uid,
                    f"user{i}@bench.boxoffice",
                    password_hash,
                    f"Bench User {i}",
                    "attendee",
                    True,
                    now,
                    now,
                )
                for i, uid in enumerate(user_ids)
            ],
        )
        await connection.copy_records_to_table(
            "auth_session",
            columns=["id", "user_id", "refresh_jti", "created_at", "expires_at"],
            records=[
                (sid, uid, uuid.uuid4().hex, now, now + timedelta(days=1))
                for uid, sid in zip(user_ids, session_ids, strict=True)
            ],
        )
        access = [
            tokens.issue(uid, sid, TokenType.ACCESS).token
            for uid, sid in zip(user_ids, session_ids, strict=True)
        ]
        result = Seed(user_ids, session_ids, access)

        events: list[tuple[Any, ...]] = []
        ticket_types: list[tuple[Any, ...]] = []

        def add_set(name: str, count: int, capacity: int) -> None:
            event_ids, type_ids = [], []
            for index in range(count):
                row = event_row(organizer, f"{name} {index}", "Berlin", "music", now + timedelta(days=30))
                events.append(row)
                type_id = uuid.uuid4()
                ticket_types.append(
                    (type_id, row[0], "General admission", Decimal("10.00"), capacity, 0, 0, 0, 0)
                )
                event_ids.append(row[0])
                type_ids.append(type_id)
            result.sets[name] = EventSet(name, event_ids, type_ids, capacity * count)

        add_set("flash_64", 1, FLASH_CAPACITY)
        add_set("flash_256", 1, FLASH_CAPACITY)
        add_set("hold_confirm_64", 1, FLASH_CAPACITY)
        for build in compared_builds:
            for conns in COMPARED_CONNECTIONS:
                for round_ in range(compared_rounds):
                    add_set(compared_set(build, conns, round_), 1, FLASH_CAPACITY)
        add_set("db_flash_64", 1, FLASH_CAPACITY)
        add_set("db_flash_256", 1, FLASH_CAPACITY)
        add_set("db_flash_best", 1, FLASH_CAPACITY)
        add_set("spread_64", SPREAD_EVENTS, SPREAD_CAPACITY)
        add_set("db_spread_64", SPREAD_EVENTS, SPREAD_CAPACITY)
        rng = random.Random(42)
        for _ in range(BROWSE_EVENTS):
            title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
            starts = now + timedelta(days=rng.uniform(1, 365))
            row = event_row(organizer, title, rng.choice(CITIES), rng.choice(CATEGORIES), starts)
            events.append(row)
            ticket_types.append(
                (uuid.uuid4(), row[0], "General admission", Decimal("20.00"), 200, 0, 0, 0, 0)
            )
            result.browse_event_ids.append(row[0])
        await connection.copy_records_to_table("event", columns=EVENT_COLUMNS, records=events)
        await connection.copy_records_to_table(
            "ticket_type", columns=TICKET_TYPE_COLUMNS, records=ticket_types
        )
        # Every event signs its tickets' codes with a key pair of its own (docs/tickets.md).
        pairs = [(row[0], new_key_pair()) for row in events]
        await connection.copy_records_to_table(
            "ticket_signing_key",
            columns=["event_id", "public_key", "private_key", "created_at"],
            records=[(event_id, pair.public_key, pair.private_key, now) for event_id, pair in pairs],
        )

        # The database-limit runs pick their next (user, ticket type) from this plan, one row per transaction.
        await connection.execute(
            "CREATE TABLE bench_plan (scenario text, n bigint, session_id uuid, user_id uuid, event_id uuid,"
            " ticket_type_id uuid, quantity int, PRIMARY KEY (scenario, n))"
        )
        plan = []
        for name in ("db_flash_64", "db_flash_256", "db_flash_best", "db_spread_64"):
            event_set = result.sets[name]
            await connection.execute(f"CREATE SEQUENCE bench_seq_{name}")
            for i in range(USERS):
                slot = i % len(event_set.event_ids)
                plan.append((name, i + 1, session_ids[i], user_ids[i], event_set.event_ids[slot],
                             event_set.ticket_type_ids[slot], quantity_of(i)))  # fmt: skip
        await connection.copy_records_to_table(
            "bench_plan",
            columns=["scenario", "n", "session_id", "user_id", "event_id", "ticket_type_id", "quantity"],
            records=plan,
        )
        await connection.execute("VACUUM ANALYZE")
        return result
    finally:
        await connection.close()


def compared_set(build: str, connections: int, round_: int) -> str:
    return f"cmp_{build}_{connections}_{round_}"


def compared_order(rounds: int) -> list[tuple[str, int]]:
    """(build, round) in the order before, after, after, before, ..."""
    order: list[tuple[str, int]] = []
    for round_ in range(rounds):
        builds = COMPARED_BUILDS if round_ % 2 == 0 else COMPARED_BUILDS[::-1]
        order += [(build, round_) for build in builds]
    return order


def quantity_of(user_index: int) -> int:
    return 1 + user_index % 2


async def ledger(url: str, event_ids: list[uuid.UUID]) -> dict[str, int]:
    """Sold, held and capacity over the events, and what the bookings and holds add up to."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        row = await connection.fetchrow(
            """
            SELECT coalesce(sum(t.sold), 0) AS sold, coalesce(sum(t.capacity), 0) AS capacity,
                   coalesce(sum(t.held), 0) AS held,
                   (SELECT coalesce(sum(h.quantity), 0) FROM hold h
                     WHERE h.event_id = ANY($1::uuid[]) AND h.status = 'active') AS active_hold_quantity,
                   coalesce(sum(greatest(t.sold - t.capacity, 0)), 0) AS oversold,
                   (SELECT coalesce(sum(b.quantity), 0) FROM booking b
                     WHERE b.event_id = ANY($1::uuid[]) AND b.status = 'confirmed') AS confirmed_quantity,
                   (SELECT count(*) FROM booking b
                     WHERE b.event_id = ANY($1::uuid[]) AND b.status = 'confirmed') AS bookings,
                   -- the bookings of one write transaction share their created_at
                   (SELECT count(DISTINCT b.created_at) FROM booking b
                     WHERE b.event_id = ANY($1::uuid[]) AND b.status = 'confirmed') AS transactions
              FROM ticket_type t WHERE t.event_id = ANY($1::uuid[])
            """,
            event_ids,
        )
        assert row is not None
        return {
            key: int(row[key])
            for key in (
                "sold",
                "capacity",
                "held",
                "active_hold_quantity",
                "oversold",
                "confirmed_quantity",
                "bookings",
                "transactions",
            )
        }
    finally:
        await connection.close()


async def drain_outbox(url: str) -> dict[str, Any]:
    """Wait until the email worker has sent every email the sales queued, so that the next scenario is
    measured on its own; what it sent, and how fast (first email queued to last one sent)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        deadline = time.monotonic() + OUTBOX_DRAIN_TIMEOUT_SECONDS
        while await connection.fetchval("SELECT count(*) FROM outbox_message WHERE status = 'pending'"):
            if time.monotonic() > deadline:
                raise SystemExit("the email worker did not send the sales' emails in time")
            await asyncio.sleep(0.5)
        row = await connection.fetchrow(
            "SELECT count(*) AS sent, extract(epoch FROM max(sent_at) - min(created_at)) AS seconds"
            " FROM outbox_message WHERE status = 'sent'"
        )
        assert row is not None
        seconds = float(row["seconds"] or 0)
        return {
            "emails_sent": int(row["sent"]),
            "seconds": round(seconds, 1),
            "emails_per_s": round(int(row["sent"]) / seconds, 1) if seconds else None,
        }
    finally:
        await connection.close()


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def max_connections(url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await connection.fetchval("SHOW max_connections"))
    finally:
        await connection.close()


# --------------------------------------------------------------------------------------------------
# the service under test


class Service:
    """`boxoffice serve` with one process per core, and a separate `boxoffice worker`."""

    def __init__(self, database_url: str, workdir: Path, source: Path | None = None) -> None:
        """``source``: the ``src`` folder of another build of boxoffice to run instead of this one."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "BOXOFFICE_ENV": "production",
            "BOXOFFICE_DATABASE_URL": database_url,
            "BOXOFFICE_SECRET_KEY": SIGNING_KEY,
            "BOXOFFICE_RUN_WORKER": "false",
            "BOXOFFICE_RATE_LIMITS_ENABLED": "false",
            "BOXOFFICE_LOG_LEVEL": "WARNING",
            "BOXOFFICE_LOG_FORMAT": "json",
            **({"PYTHONPATH": str(source)} if source else {}),
        }
        self.workdir = workdir
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.rss: dict[str, float] = {}

    def start(self) -> None:
        python = sys.executable
        self.server = subprocess.Popen(
            [python, "-m", "boxoffice", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(CPUS), "--no-migrate"],
            env=self.env, cwd=self.workdir, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.worker = subprocess.Popen(
            [python, "-m", "boxoffice", "worker"], env=self.env, cwd=self.workdir, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 180  # a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("boxoffice serve did not become ready")

    def record_rss(self) -> None:
        assert self.server is not None
        assert self.worker is not None
        self.rss = {"serve (supervisor)": peak_rss_mib(self.server.pid)}
        # The supervisor's children are the server processes and multiprocessing's resource tracker.
        servers = 0
        for pid in children(self.server.pid):
            if "resource_tracker" in command_line(pid):
                self.rss["serve resource tracker"] = peak_rss_mib(pid)
            else:
                servers += 1
                self.rss[f"serve process {servers}"] = peak_rss_mib(pid)
        self.rss["email worker"] = peak_rss_mib(self.worker.pid)

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.server, self.worker):
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


# --------------------------------------------------------------------------------------------------
# load


@dataclass
class WrkRun:
    statuses: dict[str, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    socket_errors: int
    seconds: float
    cpu_seconds: float


def _parse_wrk(output: str, cpu_seconds: float, seconds: float | None = None) -> WrkRun:
    match = re.search(r"^BENCH_RESULT (.*)$", output, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{output}")
    data = json.loads(match.group(1))
    return WrkRun(
        statuses={k: int(v) for k, v in data["statuses"].items()},
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        requests=int(data["requests"]),
        socket_errors=int(data["socket_errors"]),
        seconds=seconds if seconds is not None else data["elapsed_us"] / 1_000_000,
        cpu_seconds=cpu_seconds,
    )


def _wait_with_rusage(process: subprocess.Popen[str]) -> float:
    """Reap the process; its user + system CPU seconds."""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return usage.ru_utime + usage.ru_stime


def wrk_bookings(
    wrk: str, base: str, plan: Path, connections: int, workdir: Path, script: str = "book.lua"
) -> WrkRun:
    """Send every line of the plan once (``book.lua``: a booking each; ``hold_confirm.lua``: a hold each,
    confirmed when granted, over one connection per wrk thread). The run's length is measured by the
    Lua script, from the first request sent to the last request answered, whatever its status."""
    done_dir = Path(tempfile.mkdtemp(dir=workdir))
    threads = connections if script == "hold_confirm.lua" else min(CPUS, connections)
    process = subprocess.Popen(
        [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{BOOKING_RUN_TIMEOUT_SECONDS}s",
         "--timeout", "30s", "-s", str(BENCH / "lua" / script), base, "--",
         str(plan), str(threads), str(done_dir)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.monotonic()
    all_sent_at: float | None = None
    while len(list(done_dir.glob("*.done"))) < threads:
        if all_sent_at is None and len(list(done_dir.glob("*.sent"))) == threads:
            all_sent_at = time.monotonic()
        # Everything sent and still unanswered after wrk's own timeout: those requests are lost.
        if all_sent_at is not None and time.monotonic() - all_sent_at > LOST_REQUEST_GRACE_SECONDS:
            break
        if time.monotonic() - started > BOOKING_RUN_TIMEOUT_SECONDS:
            raise SystemExit("the booking run did not finish in time")
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    assert process.stdout is not None
    output = process.stdout.read()
    return _parse_wrk(output, _wait_with_rusage(process))


def wrk_browse(wrk: str, base: str, paths: Path, connections: int, seconds: int) -> WrkRun:
    threads = min(CPUS, connections)
    process = subprocess.Popen(
        [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
         "-s", str(BENCH / "lua" / "browse.lua"), base, "--", str(paths)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    started = time.perf_counter()
    assert process.stdout is not None
    output = process.stdout.read()
    elapsed = time.perf_counter() - started
    cpu_seconds = _wait_with_rusage(process)
    return _parse_wrk(output, cpu_seconds, elapsed)


def write_booking_plan(path: Path, seed_data: Seed, event_set: EventSet) -> None:
    with path.open("w") as plan:
        for i, token in enumerate(seed_data.tokens):
            slot = i % len(event_set.event_ids)
            body = {"event_id": str(event_set.event_ids[slot]), "quantity": quantity_of(i)}
            plan.write(f"{token}\t{json.dumps(body, separators=(',', ':'))}\n")


def write_browse_paths(path: Path, event_ids: list[uuid.UUID]) -> None:
    rng = random.Random(7)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = []
    for _ in range(4000):
        roll = rng.random()
        query: dict[str, Any]
        if roll < 0.2:
            lines.append(f"/api/v1/events/{rng.choice(event_ids)}")
            continue
        if roll < 0.45:
            query = {"city": rng.choice(CITIES)}
        elif roll < 0.65:
            query = {"q": rng.choice(NOUNS).split()[0].lower()}
        elif roll < 0.8:
            start = today + timedelta(days=rng.randint(1, 300))
            until = start + timedelta(days=14)
            query = {
                "starts_after": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "starts_before": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        elif roll < 0.92:
            query = {"category": rng.choice(CATEGORIES), "city": rng.choice(CITIES)}
        else:
            query = {"q": rng.choice(ADJECTIVES).lower(), "city": rng.choice(CITIES), "sort": "-starts_at"}
        query["limit"] = 20
        query["offset"] = rng.choice([0, 0, 0, 20, 40, 100])
        lines.append(f"/api/v1/events?{urlencode(query)}")
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------
# the database's own limit


@dataclass
class DbRun:
    clients: int
    transactions: int
    seconds: float
    bookings: int
    failed: int

    @property
    def bookings_per_s(self) -> float:
        return self.bookings / self.seconds if self.seconds else 0.0


def pgbench(url: str, scenario: str, clients: int, event_ids: list[uuid.UUID]) -> DbRun:
    target = make_url(url)
    per_client = USERS // clients
    connect = [
        "-h",
        target.host or "127.0.0.1",
        "-p",
        str(target.port or 5432),
        "-U",
        target.username or "postgres",
    ]
    load = ["-c", str(clients), "-j", str(min(CPUS, clients)), "-t", str(per_client)]
    script = [
        "-D",
        f"scenario={scenario}",
        "-D",
        f"seq=bench_seq_{scenario}",
        "-f",
        str(BENCH / "sql" / "booking.sql"),
    ]
    completed = subprocess.run(
        ["pgbench", *connect, "-n", "-M", "prepared", *load, *script, target.database or ""],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PGPASSWORD": target.password or ""},
    )
    output = completed.stdout + completed.stderr
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if completed.returncode != 0 or not processed or not tps:
        raise SystemExit(f"pgbench failed:\n{output}")
    transactions = int(processed.group(1))
    seconds = transactions / float(tps.group(1))
    bookings = asyncio.run(ledger(url, event_ids))["bookings"]
    return DbRun(clients, transactions, seconds, bookings, int(failed.group(1)) if failed else 0)


# --------------------------------------------------------------------------------------------------
# report


def booking_figures(run: WrkRun, check: dict[str, int], db: DbRun) -> dict[str, Any]:
    created = run.statuses.get("201", 0)
    bookings_per_s = created / run.seconds
    return {
        "bookings_per_s": round(bookings_per_s, 1),
        "requests_per_s": round(sum(run.statuses.values()) / run.seconds, 1),
        "p50_ms": round(run.p50_ms, 1),
        "p95_ms": round(run.p95_ms, 1),
        "p99_ms": round(run.p99_ms, 1),
        "max_ms": round(run.max_ms, 1),
        "sold": check["sold"],
        "capacity": check["capacity"],
        "oversold": check["oversold"],
        "ledger_consistent": check["sold"] == check["confirmed_quantity"],
        "errors_5xx": sum(count for status, count in run.statuses.items() if status.startswith("5")),
        "socket_errors": run.socket_errors,
        "statuses": run.statuses,
        "bookings": created,
        "bookings_per_write_transaction": round(check["bookings"] / check["transactions"], 2)
        if check["transactions"]
        else None,
        "seconds": round(run.seconds, 2),
        "db_limit_bookings_per_s": round(db.bookings_per_s, 1),
        "db_limit_clients": db.clients,
        "db_limit_failed_transactions": db.failed,
        "ratio_to_db": round(bookings_per_s / db.bookings_per_s, 3) if db.bookings_per_s else None,
    }


def hold_confirm_figures(run: WrkRun, check: dict[str, int]) -> dict[str, Any]:
    """A checkout is a hold and its confirmation: two requests; latencies are over both."""
    confirmed = run.statuses.get("confirm 201", 0)
    return {
        "bookings_per_s": round(confirmed / run.seconds, 1),
        "requests_per_s": round(sum(run.statuses.values()) / run.seconds, 1),
        "p50_ms": round(run.p50_ms, 1),
        "p95_ms": round(run.p95_ms, 1),
        "p99_ms": round(run.p99_ms, 1),
        "max_ms": round(run.max_ms, 1),
        "sold": check["sold"],
        "held_after": check["held"],
        "capacity": check["capacity"],
        "oversold": check["oversold"],
        "ledger_consistent": check["sold"] == check["confirmed_quantity"]
        and check["held"] == check["active_hold_quantity"],
        "errors_5xx": sum(count for key, count in run.statuses.items() if key.split()[-1].startswith("5")),
        "socket_errors": run.socket_errors,
        "statuses": run.statuses,
        "bookings": confirmed,
        "seconds": round(run.seconds, 2),
    }


def compared_figures(
    runs: dict[tuple[str, int, int], WrkRun], ref: str, commit: str, rounds: int
) -> dict[str, Any]:
    by_conns: dict[str, Any] = {}
    for connections in COMPARED_CONNECTIONS:
        by_conns[str(connections)] = {
            build: {
                "bookings_per_s": [
                    round(
                        runs[(build, connections, r)].statuses.get("201", 0)
                        / runs[(build, connections, r)].seconds,
                        1,
                    )
                    for r in range(rounds)
                ],
                "p99_ms": [round(runs[(build, connections, r)].p99_ms, 1) for r in range(rounds)],
                "errors_5xx": sum(
                    count
                    for r in range(rounds)
                    for status, count in runs[(build, connections, r)].statuses.items()
                    if status.startswith("5")
                ),
            }
            for build in COMPARED_BUILDS
        }
    return {"before": {"ref": ref, "commit": commit}, "after": git_commit(), "flash_sale": by_conns}


def browse_figures(run: WrkRun) -> dict[str, Any]:
    return {
        "requests_per_s": round(sum(run.statuses.values()) / run.seconds, 1),
        "p50_ms": round(run.p50_ms, 1),
        "p95_ms": round(run.p95_ms, 1),
        "p99_ms": round(run.p99_ms, 1),
        "max_ms": round(run.max_ms, 1),
        "errors_5xx": sum(count for status, count in run.statuses.items() if status.startswith("5")),
        "socket_errors": run.socket_errors,
        "statuses": run.statuses,
        "seconds": round(run.seconds, 2),
    }


def print_table(result: dict[str, Any]) -> None:
    rows = [("scenario", "conns", "bookings/s", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
             "sold/cap", "5xx", "db bookings/s", "service÷db")]  # fmt: skip
    for name, by_conns in result["scenarios"].items():
        if name == "flash_sale_db_best":
            continue
        for conns, s in by_conns.items():
            rows.append((
                name, conns, str(s.get("bookings_per_s", "-")),
                str(s["requests_per_s"]), str(s["p50_ms"]),
                str(s["p95_ms"]), str(s["p99_ms"]), str(s["max_ms"]),
                f"{s['sold']}/{s['capacity']}" if "sold" in s else "-", str(s["errors_5xx"]),
                str(s.get("db_limit_bookings_per_s", "-")), str(s.get("ratio_to_db", "-")),
            ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    machine = result["machine"]
    lines.append("")
    lines.append(
        f"machine: {machine['cpus']} cpus, Python {machine['python']}, PostgreSQL {machine['postgres']}"
    )
    lines.append(f"server peak RSS (MiB): {json.dumps(result['server_peak_rss_mib'])}")
    lines.append(f"load generator CPU share of the machine: {result['loadgen_cpu_share']:.1%}")
    for name, by_conns in result["scenarios"].items():
        for conns, s in by_conns.items():
            if s.get("bookings_per_write_transaction"):
                lines.append(
                    f"{name} at {conns}: {s['bookings_per_write_transaction']} bookings per write transaction"
                )
    outbox = result["email_worker_after_sales"]
    lines.append(
        f"email worker: {outbox['emails_sent']} emails of the sales sent in {outbox['seconds']} s"
        f" ({outbox['emails_per_s']}/s), before browse started"
    )
    for clients, best in result["scenarios"]["flash_sale_db_best"].items():
        lines.append(
            f"flash sale straight to PostgreSQL at {clients} clients: {best['db_bookings_per_s']} bookings/s"
        )
    for conns, s in result["scenarios"].get("hold_confirm", {}).items():
        lines.append(
            f"hold_confirm at {conns}: {s['bookings_per_s']} holds confirmed/s (two requests each);"
            f" held after the run: {s['held_after']}"
        )
    comparison = result.get("comparison")
    if comparison:
        before = comparison["before"]
        lines.append(
            f"flash sale, before ({before['ref']} = {before['commit'][:10]}) vs after (this checkout),"
        )
        lines.append("runs in the order before, after, after, before:")
        for conns, builds in comparison["flash_sale"].items():
            lines.append(
                f"  at {conns}: bookings/s before {builds['before']['bookings_per_s']}"
                f" after {builds['after']['bookings_per_s']};"
                f" p99 ms before {builds['before']['p99_ms']} after {builds['after']['p99_ms']}"
            )
    sys.stdout.write("\n".join(lines) + "\n")


def resolve(ref: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def compare_builds(
    ref: str, rounds: int, url: str, data: Seed, wrk: str, workdir: Path
) -> dict[tuple[str, int, int], WrkRun]:
    """The flash sale against the build of ``ref`` and this checkout, alternating;
    each run starts its build's service afresh, once the emails of the run before are sent."""
    checkout = workdir / "before-build"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(checkout), resolve(ref)],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    sources = {"before": checkout / "src", "after": None}
    runs: dict[tuple[str, int, int], WrkRun] = {}
    try:
        for connections in COMPARED_CONNECTIONS:
            for build, round_ in compared_order(rounds):
                name = compared_set(build, connections, round_)
                service = Service(url, workdir, sources[build])
                try:
                    service.start()
                    asyncio.run(drain_outbox(url))
                    wrk_browse(wrk, service.base, workdir / "browse.txt", 16, 2)  # warm up
                    log(f"compared flash sale, {build} build, {connections} connections, round {round_ + 1}")
                    runs[(build, connections, round_)] = wrk_bookings(
                        wrk, service.base, workdir / f"{name}.tsv", connections, workdir
                    )
                finally:
                    service.stop()
                check = asyncio.run(ledger(url, data.sets[name].event_ids))
                if check["oversold"] or check["sold"] != check["confirmed_quantity"]:
                    raise SystemExit(f"{name}: the ledger does not add up: {check}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep-database", action="store_true", help="do not drop the bench database")
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument(
        "--compare-with",
        metavar="REF",
        help="also run the flash sale against the build of this git commit, alternating with this one",
    )
    parser.add_argument(
        "--compare-rounds", type=int, default=2, help="runs of each build per connection count (default 2)"
    )
    parser.add_argument(
        "--database",
        choices=("postgresql", "mariadb"),
        default="postgresql",
        help="mariadb: the flash sale only, on MariaDB/MySQL (bench/mariadb.py; bench/results/mariadb.json)",
    )
    args = parser.parse_args()
    if args.database == "mariadb":
        import mariadb

        output = (
            args.output
            if args.output != BENCH / "results" / "latest.json"
            else BENCH / "results" / "mariadb.json"
        )
        mariadb.main(args.keep_database, output)
        return

    wrk = ensure_wrk()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    workdir = Path(tempfile.mkdtemp(prefix="boxoffice-bench-"))
    with bench_database(args.keep_database) as url:
        log("migrating")
        upgrade_to_head(url)
        log(f"seeding {USERS} users with tokens and {BROWSE_EVENTS + 5 + 2 * SPREAD_EVENTS} events")
        data = asyncio.run(seed(url, COMPARED_BUILDS if args.compare_with else (), args.compare_rounds))
        for name in data.sets:
            if not name.startswith("db_"):
                write_booking_plan(workdir / f"{name}.tsv", data, data.sets[name])
        write_browse_paths(workdir / "browse.txt", data.browse_event_ids)

        service = Service(url, workdir)
        runs: dict[str, WrkRun] = {}
        checks: dict[str, dict[str, int]] = {}
        try:
            service.start()
            log(f"warming up for {WARMUP_SECONDS} s")
            wrk_browse(wrk, service.base, workdir / "browse.txt", 16, WARMUP_SECONDS)
            for name, connections in (("flash_64", 64), ("flash_256", 256), ("spread_64", 64)):
                log(f"{name}: {USERS} booking requests over {connections} connections")
                runs[name] = wrk_bookings(wrk, service.base, workdir / f"{name}.tsv", connections, workdir)
                checks[name] = asyncio.run(ledger(url, data.sets[name].event_ids))
            log(f"hold_confirm_64: {USERS} holds, each confirmed when granted, over 64 connections")
            runs["hold_confirm_64"] = wrk_bookings(
                wrk, service.base, workdir / "hold_confirm_64.tsv", 64, workdir, script="hold_confirm.lua"
            )
            checks["hold_confirm_64"] = asyncio.run(ledger(url, data.sets["hold_confirm_64"].event_ids))
            log("waiting for the email worker to send the sales' emails")
            outbox = asyncio.run(drain_outbox(url))
            log(f"browse: {BROWSE_SECONDS} s over 64 connections, {BROWSE_EVENTS} events")
            runs["browse_64"] = wrk_browse(wrk, service.base, workdir / "browse.txt", 64, BROWSE_SECONDS)
            service.record_rss()
        finally:
            service.stop()

        compared: dict[tuple[str, int, int], WrkRun] = {}
        if args.compare_with:
            compared = compare_builds(args.compare_with, args.compare_rounds, url, data, wrk, workdir)

        connection_cap = asyncio.run(max_connections(url)) - 10
        db_runs = {}
        runs_db = (
            ("db_flash_64", 64),
            ("db_flash_256", 256),
            ("db_flash_best", DB_BEST_CLIENTS),
            ("db_spread_64", 64),
        )
        for name, clients in runs_db:
            used = min(clients, connection_cap)
            log(f"{name}: the same booking statements straight to PostgreSQL, {used} clients (pgbench)")
            db_runs[name] = pgbench(url, name, used, data.sets[name].event_ids)
        postgres = asyncio.run(postgres_version(url))

    load_seconds = sum(run.seconds for run in runs.values())
    load_cpu = sum(run.cpu_seconds for run in runs.values())
    result = {
        "commit": git_commit(),
        "started_at": started_at,
        "machine": {"cpus": CPUS, "python": platform.python_version(), "postgres": postgres},
        "server_peak_rss_mib": {name: round(mib, 1) for name, mib in service.rss.items()},
        "loadgen_cpu_share": round(load_cpu / (load_seconds * CPUS), 4),
        "loadgen": "wrk",
        "users": USERS,
        "email_worker_after_sales": outbox,
        "scenarios": {
            "flash_sale": {
                "64": booking_figures(runs["flash_64"], checks["flash_64"], db_runs["db_flash_64"]),
                "256": booking_figures(runs["flash_256"], checks["flash_256"], db_runs["db_flash_256"]),
            },
            "flash_sale_db_best": {
                str(DB_BEST_CLIENTS): {
                    "db_bookings_per_s": round(db_runs["db_flash_best"].bookings_per_s, 1),
                    "db_clients": DB_BEST_CLIENTS,
                },
            },
            "spread_sale": {
                "64": booking_figures(runs["spread_64"], checks["spread_64"], db_runs["db_spread_64"]),
            },
            "hold_confirm": {"64": hold_confirm_figures(runs["hold_confirm_64"], checks["hold_confirm_64"])},
            "browse": {"64": browse_figures(runs["browse_64"])},
        },
    }
    if args.compare_with:
        result["comparison"] = compared_figures(
            compared, args.compare_with, resolve(args.compare_with), args.compare_rounds
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    log(f"wrote {args.output}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
