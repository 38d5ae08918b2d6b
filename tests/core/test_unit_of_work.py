"""The request's unit of work commits before the response, and a failed commit is never a success."""

from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, func, select

from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import Conflict
from boxoffice.models import User
from tests.factories import assert_problem


def _user(email: str) -> User:
    return User(email=email, password_hash="x", full_name="X", role="attendee", is_active=True)


async def _count_users(app: FastAPI) -> int:
    async with app.state.database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_a_commit_that_fails_reaches_the_client_as_an_error(app: FastAPI) -> None:
    def refuse_commit(_session: Any) -> None:
        raise RuntimeError("commit refused")

    @app.post("/commit-fails")
    async def commit_fails(session: SessionDep) -> dict[str, bool]:
        session.add(_user("never@example.com"))
        event.listen(session.sync_session, "before_commit", refuse_commit)
        return {"ok": True}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        response = await client.post("/commit-fails")
    assert_problem(response, 500, "internal_error")
    assert await _count_users(app) == 0


async def test_changes_are_committed_before_the_response(app: FastAPI) -> None:
    @app.post("/writes")
    async def writes(session: SessionDep) -> dict[str, bool]:
        session.add(_user("kept@example.com"))
        return {"ok": True}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.post("/writes")).status_code == 200
    assert await _count_users(app) == 1


async def test_a_domain_error_throws_the_changes_away(app: FastAPI) -> None:
    @app.post("/conflicts")
    async def conflicts(session: SessionDep) -> None:
        session.add(_user("dropped@example.com"))
        await session.flush()
        raise Conflict("no")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        assert_problem(await client.post("/conflicts"), 409, "conflict")
    assert await _count_users(app) == 0
