"""Account rules: who may register, log in, refresh, log out and change what."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import repository
from boxoffice.accounts.auth import Principal
from boxoffice.accounts.schemas import RegisterRequest, TokenPair, UserUpdate
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.db import utcnow
from boxoffice.core.deps import ClientInfo
from boxoffice.core.errors import (
    AccountDisabled,
    EmailTaken,
    InvalidCredentials,
    ResetTokenInvalid,
    RuleViolation,
    TokenInvalid,
    TokenReused,
    WrongCurrentPassword,
)
from boxoffice.core.security import Passwords, Tokens, TokenType
from boxoffice.models import Role, User
from boxoffice.notifications import outbox

RESET_TOKEN_TTL = timedelta(hours=1)


async def register(session: AsyncSession, passwords: Passwords, data: RegisterRequest) -> User:
    return await create_user(
        session,
        passwords,
        email=data.email,
        password=data.password,
        full_name=data.full_name,
        role=Role(data.role),
    )


async def create_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    full_name: str,
    role: Role,
) -> User:
    """Create an account of any role; the callers decide which roles they may hand out."""
    if await repository.user_by_email(session, email) is not None:
        raise EmailTaken(f"An account with email {email} already exists.")
    user = User(
        email=email,
        password_hash=await passwords.hash(password),
        full_name=full_name,
        role=role,
        is_active=True,
    )
    return await repository.save_user(session, user)


async def login(
    session: AsyncSession,
    passwords: Passwords,
    tokens: Tokens,
    *,
    email: str,
    password: str,
    client: ClientInfo,
) -> TokenPair:
    user = await repository.user_by_email(session, email)
    # Always verify a hash, even for an unknown email, so both failures take the same time.
    if not await passwords.verify(password, user.password_hash if user else None):
        reason = "wrong_password" if user else "unknown_email"
        audit.record(
            session, user, Action.LOGIN_FAILED, "user", user.id if user else None, email=email, reason=reason
        )
        raise InvalidCredentials("The email or password is wrong.")
    assert user is not None
    if not user.is_active:
        audit.record(
            session, user, Action.LOGIN_FAILED, "user", user.id, email=email, reason="account_disabled"
        )
        raise AccountDisabled("This account has been disabled.")
    user.last_login_at = utcnow()
    audit.record(session, user, Action.LOGIN_SUCCEEDED, "user", user.id)
    return await _open_session(session, tokens, user.id, client)


async def _open_session(
    session: AsyncSession, tokens: Tokens, user_id: UUID, client: ClientInfo
) -> TokenPair:
    auth_session = await repository.open_session(
        session,
        user_id=user_id,
        refresh_jti="",
        expires_at=utcnow() + tokens.ttl(TokenType.REFRESH),
        user_agent=client.user_agent,
        ip_address=client.ip,
    )
    refresh = tokens.issue(user_id, auth_session.id, TokenType.REFRESH)
    auth_session.refresh_jti = refresh.claims.jti
    await session.flush()
    return _token_pair(tokens, user_id, auth_session.id, refresh.token)


def _token_pair(tokens: Tokens, user_id: UUID, session_id: UUID, refresh_token: str) -> TokenPair:
    access = tokens.issue(user_id, session_id, TokenType.ACCESS)
    return TokenPair(
        access_token=access.token,
        refresh_token=refresh_token,
        expires_in=int(tokens.ttl(TokenType.ACCESS).total_seconds()),
    )


async def refresh(session: AsyncSession, tokens: Tokens, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair. A spent one ends its whole session (reuse detection)."""
    claims = tokens.decode(refresh_token, TokenType.REFRESH)
    if claims is None:
        raise TokenInvalid("The refresh token is invalid or has expired.")
    if await repository.active_user_in_session(session, claims.user_id, claims.session_id) is None:
        raise TokenInvalid("This session has ended; log in again.")
    new_refresh = tokens.issue(claims.user_id, claims.session_id, TokenType.REFRESH)
    rotated = await repository.rotate_refresh(
        session,
        session_id=claims.session_id,
        spent_jti=claims.jti,
        new_jti=new_refresh.claims.jti,
        expires_at=new_refresh.claims.expires_at,
    )
    if not rotated:
        # A genuine token of a live session that is no longer its live one: it was spent before.
        # Whoever holds it (the user or a thief) cannot tell which copy is legitimate, so end it all.
        await repository.revoke_session(session, claims.session_id)
        raise TokenReused("This refresh token was already used; the session has been ended.")
    return _token_pair(tokens, claims.user_id, claims.session_id, new_refresh.token)


