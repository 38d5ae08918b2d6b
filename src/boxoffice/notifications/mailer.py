"""Mail backends: ``console`` logs each message (development), ``smtp`` sends it."""

import sys
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import structlog

from boxoffice.core.config import EmailBackend, Settings
from boxoffice.notifications.messages import Email

log = structlog.get_logger("boxoffice.mail")


class Mailer(Protocol):
    async def send(self, email: Email) -> None:
        """Deliver the email or raise."""


class ConsoleMailer:
    """Development: each email is printed to standard output as a person reads it (the text part,
    real line breaks), and one log line says it was sent."""

    async def send(self, email: Email) -> None:
        attachments = [a.filename for a in email.attachments]
        log.info("email", to=email.to, subject=email.subject, attachments=attachments)
        sys.stdout.write(console_text(email))
        sys.stdout.flush()


def console_text(email: Email) -> str:
    attached = ", ".join(a.filename for a in email.attachments) or "none"
    return (
        f"\n----- email to {email.to} -----\n"
        f"Subject: {email.subject}\n"
        f"Attachments: {attached}\n\n"
        f"{email.text.rstrip()}\n"
        "----- end of email -----\n"
    )


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _mime(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.email_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        if email.inline:
            html = message.get_body(preferencelist=("html",))
            assert html is not None
            for image in email.inline:
                maintype, subtype = image.content_type.split("/", 1)
                html.add_related(
                    image.content,
                    maintype=maintype,
                    subtype=subtype,
                    cid=f"<{image.cid}>",
                    disposition="inline",
                )
        for attachment in email.attachments:
            maintype, subtype = attachment.content_type.split("/", 1)
            message.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return message

    async def send(self, email: Email) -> None:
        settings = self._settings
        await aiosmtplib.send(
            self._mime(email),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )


def create_mailer(settings: Settings) -> Mailer:
    if settings.email_backend is EmailBackend.SMTP:
        return SmtpMailer(settings)
    return ConsoleMailer()
