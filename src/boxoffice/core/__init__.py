"""Cross-cutting machinery shared by every domain: settings, database, errors, security, HTTP glue."""
