"""The ``boxoffice`` command."""

import asyncio
import json
import os
import sys
from typing import Annotated
from uuid import UUID

import typer
import uvicorn
from pydantic import ValidationError

from boxoffice.core.config import Settings
from boxoffice.core.observability import uvicorn_log_config
from boxoffice.models import OutboxStatus

app = typer.Typer(
    name="boxoffice",
    help="boxoffice: an event-booking service.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    """Settings from the environment, or a clear message and exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            typer.secho(f"configuration error: {field}: {problem['msg']}", err=True, fg="red")
        raise typer.Exit(code=2) from error


def _migrate(settings: Settings) -> None:
    """Apply pending migrations and say which: one line per revision, then that the database is current."""
    from boxoffice.migrations import upgrade_to_head

    applied = upgrade_to_head(settings.database_url)
    for revision in applied:
        typer.echo(f"applied migration {revision}")
    typer.echo(f"database is up to date ({len(applied)} migration{'' if len(applied) == 1 else 's'} applied)")


@app.command()
def migrate() -> None:
    """Apply every pending database migration, listing each one applied."""
    _migrate(_settings())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not apply pending migrations first")
    ] = False,
) -> None:
    """Run the HTTP API (and, unless BOXOFFICE_RUN_WORKER=false, the email worker)."""
    settings = _settings()
    # Resolve the signing key before any worker process starts, so they all share one.
    _ = settings.signing_key
    if not no_migrate:
        _migrate(settings)
    base = f"http://{'localhost' if host in {'0.0.0.0', '::'} else host}:{port}"  # noqa: S104
    typer.echo(f"boxoffice API on {base}/api/v1 — docs at {base}/docs and {base}/redoc")
    uvicorn.run(
        "boxoffice.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(settings),
        access_log=False,
        # X-Forwarded-For is read by the app, from BOXOFFICE_TRUSTED_PROXIES only (core/proxies.py).
        proxy_headers=False,
    )


@app.command()
def worker() -> None:
    """Send queued email, queue reminders and expire holds until SIGTERM; run as many as you like."""
    from boxoffice.worker import run_standalone

    settings = _settings()
    typer.echo("boxoffice worker running; stop with SIGTERM or Ctrl-C")
    asyncio.run(run_standalone(settings))


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="The admin's email")],
    password: Annotated[
        str | None,
        typer.Option(help="The password (else BOXOFFICE_ADMIN_PASSWORD, else a prompt)"),
    ] = None,
    full_name: Annotated[str, typer.Option(help="The admin's name")] = "Administrator",
) -> None:
    """Create an admin account. Refuses, changing nothing, if the email is taken."""
    from boxoffice.accounts.admin_setup import AdminSetupError, create_admin_account

    settings = _settings()
    password = password or os.environ.get("BOXOFFICE_ADMIN_PASSWORD")
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = asyncio.run(create_admin_account(settings, email, password, full_name))
    except AdminSetupError as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(code=1) from error
    typer.echo(f"admin {email} created (id {user_id})")


@app.command()
def demo(
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete every account, event and booking first (asks first)")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --reset deletes")] = False,
) -> None:
    """Fill an empty database with organizers, attendees, published events and bookings."""
    from sqlalchemy.engine import make_url

    from boxoffice.demo import DEMO_PASSWORD, DatabaseNotEmpty, empty_database, fill_demo

    settings = _settings()
    _migrate(settings)
    if reset:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        if not yes and not typer.confirm(f"Delete ALL data (accounts, events, bookings) in {where}?"):
            typer.echo("nothing deleted")
            raise typer.Exit(code=1)
        asyncio.run(empty_database(settings))
        typer.echo("every table emptied")
    try:
        logins = asyncio.run(fill_demo(settings))
    except DatabaseNotEmpty as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(code=1) from error
    typer.echo(f"demo data created; every account's password is {DEMO_PASSWORD!r}:")
    for login in logins:
        typer.echo(f"  {login.role.value:<9} {login.email}")


outbox_app = typer.Typer(help="Inspect the email outbox and requeue dead messages.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


def _message_id(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError as error:
        typer.secho(f"error: {raw!r} is not a message id", err=True, fg="red")
        raise typer.Exit(code=2) from error


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        OutboxStatus | None, typer.Option(help="Only messages in this state (pending, sent, skipped, dead)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many, newest first")] = 50,
) -> None:
    """List outbox messages, newest first: id, status, attempts, kind, recipient, last error."""
    from boxoffice.notifications.operations import list_messages

    for message in asyncio.run(list_messages(_settings(), status, limit)):
        error = (message.last_error or "").replace("\n", " ")[:80]
        typer.echo(
            f"{message.id}  {message.status.value:<7}  {message.attempts:>3}  {message.kind:<22}  "
            f"{message.recipient}  {error}".rstrip()
        )


@outbox_app.command("show")
def outbox_show(message_id: Annotated[str, typer.Argument(help="The message's id")]) -> None:
    """Everything about one message, its payload included, as JSON."""
    from boxoffice.notifications.operations import get_message

    message = asyncio.run(get_message(_settings(), _message_id(message_id)))
    if message is None:
        typer.secho(f"error: no message {message_id}", err=True, fg="red")
        raise typer.Exit(code=1)
    fields = {column.key: getattr(message, column.key) for column in message.__table__.columns}
    fields["payload"] = json.loads(message.payload)
    typer.echo(json.dumps(fields, indent=2, default=str))


@outbox_app.command("requeue")
def outbox_requeue(
    message_id: Annotated[str | None, typer.Argument(help="The dead message's id")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Requeue every dead message")] = False,
) -> None:
    """Give a dead message (or every one) a fresh set of attempts, due now."""
    from boxoffice.notifications.operations import NotRequeueable, requeue

    if (message_id is None) == (not all_dead):
        typer.secho("error: give one message id or --all-dead", err=True, fg="red")
        raise typer.Exit(code=2)
    target = None if all_dead else _message_id(str(message_id))
    try:
        count = asyncio.run(requeue(_settings(), target))
    except NotRequeueable as error:
        typer.secho(f"error: {error}", err=True, fg="red")
        raise typer.Exit(code=1) from error
    typer.echo(f"{count} message{'' if count == 1 else 's'} requeued")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document as JSON."""
    from boxoffice.app import create_app

    document = create_app(_settings()).openapi()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def main() -> None:
    app()
