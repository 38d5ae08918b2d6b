"""A booking's holder_email makes boxoffice email that address: per address, a budget."""

from pathlib import Path

from httpx import ASGITransport, AsyncClient

from boxoffice.app import create_app
from tests.conftest import make_settings
from tests.factories import assert_problem, book, create_account, create_published_event, unique_email


async def test_holder_email_is_throttled_per_recipient_whoever_books(
    database_url: str, tmp_path: Path
) -> None:
    app = create_app(
        make_settings(database_url, tmp_path, rate_limits_enabled=True, rate_limit_recipient="2/hour")
    )
    victim = unique_email("victim")
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app, client=("203.0.113.20", 1000))
        async with AsyncClient(transport=transport, base_url="http://t") as client:
            organizer = await create_account(client, role="organizer")
            event = await create_published_event(client, organizer)
            senders = [await create_account(client) for _ in range(3)]
            statuses = [
                (await book(client, sender, event["id"], holder_email=victim)).status_code
                for sender in senders
            ]
            assert statuses == [201, 201, 429]
            refused = await book(client, senders[2], event["id"], holder_email=victim)
            assert_problem(refused, 429, "rate_limited")
            # Another address, and bookings for oneself, are not affected.
            assert (
                await book(client, senders[2], event["id"], holder_email=unique_email())
            ).status_code == 201
