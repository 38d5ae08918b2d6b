"""Who may see and who may change an event: one set of rules for every domain that needs them."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.core.errors import Forbidden, NotFound
from boxoffice.events import repository
from boxoffice.models import Event, Role, User


def may_manage(event: Event, user: User | None) -> bool:
    """Admins, and the event's organizer while they are an organizer: one demoted to attendee keeps
    their events (an admin may hand them back) but no longer manages them."""
    if user is None:
        return False
    return user.role is Role.ADMIN or (user.role is Role.ORGANIZER and event.organizer_id == user.id)


def is_listed(event: Event) -> bool:
    """Public and not deleted: what anyone may see."""
    return event.is_public and event.deleted_at is None


def may_see(event: Event, user: User | None) -> bool:
    return is_listed(event) or may_manage(event, user)


async def visible_event(session: AsyncSession, event_id: UUID, viewer: User | None) -> Event:
    """An event the viewer may see: listed ones to anyone, drafts and deleted ones to their organizer
    and admins; 404 otherwise, so nobody learns that a draft exists."""
    event = await repository.event_by_id(session, event_id)
    if event is None or not may_see(event, viewer):
        raise NotFound("No such event.")
    return event


async def managed_event(
    session: AsyncSession, event_id: UUID, user: User, *, for_update: bool = False
) -> Event:
    """An event the user may change: 404 if they may not see it, 403 if they see it but may not change it."""
    event = await repository.event_by_id(session, event_id, for_update=for_update)
    if event is None or not may_see(event, user):
        raise NotFound("No such event.")
    if not may_manage(event, user):
        raise Forbidden("Only the event's organizer or an admin may do this.")
    return event


async def owned_event(session: AsyncSession, event_id: UUID, user: User) -> Event:
    """An event for its organizer's and admins' eyes only (guest list, stats): 404 for anyone else."""
    event = await repository.event_by_id(session, event_id)
    if event is None or not may_manage(event, user):
        raise NotFound("No such event.")
    return event