async def logout(
    session: AsyncSession, tokens: Tokens, principal: Principal, refresh_token: str | None
) -> None:
    """End the caller's session, and the one a given refresh token belongs to if it is theirs."""
    await repository.revoke_session(session, principal.session_id)
    if refresh_token is None:
        return
    claims = tokens.decode(refresh_token, TokenType.REFRESH)
    if claims is not None and claims.user_id == principal.user.id:
        await repository.revoke_session(session, claims.session_id)


async def update_profile(
    session: AsyncSession, passwords: Passwords, principal: Principal, data: UserUpdate
) -> User:
    user = principal.user
    if data.email is not None or data.password is not None:
        if data.current_password is None:
            raise RuleViolation(
                ["body", "current_password"],
                "current_password is required to change email or password",
                "missing",
            )
        if not await passwords.verify(data.current_password, user.password_hash):
            raise WrongCurrentPassword("The current password is wrong.")
    if data.full_name is not None:
        user.full_name = data.full_name
    if data.email is not None and data.email != user.email:
        if await repository.user_by_email(session, data.email) is not None:
            raise EmailTaken(f"An account with email {data.email} already exists.")
        user.email = data.email
    if data.password is not None:
        user.password_hash = await passwords.hash(data.password)
        await repository.revoke_user_sessions(session, user.id, keep=principal.session_id)
        audit.record(session, user, Action.PASSWORD_CHANGED, "user", user.id)
    return await repository.save_user(session, user)


def _reset_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_password_reset(session: AsyncSession, email: str) -> None:
    """Queue the request, and nothing else: the same work whether or not the email has an account,
    so neither the answer nor its timing tells. The worker does the rest (password_reset_email)."""
    outbox.password_reset_requested(session, email)


async def password_reset_email(session: AsyncSession, email: str) -> dict[str, Any] | None:
    """A new single-use reset token for the active account with this email, as the payload of its
    email; None if there is no such account."""
    user = await repository.user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    token = secrets.token_urlsafe(32)
    await repository.add_reset_token(session, user.id, _reset_token_hash(token), utcnow() + RESET_TOKEN_TTL)
    return outbox.password_reset_payload(user, token, int(RESET_TOKEN_TTL.total_seconds() // 60))


async def reset_password(session: AsyncSession, passwords: Passwords, token: str, new_password: str) -> None:
    """Set a new password with a reset token, once; every session of the user ends."""
    user_id = await repository.spend_reset_token(session, _reset_token_hash(token))
    user = await repository.user_by_id(session, user_id) if user_id else None
    if user is None or not user.is_active:
        raise ResetTokenInvalid("This reset token is invalid, used or expired; ask for a new one.")
    user.password_hash = await passwords.hash(new_password)
    await repository.revoke_user_sessions(session, user.id)
    audit.record(session, user, Action.PASSWORD_RESET, "user", user.id)
    await repository.save_user(session, user)


async def end_all_sessions(session: AsyncSession, user_id: UUID) -> None:
    """Revoke every session of a user (a ban): their tokens stop working with the next request."""
    await repository.revoke_user_sessions(session, user_id)


async def public_name(session: AsyncSession, user_id: UUID) -> str | None:
    """The name an account shows to the public (an event's organizer on its page)."""
    user = await repository.user_by_id(session, user_id)
    return user.full_name if user is not None else None
