"""Who gets seats when a batch of requests arrives together: a pure function, no database.

The writer (writer.py) counts what is left of each ticket type under the batch's locks, asks
``allocate`` who gets seats, and then moves the seats of all winners of a ticket type with one
conditional statement.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class SeatRequest:
    ticket_type_id: UUID
    quantity: int


@dataclass(frozen=True)
class Allocation:
    granted: tuple[bool, ...]
    """For each request, in order: whether it gets its seats."""
    taken: Mapping[UUID, int]
    """Seats granted per ticket type."""
    left: Mapping[UUID, int]
    """Seats left per ticket type once the granted ones are taken."""


def allocate(available: Mapping[UUID, int], requests: Sequence[SeatRequest]) -> Allocation:
    """First come, first served: each request in order gets its seats if that many are left of its
    ticket type. A request that does not fit takes nothing, so a later, smaller one may still fit.
    A ticket type missing from ``available`` has nothing left."""
    left = dict(available)
    taken: dict[UUID, int] = {}
    granted: list[bool] = []
    for request in requests:
        fits = 0 < request.quantity <= left.get(request.ticket_type_id, 0)
        if fits:
            left[request.ticket_type_id] -= request.quantity
            taken[request.ticket_type_id] = taken.get(request.ticket_type_id, 0) + request.quantity
        granted.append(fits)
    return Allocation(granted=tuple(granted), taken=taken, left=left)
