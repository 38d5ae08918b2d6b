"""A request whose transaction lost a lock conflict runs again, instead of answering 500.

The service's transactions take their locks in one order (event, then ticket type, then bookings and
holds), which keeps PostgreSQL free of deadlocks. InnoDB (MariaDB/MySQL) takes more locks than the
statements name: a foreign-key check share-locks the parent row, which a later update of that row in
another transaction then waits for. So two transactions that each checked a ticket type's key and
then both update its counts deadlock, and InnoDB rolls one back (1213; a lock wait that times out is
1205). Nothing of such a transaction was written, and the request is run again as it came, up to
``ATTEMPTS`` times, as long as no answer has been sent. The same holds for PostgreSQL's deadlocks and
serialisation failures, should they ever occur (``core.dialects.is_retryable``).
"""

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.core.dialects import is_retryable

ATTEMPTS = 5

log = structlog.get_logger("boxoffice.retry")


class RetryOnLockConflict:
    def __init__(self, app: ASGIApp, attempts: int = ATTEMPTS) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for attempt in range(1, self.attempts + 1):
            answered = False

            async def send_tracking(message: Message) -> None:
                nonlocal answered
                answered = answered or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, _replay(body, receive), send_tracking)
                return
            except Exception as error:
                if answered or attempt == self.attempts or not is_retryable(error):
                    raise
                log.info("lock_conflict_retried", path=scope.get("path"), attempt=attempt)


async def _read_body(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The request's messages again, then whatever comes next (a disconnect)."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
