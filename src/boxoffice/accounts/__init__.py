"""Accounts: registration, login sessions, tokens, the caller's own profile."""
