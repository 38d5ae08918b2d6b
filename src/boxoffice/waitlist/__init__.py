"""The waiting list: people queue for returned tickets of a sold-out ticket type, first come, first
served; returned tickets are offered to them as holds (see bookings/handover.py)."""
