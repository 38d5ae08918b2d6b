"""Pages anyone may see: the catalogue with its search, an event, its calendar file."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import icalendar
from fastapi import APIRouter, Depends, Query, Request, Response

from boxoffice.accounts import service as accounts_service
from boxoffice.core.deps import SessionDep
from boxoffice.core.pagination import PageParams
from boxoffice.core.ratelimit import Budget, rate_limit
from boxoffice.events import service as events_service
from boxoffice.events.schemas import CatalogueFilters, EventRead
from boxoffice.events.totals import CatalogueTotals
from boxoffice.models import EventStatus
from boxoffice.web.core import WebRoute, current_principal, database_of, render, tokens_of

router = APIRouter(
    route_class=WebRoute, include_in_schema=False, dependencies=[Depends(rate_limit(Budget.DEFAULT))]
)

PAGE_SIZE = 12
Text = Annotated[str, Query(max_length=100)]


def few_left(available: int, capacity: int) -> bool:
    """Worth a "few left" badge: at most 10 tickets, or a tenth of the capacity, whichever is more."""
    return 0 < available <= max(10, capacity // 10)


def _day(value: str, field: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{field} must be a date like 2030-04-01.")
        return None


@router.get("/")
async def home(
    request: Request,
    session: SessionDep,
    q: Text = "",
    city: Text = "",
    category: Text = "",
    starts_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    starts_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    await current_principal(request, session)
    errors: list[str] = []
    first_day, last_day = _day(starts_from, "From", errors), _day(starts_to, "To", errors)
    filters = CatalogueFilters(
        q=q.strip() or None,
        city=city.strip() or None,
        category=category.strip().lower() or None,
        starts_after=datetime.combine(first_day, time(), UTC) if first_day else None,
        starts_before=datetime.combine(last_day + timedelta(days=1), time(), UTC) if last_day else None,
    )
    totals: CatalogueTotals = request.app.state.catalogue_totals
    params = PageParams(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows, total = await events_service.search_catalogue(database_of(request), filters, params, totals)
    events = [EventRead.model_validate(row) for row in rows]
    search = {"q": q, "city": city, "category": category, "from": starts_from, "to": starts_to}
    query = urlencode({key: value for key, value in search.items() if value})
    return render(
        request,
        "home.html",
        {
            "events": events,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "search": search,
            "query": query,
            "errors": errors,
            "few_left": few_left,
        },
    )


async def read_event(request: Request, event_id: UUID) -> EventRead:
    event: Any = await events_service.read_event(database_of(request), tokens_of(request), None, event_id)
    return EventRead.model_validate(event)


async def event_page(
    request: Request, session: SessionDep, event_id: UUID, *, error: str | None = None, status: int = 200
) -> Response:
    """The event page, with an error from a form on it when there is one."""
    principal = await current_principal(request, session)
    event = await read_event(request, event_id)
    now = datetime.now(UTC)
    on_sale = (
        event.status is EventStatus.PUBLISHED
        and event.starts_at > now
        and (event.sales_start_at is None or event.sales_start_at <= now)
        and (event.sales_end_at is None or event.sales_end_at > now)
    )
    context = {
        "event": event,
        "organizer": await accounts_service.public_name(session, event.organizer_id),
        "on_sale": on_sale,
        "bookable": [t for t in event.ticket_types if t.available > 0],
        "sold_out": [t for t in event.ticket_types if t.available == 0],
        "few_left": few_left,
        "error": error,
        "signed_in": principal is not None,
    }
    return render(request, "event.html", context, status=status)


@router.get("/events/{event_id}")
async def event(request: Request, session: SessionDep, event_id: UUID) -> Response:
    return await event_page(request, session, event_id)


@router.get("/events/{event_id}/calendar.ics")
async def calendar(request: Request, event_id: UUID) -> Response:
    """The event as an iCalendar file, in its own time zone, for "add to calendar"."""
    event = await read_event(request, event_id)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//boxoffice//events//EN")
    calendar.add("version", "2.0")
    entry = icalendar.Event()
    entry.add("uid", f"event-{event.id}@boxoffice")
    entry.add("dtstamp", datetime.now(UTC))
    zone = ZoneInfo(event.timezone)
    entry.add("dtstart", event.starts_at.astimezone(zone))
    if event.ends_at:
        entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("summary", event.title)
    entry.add("location", ", ".join(p for p in (event.venue, event.address, event.city) if p))
    entry.add("url", f"{request.app.state.settings.public_url}/events/{event.id}")
    if event.description:
        entry.add("description", event.description)
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return Response(
        calendar.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="event-{event.id}.ics"'},
    )
