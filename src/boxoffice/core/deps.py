"""Request-scoped dependencies, defined once as ``Annotated`` aliases."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import repository as accounts_repository
from boxoffice.core.config import Settings
from boxoffice.core.db import Database
from boxoffice.core.errors import DomainError, Forbidden, NotAuthenticated
from boxoffice.core.security import Passwords, TokenClaims, Tokens, TokenType
from boxoffice.models import Role, User

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
    """The request's unit of work: the one place that commits.

    It runs with ``scope="function"``, so the commit happens after the endpoint returns but before the
    response is sent: a commit that fails reaches the client as an error, never as a false success.
    """
    database: Database = request.app.state.database
    factory = database.reader if request.method in _READ_ONLY_METHODS else database.writer
    async with database.session(factory) as session:
        try:
            yield session
        except DomainError as error:
            if error.keeps_changes:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SettingsDep = Annotated[Settings, Depends(_settings)]
PasswordsDep = Annotated[Passwords, Depends(_passwords)]
TokensDep = Annotated[Tokens, Depends(_tokens)]
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(_database)]
"""For reads outside any unit of work: the public catalogue (``Database.read_rows``)."""

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    auto_error=False,
    description="Log in with your email as `username`; the access token is sent as a Bearer token.",
)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the login session the token belongs to."""

    user: User
    session_id: UUID


BearerToken = Annotated[str | None, Depends(bearer_scheme)]


def token_claims(tokens: Tokens, token: str | None) -> TokenClaims:
    """What a genuine, unexpired access token says: 401 without one, or if it is invalid or expired.
    Whether its login session is still alive is for the database to say (authenticate)."""
    if not token:
        raise NotAuthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    claims = tokens.decode(token, TokenType.ACCESS)
    if claims is None:
        raise NotAuthenticated("The access token is invalid or has expired.")
    return claims


def _session_ended() -> NotAuthenticated:
    return NotAuthenticated("This session has ended; log in again.")


async def authenticate(session: AsyncSession, tokens: Tokens, token: str | None) -> Principal:
    """The caller behind an access token: 401 without one, or if it is invalid, expired or its login
    session has ended (checked in the database on every request, so logout and bans act at once)."""
    claims = token_claims(tokens, token)
    user = await accounts_repository.active_user_in_session(session, claims.user_id, claims.session_id)
    if user is None:
        raise _session_ended()
    return Principal(user=user, session_id=claims.session_id)


async def authenticate_all(
    session: AsyncSession, callers: Sequence[TokenClaims]
) -> list[User | NotAuthenticated]:
    """authenticate for the callers of many requests in one query (bookings/admission.py): for each,
    the user, or the 401 for a login session that has ended."""
    users = await accounts_repository.active_users_in_sessions(session, {c.session_id for c in callers})
    answers: list[User | NotAuthenticated] = []
    for claims in callers:
        user = users.get(claims.session_id)
        answers.append(user if user is not None and user.id == claims.user_id else _session_ended())
    return answers


async def _principal(session: SessionDep, tokens: TokensDep, token: BearerToken) -> Principal:
    return await authenticate(session, tokens, token)


async def _current_user(principal: Annotated[Principal, Depends(_principal)]) -> User:
    return principal.user


async def _organizer_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if user.role not in (Role.ORGANIZER, Role.ADMIN):
        raise Forbidden("Only organizers and admins may do this.")
    return user


async def _admin_user(user: Annotated[User, Depends(_current_user)]) -> User:
    if user.role is not Role.ADMIN:
        raise Forbidden("Only admins may do this.")
    return user


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentUser = Annotated[User, Depends(_current_user)]
OrganizerUser = Annotated[User, Depends(_organizer_user)]
AdminUser = Annotated[User, Depends(_admin_user)]


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
