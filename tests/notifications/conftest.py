"""A real SMTP server (aiosmtpd) on a free port, and an outbox worker bound to the test app."""

import asyncio
import email
import socket
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from boxoffice.core.config import Settings
from boxoffice.notifications.worker import OutboxWorker, create_worker
from tests.conftest import make_settings


class Inbox:
    """Everything the SMTP server received, parsed."""

    def __init__(self, delay: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._messages: list[EmailMessage] = []
        self.delay = delay

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.append(parsed)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class Gate(Inbox):
    """An inbox that accepts a message only once the gate is open; ``in_delivery`` counts the
    deliveries waiting at it. A delivery whose client goes away meanwhile is cancelled by the SMTP
    server and never accepted."""

    def __init__(self) -> None:
        super().__init__()
        self._opened = threading.Event()
        self.in_delivery = 0

    def open(self) -> None:
        self._opened.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.in_delivery += 1
        try:
            await asyncio.to_thread(self._opened.wait)
        finally:
            self.in_delivery -= 1
        return await super().handle_DATA(server, session, envelope)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, delay: float = 0.0) -> None:
        self.inbox = Inbox(delay)
        self.port = free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(database_url: str, tmp_path: Path, smtp_port: int, **overrides: Any) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_timeout_seconds=5,
        outbox_retry_base_seconds=0.01,
        outbox_retry_max_seconds=0.02,
        reminder_lead_seconds=86400,
        **overrides,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return mail_settings(database_url, tmp_path, smtp_server.port)


@pytest.fixture
def worker(app: FastAPI) -> OutboxWorker:
    return create_worker(app.state.database, app.state.settings)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def body_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def attachment(message: EmailMessage, filename: str) -> str | None:
    for part in message.iter_attachments():
        if part.get_filename() == filename:
            content = part.get_content()
            return content.decode() if isinstance(content, bytes) else str(content)
    return None


async def eventually(condition: Callable[[], bool], within_seconds: float = 60.0) -> None:
    """Wait until ``condition()`` holds (it watches another thread or process), or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_seconds
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
