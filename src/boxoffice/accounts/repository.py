"""SQL for users and login sessions."""

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.db import rows_affected, utcnow, violates_unique
from boxoffice.core.errors import EmailTaken
from boxoffice.models import AuthSession, CheckinToken, PasswordResetToken, User


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.scalars(select(User).where(User.email == email))
    return result.one_or_none()


async def user_by_id(session: AsyncSession, user_id: UUID) -> User | None:
    return await session.get(User, user_id)


async def save_user(session: AsyncSession, user: User) -> User:
    """Insert or update a user; a taken email (even when two requests race for it) is EmailTaken.

    Opening the savepoint flushes changes made before it, outside it: a failure there spoils the
    whole transaction, and the user's attributes can no longer be read. So the email is read first,
    and the unit of work throws everything away (EmailTaken keeps no changes)."""
    email = user.email
    session.add(user)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        if violates_unique(error, "uq_user_account_email", "user_account.email"):
            raise EmailTaken(f"An account with email {email} already exists.") from error
        raise
    return user


async def active_checkin_token(session: AsyncSession, token_hash: str) -> CheckinToken | None:
    """The check-in token with this hash, unless it has been revoked."""
    result = await session.scalars(
        select(CheckinToken).where(CheckinToken.token_hash == token_hash, CheckinToken.revoked_at.is_(None))
    )
    return result.one_or_none()


async def active_user_in_session(session: AsyncSession, user_id: UUID, session_id: UUID) -> User | None:
    """The user behind an access token, if the account is active and the session alive."""
    result = await session.scalars(
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id == session_id,
            User.id == user_id,
            AuthSession.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )
    return result.one_or_none()


async def active_users_in_sessions(session: AsyncSession, session_ids: Collection[UUID]) -> dict[UUID, User]:
    """active_user_in_session for many sessions in one query: the users by session id."""
    result = await session.execute(
        select(AuthSession.id, User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.id.in_(session_ids),
            AuthSession.revoked_at.is_(None),
            User.is_active.is_(True),
        )
    )
    return {row[0]: row[1] for row in result}


async def open_session(
    session: AsyncSession,
    *,
    user_id: UUID,
    refresh_jti: str,
    expires_at: datetime,
    user_agent: str | None,
    ip_address: str | None,
) -> AuthSession:
    auth_session = AuthSession(
        user_id=user_id,
        refresh_jti=refresh_jti,
        expires_at=expires_at,
        user_agent=user_agent,
        ip_address=ip_address,
    )
    session.add(auth_session)
    await session.flush()
    return auth_session


async def session_by_id(session: AsyncSession, session_id: UUID) -> AuthSession | None:
    return await session.get(AuthSession, session_id)


async def rotate_refresh(
    session: AsyncSession,
    *,
    session_id: UUID,
    spent_jti: str,
    new_jti: str,
    expires_at: datetime,
) -> bool:
    """Swap the session's live refresh token for a new one, if ``spent_jti`` is still the live one.

    One conditional statement: of two requests presenting the same token, exactly one wins.
    """
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.refresh_jti == spent_jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .values(refresh_jti=new_jti, refreshed_at=utcnow(), expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return rows_affected(result) == 1


async def revoke_session(session: AsyncSession, session_id: UUID) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: UUID, *, keep: UUID | None = None) -> None:
    """End every live session of a user, except ``keep`` (the caller's own) when given."""
    statement = update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    await session.execute(statement.values(revoked_at=utcnow()).execution_options(synchronize_session=False))


async def add_reset_token(
    session: AsyncSession, user_id: UUID, token_hash: str, expires_at: datetime
) -> None:
    session.add(PasswordResetToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at))
    await session.flush()


async def spend_reset_token(session: AsyncSession, token_hash: str) -> UUID | None:
    """Use a reset token once: of two requests presenting it, one wins. The user it was for, or None."""
    now = utcnow()
    user_id = await session.scalar(
        select(PasswordResetToken.user_id).where(PasswordResetToken.token_hash == token_hash)
    )
    if user_id is None:
        return None
    result = await session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == token_hash,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_affected(result) != 1:
        return None
    # Any other outstanding token of this user dies with this one.
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return user_id
