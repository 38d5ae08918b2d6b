"""GET /events: a large total is remembered for a few seconds; a small one is always counted."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from boxoffice.events import totals
from tests.events.helpers import catalogue, titles
from tests.factories import create_account, create_published_event


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The app's totals on a clock the test moves, with 'large' meaning 2 or more matches."""
    monkeypatch.setattr(totals, "LARGE_TOTAL", 2)
    clock = Clock()
    app.state.catalogue_totals = totals.CatalogueTotals(clock)
    return clock


async def test_a_large_total_is_reused_until_it_is_ten_seconds_old(client: AsyncClient, clock: Clock) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer, title="Gala one")
    await create_published_event(client, organizer, title="Gala two")
    assert (await catalogue(client, q="gala"))["total"] == 2

    await create_published_event(client, organizer, title="Gala three")
    clock.now += totals.MAX_AGE_SECONDS - 0.1
    page = await catalogue(client, q="gala", sort="title")
    assert titles(page) == ["Gala one", "Gala three", "Gala two"]  # the page is always current
    assert page["total"] == 2
    assert (await catalogue(client, q="gala", sort="-title", limit=1))["total"] == 2  # any order, any page

    clock.now += 0.1
    assert (await catalogue(client, q="gala"))["total"] == 3


async def test_a_small_total_and_other_filters_are_always_counted(client: AsyncClient, clock: Clock) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer, title="Gala one", city="Oslo")
    await create_published_event(client, organizer, title="Gala two", city="Lyon")
    assert (await catalogue(client, q="gala", city="Oslo"))["total"] == 1
    assert (await catalogue(client, q="gala"))["total"] == 2  # remembered

    await create_published_event(client, organizer, title="Gala three", city="Oslo")
    assert (await catalogue(client, q="gala", city="Oslo"))["total"] == 2  # was below LARGE_TOTAL
    assert (await catalogue(client, q="gala", city="Lyon"))["total"] == 1
    assert (await catalogue(client))["total"] == 3  # no filter: counted for the first time


async def test_a_remembered_total_answers_a_page_past_the_end(client: AsyncClient, clock: Clock) -> None:
    organizer = await create_account(client, role="organizer")
    await create_published_event(client, organizer, title="Gala one")
    await create_published_event(client, organizer, title="Gala two")
    assert (await catalogue(client, q="gala"))["total"] == 2
    page = await catalogue(client, q="gala", offset=5)
    assert page["items"] == []
    assert page["total"] == 2


def test_the_cache_keeps_the_newest_entries_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(totals, "MAX_ENTRIES", 2)
    cache = totals.CatalogueTotals(Clock())
    filters = [totals.CatalogueFilters(q=word) for word in ("a", "b", "c")]
    for entry in filters:
        cache.remember(entry, 5_000)
    assert [cache.get(entry) for entry in filters] == [None, 5_000, 5_000]
