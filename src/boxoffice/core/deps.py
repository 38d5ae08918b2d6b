"""Request-scoped dependencies, defined once as ``Annotated`` aliases."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.config import Settings
from boxoffice.core.db import Database
from boxoffice.core.security import Passwords, Tokens

_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Every dependency here is ``async def``: FastAPI runs plain ``def`` dependencies in a thread pool,
# a thread hand-off per request for work that never blocks.


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _passwords(request: Request) -> Passwords:
    passwords: Passwords = request.app.state.passwords
    return passwords


async def _tokens(request: Request) -> Tokens:
    tokens: Tokens = request.app.state.tokens
    return tokens


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work (``Database.unit_of_work``, the one place that commits).

    It runs with ``scope="function"``, so the commit happens after the endpoint returns but before the
    response is sent: a commit that fails reaches the client as an error, never as a false success.
    """
    database: Database = request.app.state.database
    factory = database.reader if request.method in _READ_ONLY_METHODS else database.writer
    async with database.unit_of_work(factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(_settings)]
PasswordsDep = Annotated[Passwords, Depends(_passwords)]
TokensDep = Annotated[Tokens, Depends(_tokens)]
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(_database)]
"""For reads outside any unit of work: the public catalogue (``Database.read_rows``)."""


@dataclass(frozen=True)
class ClientInfo:
    """Who is on the other end of the request, for sessions and the audit trail."""

    ip: str | None
    user_agent: str | None
    request_id: str


async def _client_info(request: Request) -> ClientInfo:
    user_agent = request.headers.get("user-agent")
    return ClientInfo(
        ip=request.client.host if request.client else None,
        user_agent=user_agent[:255] if user_agent else None,
        request_id=str(request.scope.get("state", {}).get("request_id", "")),
    )


ClientDep = Annotated[ClientInfo, Depends(_client_info)]
