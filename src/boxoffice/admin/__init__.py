"""Administration: users, roles, bans, platform statistics and the audit log."""
