"""Seat allocation for a batch of sales (bookings/allocation.py): a pure function, tested on its own."""

import uuid

from boxoffice.bookings.allocation import SeatRequest, allocate

STANDING, SEATED = uuid.uuid4(), uuid.uuid4()


def test_requests_that_fit_all_get_their_seats() -> None:
    allocation = allocate({STANDING: 5}, [SeatRequest(STANDING, 2), SeatRequest(STANDING, 3)])
    assert allocation.granted == (True, True)
    assert allocation.taken == {STANDING: 5}
    assert allocation.left == {STANDING: 0}


def test_seats_go_first_come_first_served() -> None:
    allocation = allocate({STANDING: 3}, [SeatRequest(STANDING, 2), SeatRequest(STANDING, 2)])
    assert allocation.granted == (True, False)
    assert allocation.left == {STANDING: 1}


def test_a_request_that_does_not_fit_takes_nothing_so_a_later_smaller_one_may_fit() -> None:
    allocation = allocate(
        {STANDING: 3}, [SeatRequest(STANDING, 2), SeatRequest(STANDING, 2), SeatRequest(STANDING, 1)]
    )
    assert allocation.granted == (True, False, True)
    assert allocation.taken == {STANDING: 3}
    assert allocation.left == {STANDING: 0}


def test_ticket_types_are_counted_separately() -> None:
    allocation = allocate(
        {STANDING: 1, SEATED: 4},
        [SeatRequest(STANDING, 1), SeatRequest(STANDING, 1), SeatRequest(SEATED, 4)],
    )
    assert allocation.granted == (True, False, True)
    assert allocation.taken == {STANDING: 1, SEATED: 4}
    assert allocation.left == {STANDING: 0, SEATED: 0}


def test_a_ticket_type_with_no_count_has_nothing_left() -> None:
    allocation = allocate({STANDING: 10}, [SeatRequest(SEATED, 1)])
    assert allocation.granted == (False,)
    assert allocation.taken == {}


def test_nothing_requested_takes_nothing() -> None:
    allocation = allocate({STANDING: 2}, [])
    assert allocation.granted == ()
    assert allocation.taken == {}
    assert allocation.left == {STANDING: 2}


def test_the_counts_given_are_not_changed() -> None:
    available = {STANDING: 2}
    allocate(available, [SeatRequest(STANDING, 2)])
    assert available == {STANDING: 2}
