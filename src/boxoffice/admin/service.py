"""Admin rules: managing users (never oneself into powerlessness), platform figures, the audit log."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.accounts import service as accounts_service
from boxoffice.admin import repository
from boxoffice.admin.schemas import (
    AdminUserUpdate,
    AuditFilters,
    EventsByStatus,
    PlatformStats,
    UserFigures,
    UsersByRole,
)
from boxoffice.core import audit
from boxoffice.core.audit import Action
from boxoffice.core.errors import CannotModifySelf, Forbidden, NotFound
from boxoffice.core.pagination import PageParams
from boxoffice.core.schemas import Revenue
from boxoffice.models import AuditEntry, Booking, BookingStatus, Event, EventStatus, Role, User


async def list_users(
    session: AsyncSession, *, role: Role | None, is_active: bool | None, q: str | None, page: PageParams
) -> tuple[list[UserFigures], int]:
    return await repository.users_with_figures(session, role=role, is_active=is_active, q=q, page=page)


async def get_user(session: AsyncSession, user_id: UUID) -> UserFigures:
    figures = await repository.user_with_figures(session, user_id)
    if figures is None:
        raise NotFound("No such user.")
    return figures


async def update_user(
    session: AsyncSession, admin: User, user_id: UUID, data: AdminUserUpdate
) -> UserFigures:
    """Promote, demote, disable or re-enable a user; disabling ends every session of theirs at once.

    Changes are serialised (``lock_active_admins``) and the acting admin must still be one once it
    holds the lock: two admins demoting each other at once leave one of them an admin."""
    if user_id != admin.id and admin.id not in await repository.lock_active_admins(session):
        raise Forbidden("You are no longer an admin.")
    target = (await get_user(session, user_id)).user
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if target.id == admin.id and (
        changes.get("role", Role.ADMIN) is not Role.ADMIN or changes.get("is_active", True) is False
    ):
        raise CannotModifySelf("An admin cannot demote or disable themselves; ask another admin.")
    if "role" in changes and changes["role"] is not target.role:
        audit.record(
            session, admin, Action.ROLE_CHANGED, "user", target.id, before=target.role, after=changes["role"]
        )
        target.role = changes["role"]
    if "is_active" in changes and changes["is_active"] is not target.is_active:
        target.is_active = changes["is_active"]
        audit.record(
            session,
            admin,
            Action.USER_ENABLED if target.is_active else Action.USER_DISABLED,
            "user",
            target.id,
        )
        if not target.is_active:
            await accounts_service.end_all_sessions(session, target.id)
    await session.flush()
    return await get_user(session, user_id)


async def platform_stats(session: AsyncSession) -> PlatformStats:
    users = await repository.count_by(session, User.role)
    events = await repository.count_by(session, Event.status)
    bookings = await repository.count_by(session, Booking.status)
    return PlatformStats(
        users=UsersByRole(**{role.value: users.get(role, 0) for role in Role}),
        events=EventsByStatus(**{status.value: events.get(status, 0) for status in EventStatus}),
        bookings_confirmed=bookings.get(BookingStatus.CONFIRMED, 0),
        bookings_cancelled=bookings.get(BookingStatus.CANCELLED, 0),
        tickets_sold=await repository.tickets_sold(session),
        revenue=[
            Revenue(currency=currency, revenue=total)
            for currency, total in (await repository.confirmed_revenue(session)).items()
        ],
    )


async def audit_log(
    session: AsyncSession, filters: AuditFilters, page: PageParams
) -> tuple[Sequence[AuditEntry], int]:
    return await repository.audit_entries(session, filters, page)
