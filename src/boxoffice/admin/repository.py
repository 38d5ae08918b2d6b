"""SQL for the admin views: users with their figures, platform totals, the audit log."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.admin.schemas import AuditFilters, UserFigures
from boxoffice.core.db import contains
from boxoffice.core.pagination import PageParams
from boxoffice.models import AuditEntry, Booking, BookingStatus, Event, Role, TicketType, User


def _user_figures() -> tuple[Any, Any, Any]:
    """Correlated subqueries: a page of users with their figures is one SQL statement."""
    bookings = (
        select(func.count(Booking.id)).where(Booking.user_id == User.id).correlate(User).scalar_subquery()
    )
    tickets = (
        select(func.coalesce(func.sum(Booking.quantity), 0))
        .where(Booking.user_id == User.id, Booking.status == BookingStatus.CONFIRMED)
        .correlate(User)
        .scalar_subquery()
    )
    events = (
        select(func.count(Event.id)).where(Event.organizer_id == User.id).correlate(User).scalar_subquery()
    )
    return bookings.label("bookings_count"), tickets.label("tickets_count"), events.label("events_count")


async def users_with_figures(
    session: AsyncSession, *, role: Role | None, is_active: bool | None, q: str | None, page: PageParams
) -> tuple[list[UserFigures], int]:
    conditions: list[ColumnElement[bool]] = []
    if role is not None:
        conditions.append(User.role == role)
    if is_active is not None:
        conditions.append(User.is_active.is_(is_active))
    if q:
        conditions.append(or_(contains(User.email, q), contains(func.lower(User.full_name), q)))
    total = await session.scalar(select(func.count()).select_from(User).where(*conditions))
    rows = (
        await session.execute(
            select(User, *_user_figures())
            .where(*conditions)
            .order_by(User.created_at.desc(), User.id)
            .limit(page.limit)
            .offset(page.offset)
        )
    ).all()
    return [UserFigures(row[0], int(row[1]), int(row[2]), int(row[3])) for row in rows], int(total or 0)


async def user_with_figures(session: AsyncSession, user_id: UUID) -> UserFigures | None:
    row = (await session.execute(select(User, *_user_figures()).where(User.id == user_id))).first()
    return UserFigures(row[0], int(row[1]), int(row[2]), int(row[3])) if row else None


async def count_by(session: AsyncSession, column: Any) -> dict[Any, int]:
    rows = (await session.execute(select(column, func.count()).group_by(column))).all()
    return {key: int(count) for key, count in rows}


async def tickets_sold(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.sum(TicketType.sold), 0))) or 0)


async def confirmed_revenue(session: AsyncSession) -> dict[str, Decimal]:
    """The total of confirmed bookings in each currency that has any."""
    rows = await session.execute(
        select(Booking.currency, func.sum(Booking.total_price))
        .where(Booking.status == BookingStatus.CONFIRMED)
        .group_by(Booking.currency)
        .order_by(Booking.currency)
    )
    return {currency: Decimal(total).quantize(Decimal("0.01")) for currency, total in rows.all()}


async def audit_entries(
    session: AsyncSession, filters: AuditFilters, page: PageParams
) -> tuple[Sequence[AuditEntry], int]:
    conditions: list[ColumnElement[bool]] = []
    if filters.actor_id is not None:
        conditions.append(AuditEntry.actor_id == filters.actor_id)
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.target_type:
        conditions.append(AuditEntry.target_type == filters.target_type)
    if filters.target_id:
        conditions.append(AuditEntry.target_id == filters.target_id)
    if filters.since is not None:
        conditions.append(AuditEntry.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEntry.created_at < filters.until)
    total = await session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    items = (
        await session.scalars(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id)
            .limit(page.limit)
            .offset(page.offset)
        )
    ).all()
    return items, int(total or 0)


async def lock_active_admins(session: AsyncSession) -> set[UUID]:
    """Take the lock every change of a user's role or state holds, and return the active admins.

    A no-op UPDATE of the admins' rows: row locks on PostgreSQL (a concurrent change waits, then sees
    this one's result), the write lock on SQLite; it runs first, before the transaction reads.
    """
    admins = (User.role == Role.ADMIN) & User.is_active.is_(True)
    await session.execute(
        update(User).where(admins).values(role=User.role).execution_options(synchronize_session=False)
    )
    return set((await session.scalars(select(User.id).where(admins))).all())
