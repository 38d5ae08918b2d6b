"""Totals of large catalogue searches, remembered for a few seconds in each process.

Counting the matches of a page is the catalogue's most expensive statement when there are many: a word
search that matches 5,000 of 100,000 events rechecks every match (docs/benchmark.md). A total of at
least ``LARGE_TOTAL`` is therefore remembered for ``MAX_AGE_SECONDS`` and reused for the same filters
on any page and in any order; smaller totals are always counted. The page itself is always read live.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from boxoffice.events.schemas import CatalogueFilters, EventSort

LARGE_TOTAL = 1_000
MAX_AGE_SECONDS = 10.0
MAX_ENTRIES = 1_024


@dataclass(frozen=True)
class _Remembered:
    total: int
    counted_at: float


class CatalogueTotals:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: OrderedDict[Any, _Remembered] = OrderedDict()

    @staticmethod
    def _key(filters: CatalogueFilters) -> CatalogueFilters:
        return replace(filters, sort=EventSort.STARTS_AT)  # the order does not change the count

    def get(self, filters: CatalogueFilters) -> int | None:
        """The remembered total for these filters, if it is fresh."""
        key = self._key(filters)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self.clock() - entry.counted_at >= MAX_AGE_SECONDS:
            del self._entries[key]
            return None
        return entry.total

    def remember(self, filters: CatalogueFilters, total: int) -> None:
        """Keep a large total; the oldest entry goes when the cache is full."""
        if total < LARGE_TOTAL:
            return
        key = self._key(filters)
        self._entries.pop(key, None)
        self._entries[key] = _Remembered(total, self.clock())
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
