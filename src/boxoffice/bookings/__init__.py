"""Bookings: the concurrency-safe ticketing core."""
