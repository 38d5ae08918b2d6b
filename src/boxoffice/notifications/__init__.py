"""Notifications: a transactional outbox of emails, the worker that sends them, reminders."""
