"""Who is calling: an access token, checked against its login session in the database.

A token's signature and expiry are checked in Python (``token_claims``); whether its login session is
still alive and its account active is for the database to say, on every request, so logout, bans and
password changes act at once. ``authenticate_all`` does that for many callers in one query (a batch of
bookings); a single request is the batch of one.

A door device signs in with a check-in token instead (``CheckinDevice``): it may check tickets in,
undo check-ins and read the check-in keys of its one event, and only the routes that say so
(``CheckinCaller``) take one. Everywhere else a check-in token is refused with 403 before anything
is looked up.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import repository
from boxoffice.core.deps import SessionDep, TokensDep
from boxoffice.core.errors import Forbidden, NotAuthenticated
from boxoffice.core.security import TokenClaims, Tokens, TokenType, is_checkin_token, secret_digest
from boxoffice.models import Role, User

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/login",
    auto_error=False,
    description="Log in with your email as `username`; the access token is sent as a Bearer token.",
)

BearerToken = Annotated[str | None, Depends(bearer_scheme)]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller and the login session the token belongs to."""

    user: User
    session_id: UUID


@dataclass(frozen=True)
class CheckinDevice:
    """A door device authenticated by a check-in token: it acts for one event, and only at the door."""

    token_id: UUID
    event_id: UUID
    name: str


DOOR_ONLY = "A check-in token may only check tickets in, undo check-ins and read check-in keys."


def token_claims(tokens: Tokens, token: str | None) -> TokenClaims:
    """What a genuine, unexpired access token says: 401 without one, or if it is invalid or expired;
    403 for a check-in token, which is not an access token."""
    if not token:
        raise NotAuthenticated("Send an access token as 'Authorization: Bearer <token>'.")
    if is_checkin_token(token):
        raise Forbidden(DOOR_ONLY)
    claims = tokens.decode(token, TokenType.ACCESS)
    if claims is None:
        raise NotAuthenticated("The access token is invalid or has expired.")
    return claims


async def authenticate_all(
    session: AsyncSession, callers: Sequence[TokenClaims]
) -> list[Principal | NotAuthenticated]:
    """For each caller, in one query: the principal, or the 401 for a login session that has ended
    (logged out, revoked, or its account disabled)."""
    users = await repository.active_users_in_sessions(session, {claims.session_id for claims in callers})
    answers: list[Principal | NotAuthenticated] = []
    for claims in callers:
        user = users.get(claims.session_id)
        if user is not None and user.id == claims.user_id:
            answers.append(Principal(user=user, session_id=claims.session_id))
        else:
            answers.append(NotAuthenticated("This session has ended; log in again."))
    return answers


async def authenticate(session: AsyncSession, tokens: Tokens, token: str | None) -> Principal:
    """The caller behind an access token, or 401."""
    (answer,) = await authenticate_all(session, [token_claims(tokens, token)])
    if isinstance(answer, NotAuthenticated):
        raise answer
    return answer


def web_session_token(tokens: Tokens, pair_refresh_token: str) -> str:
    """The browser's session cookie for the login session a fresh token pair opened (web/): a token
    of its own type, so it is never taken for an access or refresh token, on the same login session,
    so logout, bans and password changes end it as they end the API's tokens."""
    claims = tokens.decode(pair_refresh_token, TokenType.REFRESH)
    assert claims is not None, "a refresh token issued moments ago"
    return tokens.issue(claims.user_id, claims.session_id, TokenType.WEB).token


async def authenticate_web(session: AsyncSession, tokens: Tokens, cookie: str | None) -> Principal | None:
    """The signed-in user behind a browser's session cookie, or None (no cookie, a forged or expired
    one, or a login session that has ended)."""
    claims = tokens.decode(cookie, TokenType.WEB) if cookie else None
    if claims is None:
        return None
    (answer,) = await authenticate_all(session, [claims])
    return None if isinstance(answer, NotAuthenticated) else answer


def access_token_of(tokens: Tokens, principal: Principal) -> str:
    """A short-lived access token on the principal's login session: how a page hands the caller to
    the booking writer, which authenticates every sale by its token."""
    return tokens.issue(principal.user.id, principal.session_id, TokenType.ACCESS).token


async def authenticate_checkin_caller(
    session: AsyncSession, tokens: Tokens, token: str | None
) -> User | CheckinDevice:
    """The caller of a door route: a door device behind a live check-in token, or a user behind an
    access token; 401 otherwise."""
    if token is None or not is_checkin_token(token):
        return (await authenticate(session, tokens, token)).user
    checkin_token = await repository.active_checkin_token(session, secret_digest(token))
    if checkin_token is None:
        raise NotAuthenticated("This check-in token is unknown or has been revoked.")
    return CheckinDevice(token_id=checkin_token.id, event_id=checkin_token.event_id, name=checkin_token.name)


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


async def _checkin_caller(session: SessionDep, tokens: TokensDep, token: BearerToken) -> User | CheckinDevice:
    return await authenticate_checkin_caller(session, tokens, token)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentUser = Annotated[User, Depends(_current_user)]
OrganizerUser = Annotated[User, Depends(_organizer_user)]
AdminUser = Annotated[User, Depends(_admin_user)]
CheckinCaller = Annotated[User | CheckinDevice, Depends(_checkin_caller)]
"""A user (the event's organizer or an admin: the service checks) or a door device of the event."""
