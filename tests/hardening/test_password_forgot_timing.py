"""Password-forgot does the same work whether or not the email has an account: it only queues the
request; the worker looks the account up after the answer. Measured as the SQL the request runs,
not as wall-clock time."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.factories import create_account, unique_email


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def _sql_of_forgot(client: AsyncClient, email: str) -> list[str]:
    with statements() as seen:
        response = await client.post("/api/v1/auth/password/forgot", json={"email": email})
    assert response.status_code == 202
    return seen


async def test_password_forgot_runs_the_same_sql_for_known_and_unknown_emails(
    app: FastAPI, client: AsyncClient
) -> None:
    known = await create_account(client)
    await _sql_of_forgot(client, unique_email("warmup"))  # connection set-up out of the way

    for_known = await _sql_of_forgot(client, known.email)
    for_unknown = await _sql_of_forgot(client, unique_email("nobody"))

    assert for_known == for_unknown
    assert not any("user_account" in statement for statement in for_known)
