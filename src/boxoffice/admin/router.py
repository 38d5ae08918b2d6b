"""HTTP routes for administrators."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from boxoffice.accounts.auth import AdminUser
from boxoffice.admin import service
from boxoffice.admin.schemas import (
    AdminUserRead,
    AdminUserUpdate,
    AuditEntryRead,
    AuditFilters,
    PlatformStats,
    UserFigures,
)
from boxoffice.core.deps import SessionDep
from boxoffice.core.errors import (
    CannotModifySelf,
    problems,
)
from boxoffice.core.json_body import ApiRoute
from boxoffice.core.pagination import Page, PageDep, page_of
from boxoffice.core.schemas import QueryText
from boxoffice.core.types import UtcDatetime
from boxoffice.models import Role

router = APIRouter(route_class=ApiRoute, prefix="/admin", tags=["admin"], responses=problems(401, 403))


def _read(figures: UserFigures) -> AdminUserRead:
    user = figures.user
    return AdminUserRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        bookings_count=figures.bookings_count,
        tickets_count=figures.tickets_count,
        events_count=figures.events_count,
    )


@router.get("/users", response_model=Page[AdminUserRead], responses=problems(422))
async def list_users(
    session: SessionDep,
    _admin: AdminUser,
    page: PageDep,
    role: Role | None = None,
    is_active: bool | None = None,
    q: Annotated[QueryText | None, Query(description="Part of an email or name")] = None,
) -> Page[AdminUserRead]:
    """Every account, with its booking, ticket and event figures."""
    items, total = await service.list_users(session, role=role, is_active=is_active, q=q, page=page)
    return page_of(items, total, page, _read)


@router.get("/users/{user_id}", response_model=AdminUserRead, responses=problems(404))
async def read_user(user_id: UUID, session: SessionDep, _admin: AdminUser) -> AdminUserRead:
    """One account with its figures."""
    return _read(await service.get_user(session, user_id))


@router.patch(
    "/users/{user_id}", response_model=AdminUserRead, responses=problems(404, CannotModifySelf, 422)
)
async def update_user(
    user_id: UUID, data: AdminUserUpdate, session: SessionDep, admin: AdminUser
) -> AdminUserRead:
    """Change a user's role or disable / re-enable them; nobody can demote or disable themselves."""
    return _read(await service.update_user(session, admin, user_id, data))


@router.get("/stats", response_model=PlatformStats)
async def platform_stats(session: SessionDep, _admin: AdminUser) -> PlatformStats:
    """Platform-wide totals."""
    return await service.platform_stats(session)


@router.get("/audit-log", response_model=Page[AuditEntryRead], responses=problems(422))
async def audit_log(
    session: SessionDep,
    _admin: AdminUser,
    page: PageDep,
    actor_id: UUID | None = None,
    action: Annotated[str | None, Query(max_length=50, examples=["booking.cancelled"])] = None,
    target_type: Annotated[str | None, Query(max_length=30)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[UtcDatetime | None, Query(description="From this instant on (inclusive)")] = None,
    until: Annotated[UtcDatetime | None, Query(description="Before this instant")] = None,
) -> Page[AuditEntryRead]:
    """The append-only audit trail, newest first. It cannot be changed through the API."""
    filters = AuditFilters(actor_id, action, target_type, target_id, since, until)
    items, total = await service.audit_log(session, filters, page)
    return page_of(items, total, page, AuditEntryRead.model_validate)
