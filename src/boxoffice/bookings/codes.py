"""Booking codes: short enough to read out at a door, too many to guess."""

import secrets

# No 0/O, 1/I: nothing a person could misread. 32 symbols, 8 of them: 40 random bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
GROUP, GROUPS = 4, 2


def new_booking_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUP * GROUPS))
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))
