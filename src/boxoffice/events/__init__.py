"""Events: the organizer lifecycle, ticket types, the public catalogue and search."""
