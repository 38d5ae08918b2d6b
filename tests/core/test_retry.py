"""A request whose transaction lost a lock conflict (InnoDB's deadlock victim, 1213; a lock wait that
timed out, 1205) runs again with the same body; anything else, or a conflict after the answer has
started, is not retried. The conflicts themselves are exercised on a real MariaDB by the concurrency
tests (tests/bookings/test_concurrency.py, tests/waitlist/test_races.py)."""

from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import OperationalError
from starlette.types import Receive, Scope, Send

from boxoffice.core.retry import RetryOnLockConflict


class Flaky:
    """An app that fails ``failures`` times with ``error``, then echoes the body it was sent."""

    def __init__(self, error: Exception, failures: int, answer_first: bool = False) -> None:
        self.error = error
        self.failures = failures
        self.answer_first = answer_first
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.bodies.append(message.get("body", b""))
        if len(self.bodies) <= self.failures:
            if self.answer_first:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            raise self.error
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": self.bodies[-1]})


def _mysql_error(code: int) -> OperationalError:
    return OperationalError("UPDATE ticket_type ...", {}, Exception(code, "lock conflict"))


async def _post(app: Any) -> Any:
    async with AsyncClient(
        transport=ASGITransport(app=RetryOnLockConflict(app)), base_url="http://t"
    ) as http:
        return await http.post("/api/v1/bookings", content=b'{"quantity": 2}')


@pytest.mark.parametrize("code", [1213, 1205])
async def test_a_lock_conflict_runs_the_request_again_with_the_same_body(code: int) -> None:
    app = Flaky(_mysql_error(code), failures=2)
    response = await _post(app)
    assert response.status_code == 200
    assert response.content == b'{"quantity": 2}'
    assert app.bodies == [b'{"quantity": 2}'] * 3


async def test_it_gives_up_after_five_attempts() -> None:
    app = Flaky(_mysql_error(1213), failures=5)
    with pytest.raises(OperationalError):
        await _post(app)
    assert len(app.bodies) == 5


@pytest.mark.parametrize("error", [_mysql_error(1062), RuntimeError("not a lock conflict")])
async def test_other_errors_are_not_retried(error: Exception) -> None:
    app = Flaky(error, failures=1)
    with pytest.raises(type(error)):
        await _post(app)
    assert len(app.bodies) == 1


async def test_a_conflict_after_the_answer_started_is_not_retried() -> None:
    app = Flaky(_mysql_error(1213), failures=1, answer_first=True)
    with pytest.raises(OperationalError):
        await _post(app)
    assert len(app.bodies) == 1
