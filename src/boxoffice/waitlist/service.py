"""Waiting-list rules: joining and leaving a ticket type's line, reading it, and handing returned
tickets to the people in it (the ``Line`` bookings calls through ``bookings.handover``).

The line of a ticket type is first come, first served, strictly: the head gets the first offer, and an
entry whose quantity does not fit what is free stays at the head with those tickets set aside for
it; nobody behind it skips ahead. Two exceptions, both the user's own doing: an entry whose user has
booked the event meanwhile leaves the line, and one whose user holds tickets of the event at that
moment (a checkout in progress; one hold per user and event) is passed over this once and keeps
its place.

An offer is a hold of the tickets for the entry's user, for the event's ``waitlist_offer_hours``;
confirming it (``POST /holds/{id}/confirm``) books. When the offer's hold is released (the user
declines, or leaves the list) or expires, its tickets return like any others and go to the next in
line, in that same transaction.
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from boxoffice.bookings import handover, rules
from boxoffice.bookings import service as bookings_service
from boxoffice.core.db import utcnow
from boxoffice.core.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    DomainError,
    EventNotBookable,
    NotFound,
    TicketsAvailable,
)
from boxoffice.core.pagination import PageParams
from boxoffice.events import access
from boxoffice.models import ACTIVE, Booking, Event, HoldStatus, User, WaitlistEntry, WaitlistStatus
from boxoffice.notifications import outbox
from boxoffice.waitlist import repository
from boxoffice.waitlist.schemas import WaitlistJoin

# How far past what fits a hand-over reads the line, for entries it may pass over or end.
LOOKAHEAD = 16
SWEEP_BATCH = 100

EntryWithPosition = tuple[WaitlistEntry, int]


async def join(session: AsyncSession, user: User, event_id: UUID, data: WaitlistJoin) -> EntryWithPosition:
    """Queue for returned tickets: only while nothing of the ticket type is on sale to the public
    (409 ``tickets_available``: book instead)."""
    event = await bookings_service.event_for_sale(session, event_id)
    if event is None or not access.may_see(event, user):
        raise NotFound("No such event.")
    ticket_type = rules.pick_ticket_type(event, data.ticket_type_id)
    rules.ensure_on_sale(event)
    if not event.waitlist_enabled:
        raise EventNotBookable("This event has no waiting list.")
    rules.ensure_quantity_allowed(event, data.quantity)
    if await bookings_service.users_with_booking(session, event.id, [user.id]):
        raise AlreadyBooked("You already have a booking for this event; change its quantity instead.")
    entry = WaitlistEntry(
        id=uuid4(),
        event_id=event.id,
        ticket_type_id=ticket_type.id,
        user_id=user.id,
        quantity=data.quantity,
        status=WaitlistStatus.WAITING,
        active_key=ACTIVE,
        created_at=utcnow(),
        offered_at=None,
        ended_at=None,
    )
    if not await repository.insert_entry(session, entry):
        raise AlreadyWaiting("You are already in this event's waiting list.")
    if not await repository.join_line(session, ticket_type.id):
        raise TicketsAvailable(
            f"'{ticket_type.name}' has {ticket_type.free} tickets on sale; book them instead.",
            available=ticket_type.free,
        )
    # The place in line is taken now, under the ticket type's row lock, which every join and every
    # hand-over of the ticket type takes: the line's order is the order in which joins commit.
    entry.created_at = utcnow()
    await repository.stamp_joined(session, entry)
    position = await repository.position_of(session, entry)
    outbox.waitlist_joined(session, user.email, entry, event, position)
    return entry, position


async def leave(session: AsyncSession, user: User, entry_id: UUID) -> None:
    """Leave the line; an offer is declined (its hold released, its tickets offered to the next in
    line). Leaving an entry that has ended already changes nothing."""
    for _ in range(2):  # a second look if an offer was made to it meanwhile
        entry = await repository.entry_by_id(session, entry_id)
        if entry is None or entry.user_id != user.id:
            raise NotFound("No such waiting-list entry.")
        if entry.status is WaitlistStatus.OFFERED and entry.hold is not None:
            await bookings_service.release_offer(session, entry.hold.id)
            return
        if entry.status is not WaitlistStatus.WAITING:
            return
        if await repository.end_entries(
            session, [entry.id], [WaitlistStatus.WAITING], WaitlistStatus.LEFT, utcnow()
        ):
            # One fewer in line: what was set aside for it may now fit the next.
            await bookings_service.offer_free_tickets(session, entry.ticket_type_id, left_line=1)
            return


async def my_entries(
    session: AsyncSession, user: User, status: WaitlistStatus | None, page: PageParams
) -> tuple[list[EntryWithPosition], int]:
    return await repository.user_entries(session, user.id, status, page)


async def event_line(
    session: AsyncSession, user: User, event_id: UUID, status: WaitlistStatus | None, page: PageParams | None
) -> tuple[Event, list[EntryWithPosition], int]:
    """An event's waiting list in line order, for its organizer and admins (404 for anyone else);
    every entry without ``page`` (the CSV)."""
    event = await access.owned_event(session, event_id, user)
    entries, total = await repository.event_entries(session, event.id, status, page)
    return event, entries, total


async def any_line_of_a_started_event(session: AsyncSession) -> bool:
    return await repository.any_line_of_a_started_event(session, utcnow())


async def end_lines_of_started_events(session: AsyncSession) -> int:
    """Once an event has started its lines are over: their waiting entries end (``expired``)."""
    return len(await repository.end_lines_of_started_events(session, utcnow()))


async def lines_with_free_tickets(session: AsyncSession, limit: int = SWEEP_BATCH) -> list[UUID]:
    """Ticket types whose free tickets nobody has been offered (the worker's look)."""
    return await repository.lines_with_free_tickets(session, utcnow(), limit)


class _Line:
    """The waiting list as bookings sees it (``bookings.handover.Line``)."""

    async def hand_over(self, session: AsyncSession, ticket_type_id: UUID, free: int) -> handover.Handed:
        event = await repository.event_of_ticket_type(session, ticket_type_id)
        try:
            rules.ensure_on_sale(event)
        except DomainError:
            return handover.Handed()  # kept for the line; offered if sales open again
        now = utcnow()
        head = await repository.waiting_entries(session, ticket_type_id, free + LOOKAHEAD)
        users = {entry.user_id for entry, _ in head}
        booked = await bookings_service.users_with_booking(session, event.id, list(users))
        holding = await repository.users_with_hold(session, event.id, users)
        ended: list[UUID] = []
        chosen: list[tuple[WaitlistEntry, str]] = []
        left = free
        for entry, email in head:
            if entry.user_id in booked:
                ended.append(entry.id)
            elif entry.user_id in holding:
                continue  # passed over this once; keeps its place
            elif entry.quantity > left:
                break  # first come, first served: the head waits for enough tickets
            else:
                chosen.append((entry, email))
                left -= entry.quantity
                if not left:
                    break
        holds = await bookings_service.place_offers(
            session,
            ticket_type_id,
            [(entry.id, entry.user_id, entry.quantity) for entry, _ in chosen],
            now + timedelta(hours=event.waitlist_offer_hours),
        )
        offered = [(entry, email) for entry, email in chosen if entry.id in holds]
        await repository.mark_offered(session, [entry.id for entry, _ in offered], now)
        await repository.end_entries(session, ended, [WaitlistStatus.WAITING], WaitlistStatus.LEFT, now)
        for entry, email in offered:
            outbox.waitlist_offer(session, email, entry, holds[entry.id], event)
        return handover.Handed(
            tickets=sum(entry.quantity for entry, _ in offered), left_line=len(offered) + len(ended)
        )

    async def offers_ended(self, session: AsyncSession, ended: Sequence[handover.EndedOffer]) -> None:
        now = utcnow()
        declined = [offer.entry_id for offer in ended if offer.status is HoldStatus.RELEASED]
        await repository.end_entries(session, declined, [WaitlistStatus.OFFERED], WaitlistStatus.LEFT, now)
        expired = await repository.end_entries(
            session,
            [offer.entry_id for offer in ended if offer.status is HoldStatus.EXPIRED],
            [WaitlistStatus.OFFERED],
            WaitlistStatus.EXPIRED,
            now,
        )
        rows = await repository.entries_with_emails(session, expired)
        events = await repository.events_by_id(session, {entry.event_id for entry, _ in rows})
        for entry, email in rows:
            outbox.waitlist_offer_expired(session, email, entry, events[entry.event_id])

    async def offers_booked(self, session: AsyncSession, booked: Mapping[UUID, Booking]) -> None:
        # An offer that had expired may still be confirmed while its tickets can be taken again.
        await repository.end_entries(
            session,
            list(booked),
            [WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED],
            WaitlistStatus.BOOKED,
            utcnow(),
        )

    async def event_cancelled(self, session: AsyncSession, event: Event) -> None:
        ended = await repository.end_line_of_event(session, event.id, utcnow())
        for entry, email in await repository.entries_with_emails(session, ended):
            outbox.waitlist_closed(session, email, entry, event, event.cancellation_reason)


LINE = _Line()


def install() -> None:
    """Make bookings hand returned tickets to waiting lists (the app and the worker call this)."""
    handover.install(LINE)
