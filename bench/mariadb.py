"""The flash sale on MariaDB/MySQL: ``./dev bench --database mariadb``.

The same service set-up, users, tokens and wrk script as the PostgreSQL run (bench/run.py), on a fresh
MariaDB/MySQL database on the server named by BOXOFFICE_BENCH_MARIADB_URL (default the local one):
the flash sale at 64 and 256 connections, the ledger checked after each, then the email worker's
drain. Writes bench/results/mariadb.json. The catalogue, spread-sale and database-limit (pgbench)
scenarios are PostgreSQL's only.
"""

import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from boxoffice.core.config import Settings
from boxoffice.core.security import Tokens, TokenType
from boxoffice.migrations import upgrade_to_head
from boxoffice.tickets.codes import new_key_pair

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench

ADMIN_URL = os.environ.get("BOXOFFICE_BENCH_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/mysql")
SCENARIOS = (("flash_64", 64), ("flash_256", 256))
# The drain is reported, not waited for to the end: the sale figures are what this run is for.
DRAIN_SECONDS = 60


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def bench_database(keep: bool) -> Iterator[str]:
    name = f"boxoffice_bench_{int(time.time())}"
    asyncio.run(_execute(ADMIN_URL, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        if keep:
            bench.log(f"kept database {name}")
        else:
            asyncio.run(_execute(ADMIN_URL, f"DROP DATABASE IF EXISTS `{name}`"))


async def _insert(engine: AsyncEngine, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    statement = text(
        f"INSERT INTO {table} ({', '.join(f'`{c}`' for c in columns)})"  # noqa: S608  (our own names)
        f" VALUES ({', '.join(f':{c}' for c in columns)})"
    )
    async with engine.begin() as connection:
        for start in range(0, len(rows), 2000):
            await connection.execute(statement, rows[start : start + 2000])


def _key(value: uuid.UUID) -> str:
    return value.hex  # SQLAlchemy's Uuid on MariaDB/MySQL: CHAR(32)


async def seed(url: str) -> bench.Seed:
    settings = Settings(_env_file=None, secret_key=bench.SIGNING_KEY, access_token_ttl_seconds=4 * 3600)  # type: ignore[call-arg]
    tokens = Tokens(settings)
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = create_async_engine(url)
    try:
        organizer = uuid.uuid4()
        user_ids = [uuid.uuid4() for _ in range(bench.USERS)]
        session_ids = [uuid.uuid4() for _ in range(bench.USERS)]
        password_hash = "$argon2id$v=19$m=65536,t=3,p=4$bench$not-a-real-hash"  # noqa: S105  (nobody logs in)
        people = [(organizer, "organizer@bench.boxoffice", "Bench Organizer", "organizer")] + [
            (uid, f"user{i}@bench.boxoffice", f"Bench User {i}", "attendee") for i, uid in enumerate(user_ids)
        ]
        await _insert(
            engine,
            "user_account",
            [
                {"id": _key(uid), "email": email, "password_hash": password_hash, "full_name": name,
                 "role": role, "is_active": True, "created_at": now, "updated_at": now}
                for uid, email, name, role in people
            ],
        )  # fmt: skip
        await _insert(
            engine,
            "auth_session",
            [
                {"id": _key(sid), "user_id": _key(uid), "refresh_jti": uuid.uuid4().hex, "created_at": now,
                 "expires_at": now + timedelta(days=1)}
                for uid, sid in zip(user_ids, session_ids, strict=True)
            ],
        )  # fmt: skip
        access = [
            tokens.issue(uid, sid, TokenType.ACCESS).token
            for uid, sid in zip(user_ids, session_ids, strict=True)
        ]
        result = bench.Seed(user_ids, session_ids, access)
        events, ticket_types = [], []
        for name, _ in SCENARIOS:
            row = bench.event_row(organizer, name, "Berlin", "music", datetime.now(UTC) + timedelta(days=30))
            event = dict(zip(bench.EVENT_COLUMNS, row, strict=True))
            for column, value in event.items():
                if isinstance(value, uuid.UUID):
                    event[column] = _key(value)
                elif isinstance(value, datetime):
                    event[column] = value.astimezone(UTC).replace(tzinfo=None)
            events.append(event)
            type_id = uuid.uuid4()
            ticket_types.append(
                {"id": _key(type_id), "event_id": event["id"], "name": "General admission",
                 "price": Decimal("10.00"), "capacity": bench.FLASH_CAPACITY, "sold": 0, "held": 0,
                 "waiting": 0, "position": 0}
            )  # fmt: skip
            result.sets[name] = bench.EventSet(name, [row[0]], [type_id], bench.FLASH_CAPACITY)
        await _insert(engine, "event", events)
        await _insert(engine, "ticket_type", ticket_types)
        keys = []
        for event in events:
            pair = new_key_pair()
            keys.append({"event_id": event["id"], "public_key": pair.public_key,
                         "private_key": pair.private_key, "created_at": now})  # fmt: skip
        await _insert(engine, "ticket_signing_key", keys)
        return result
    finally:
        await engine.dispose()


async def ledger(url: str, event_ids: list[uuid.UUID]) -> dict[str, int]:
    """As bench/run.py's ledger, for one sale's events."""
    engine = create_async_engine(url)
    ids = [_key(event_id) for event_id in event_ids]
    statement = text(
        """
        SELECT coalesce(sum(t.sold), 0), coalesce(sum(t.capacity), 0), coalesce(sum(t.held), 0),
               coalesce(sum(greatest(t.sold - t.capacity, 0)), 0),
               (SELECT coalesce(sum(b.quantity), 0) FROM booking b
                 WHERE b.event_id IN :ids AND b.status = 'confirmed'),
               (SELECT count(*) FROM booking b WHERE b.event_id IN :ids AND b.status = 'confirmed'),
               (SELECT count(DISTINCT b.created_at) FROM booking b
                 WHERE b.event_id IN :ids AND b.status = 'confirmed')
          FROM ticket_type t WHERE t.event_id IN :ids
        """
    ).bindparams(bindparam("ids", expanding=True))
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(statement, {"ids": ids})).one()
    finally:
        await engine.dispose()
    keys = ("sold", "capacity", "held", "oversold", "confirmed_quantity", "bookings", "transactions")
    return {key: int(value) for key, value in zip(keys, row, strict=True)}


async def drain_outbox(url: str, within_seconds: float) -> dict[str, Any]:
    """Wait up to ``within_seconds`` for the email worker to send the sales' emails; what it sent by
    then, how fast, and how many were still pending."""
    engine = create_async_engine(url)
    pending_query = text("SELECT count(*) FROM outbox_message WHERE status = 'pending'")
    try:
        async with engine.connect() as connection:
            deadline = time.monotonic() + within_seconds
            while (pending := await connection.scalar(pending_query)) and time.monotonic() < deadline:
                await connection.rollback()
                await asyncio.sleep(0.5)
            sent, seconds = (
                await connection.execute(
                    text(
                        "SELECT count(*), timestampdiff(MICROSECOND, min(created_at), max(sent_at)) / 1e6"
                        " FROM outbox_message WHERE status = 'sent'"
                    )
                )
            ).one()
            version = str(await connection.scalar(text("SELECT version()")))
    finally:
        await engine.dispose()
    seconds = float(seconds or 0)
    return {
        "emails_sent": int(sent),
        "seconds": round(seconds, 1),
        "emails_per_s": round(int(sent) / seconds, 1) if seconds else None,
        "still_pending": int(pending or 0),
        "server": version,
    }


def figures(run: bench.WrkRun, check: dict[str, int]) -> dict[str, Any]:
    created = run.statuses.get("201", 0)
    return {
        "bookings_per_s": round(created / run.seconds, 1),
        "requests_per_s": round(sum(run.statuses.values()) / run.seconds, 1),
        "p50_ms": round(run.p50_ms, 1),
        "p95_ms": round(run.p95_ms, 1),
        "p99_ms": round(run.p99_ms, 1),
        "max_ms": round(run.max_ms, 1),
        "sold": check["sold"],
        "capacity": check["capacity"],
        "oversold": check["oversold"],
        "ledger_consistent": check["sold"] == check["confirmed_quantity"] and check["held"] == 0,
        "errors_5xx": sum(count for status, count in run.statuses.items() if status.startswith("5")),
        "socket_errors": run.socket_errors,
        "statuses": run.statuses,
        "bookings_per_write_transaction": round(check["bookings"] / check["transactions"], 2)
        if check["transactions"]
        else None,
        "seconds": round(run.seconds, 2),
    }


def main(keep_database: bool, output: Path) -> None:
    wrk = bench.ensure_wrk()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    workdir = Path(tempfile.mkdtemp(prefix="boxoffice-bench-mariadb-"))
    with bench_database(keep_database) as url:
        bench.log("migrating (MariaDB/MySQL)")
        upgrade_to_head(url)
        bench.log(f"seeding {bench.USERS} users with tokens and {len(SCENARIOS)} flash-sale events")
        data = asyncio.run(seed(url))
        for name, _ in SCENARIOS:
            bench.write_booking_plan(workdir / f"{name}.tsv", data, data.sets[name])
        service = bench.Service(url, workdir)
        runs, checks = {}, {}
        try:
            service.start()
            for name, connections in SCENARIOS:
                bench.log(f"{name}: {bench.USERS} booking requests over {connections} connections (MariaDB)")
                runs[name] = bench.wrk_bookings(
                    wrk, service.base, workdir / f"{name}.tsv", connections, workdir
                )
                checks[name] = asyncio.run(ledger(url, data.sets[name].event_ids))
            bench.log("waiting for the email worker to send the sales' emails")
            outbox = asyncio.run(drain_outbox(url, DRAIN_SECONDS))
            service.record_rss()
        finally:
            service.stop()
    result = {
        "commit": bench.git_commit(),
        "started_at": started_at,
        "machine": {"cpus": bench.CPUS, "python": platform.python_version(), "mariadb": outbox.pop("server")},
        "server_peak_rss_mib": {name: round(mib, 1) for name, mib in service.rss.items()},
        "users": bench.USERS,
        "email_worker_after_sales": outbox,
        "scenarios": {
            "flash_sale": {str(conns): figures(runs[name], checks[name]) for name, conns in SCENARIOS}
        },
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    lines = ["scenario    conns  bookings/s  req/s  p50 ms  p95 ms  p99 ms  max ms  sold/cap  5xx  per txn"]
    for conns, s in result["scenarios"]["flash_sale"].items():
        lines.append(
            f"flash sale  {conns:>5}  {s['bookings_per_s']:>10}  {s['requests_per_s']:>5}  {s['p50_ms']:>6}"
            f"  {s['p95_ms']:>6}  {s['p99_ms']:>6}  {s['max_ms']:>6}  {s['sold']}/{s['capacity']}"
            f"  {s['errors_5xx']:>3}  {s['bookings_per_write_transaction']}"
        )
    lines.append(
        f"machine: {bench.CPUS} cpus, Python {platform.python_version()}, {result['machine']['mariadb']}"
    )
    lines.append(
        f"email worker: {outbox['emails_sent']} emails in {outbox['seconds']} s ({outbox['emails_per_s']}/s),"
        f" {outbox['still_pending']} still pending"
    )
    sys.stdout.write("\n".join(lines) + "\n")
    bench.log(f"wrote {output}")
    shutil.rmtree(workdir, ignore_errors=True)
