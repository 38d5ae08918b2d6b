"""Password reset: POST /auth/password/forgot emails a single-use token; /auth/password/reset spends it."""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import update

from boxoffice.core.config import Settings
from boxoffice.core.db import utcnow
from boxoffice.models import PasswordResetToken, User
from boxoffice.notifications.worker import OutboxWorker
from tests.factories import Account, assert_problem, bearer, create_account, login, unique_email
from tests.notifications.conftest import SmtpServer, body_html, body_text, mail_settings

NEW_PASSWORD = "brand-new-passw0rd"
PUBLIC_URL = "https://tickets.example.org"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Settings:
    return mail_settings(database_url, tmp_path, smtp_server.port, public_url=PUBLIC_URL + "/")


async def forgot(client: AsyncClient, email: str) -> Response:
    return await client.post("/api/v1/auth/password/forgot", json={"email": email})


async def reset(client: AsyncClient, token: str, new_password: str = NEW_PASSWORD) -> Response:
    return await client.post(
        "/api/v1/auth/password/reset", json={"token": token, "new_password": new_password}
    )


RESET_LINK = re.compile(r"(\S+)/password/reset\?token=([^\s\"&<]+)")


def reset_tokens(smtp_server: SmtpServer, address: str) -> list[str]:
    """The reset tokens emailed to ``address``, oldest first, from the link each email carries: a page
    under PUBLIC_URL, the same in the text and the HTML part."""
    tokens = []
    for message in smtp_server.inbox.to(address):
        found = RESET_LINK.search(body_text(message))
        assert found is not None, body_text(message)
        assert found.group(1) == PUBLIC_URL
        html_link = RESET_LINK.search(body_html(message))
        assert html_link is not None
        assert html_link.group(2) == found.group(2)
        tokens.append(unquote(found.group(2)))
    return tokens


async def emailed_token(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer, email: str
) -> str:
    """Ask for a reset of ``email`` and return the newest token the email carried."""
    assert (await forgot(client, email)).status_code == 202
    assert await worker.drain() == 1
    return reset_tokens(smtp_server, email)[-1]


async def disable(app: FastAPI, email: str) -> None:
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(User).where(User.email == email).values(is_active=False))


async def test_forgot_answers_202_with_one_and_the_same_body_for_known_unknown_and_disabled_emails(
    app: FastAPI, client: AsyncClient
) -> None:
    known = await create_account(client)
    disabled = await create_account(client)
    await disable(app, disabled.email)

    answers = [await forgot(client, email) for email in (known.email, unique_email("nobody"), disabled.email)]

    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["detail"]


async def test_forgot_emails_a_reset_token_to_a_known_active_account(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)

    await forgot(client, account.email)

    assert await worker.drain() == 1
    [message] = smtp_server.inbox.messages
    assert message["To"] == account.email
    assert message["Subject"] == "Reset your boxoffice password"
    [token] = reset_tokens(smtp_server, account.email)
    assert len(token) >= 32
    assert token in body_html(message)
    assert "within 60 minutes" in body_text(message)


async def test_forgot_matches_the_email_case_insensitively(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)

    await forgot(client, account.email.upper())

    assert await worker.drain() == 1
    assert len(reset_tokens(smtp_server, account.email)) == 1


async def test_forgot_sends_nothing_for_an_unknown_email(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    await forgot(client, unique_email("nobody"))

    assert await worker.drain() == 1  # the request, looked up by the worker and skipped
    assert smtp_server.inbox.messages == []


async def test_forgot_sends_nothing_for_a_disabled_account(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    await disable(app, account.email)

    await forgot(client, account.email)

    assert await worker.drain() == 1  # the request, looked up by the worker and skipped
    assert smtp_server.inbox.messages == []


async def test_forgot_rejects_unknown_fields(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/password/forgot", json={"email": unique_email(), "role": "admin"}
    )
    assert_problem(response, 422, "validation_error")


async def test_forgot_rejects_a_malformed_email(client: AsyncClient) -> None:
    assert_problem(await forgot(client, "not-an-email"), 422, "validation_error")


async def test_resetting_with_the_emailed_token_sets_the_new_password(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)

    response = await reset(client, token)

    assert response.status_code == 204
    assert response.content == b""
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200


async def test_after_a_reset_the_old_password_no_longer_logs_in(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    await reset(client, await emailed_token(client, worker, smtp_server, account.email))

    assert_problem(await login(client, account.email, account.password), 401, "invalid_credentials")


async def test_a_reset_ends_every_session_of_the_user(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    second = (await login(client, account.email)).json()

    assert (
        await reset(client, await emailed_token(client, worker, smtp_server, account.email))
    ).status_code == 204

    for access_token in (account.access_token, second["access_token"]):
        response = await client.get("/api/v1/users/me", headers=bearer(access_token))
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for refresh_token in (account.refresh_token, second["refresh_token"]):
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert_problem(response, 401, "token_invalid")


async def test_a_reset_leaves_other_users_sessions_alone(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    bystander = await create_account(client)

    await reset(client, await emailed_token(client, worker, smtp_server, account.email))

    assert (await client.get("/api/v1/users/me", headers=bystander.headers)).status_code == 200


async def test_a_reset_token_works_only_once(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)
    assert (await reset(client, token)).status_code == 204

    assert_problem(await reset(client, token, "yet-another-passw0rd"), 400, "token_invalid")
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200


async def test_an_expired_reset_token_is_rejected(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)
    async with app.state.database.unit_of_work() as session:
        await session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert_problem(await reset(client, token), 400, "token_invalid")
    assert (await login(client, account.email, account.password)).status_code == 200


async def test_a_garbage_reset_token_is_rejected(client: AsyncClient) -> None:
    assert_problem(await reset(client, "not-a-real-token"), 400, "token_invalid")


async def test_a_reset_token_of_a_since_disabled_account_is_rejected(
    app: FastAPI, client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)
    await disable(app, account.email)

    assert_problem(await reset(client, token), 400, "token_invalid")


async def test_a_new_password_of_seven_characters_is_rejected_and_the_token_survives(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)

    body = assert_problem(await reset(client, token, "7-chars"), 422, "validation_error")

    assert ["body", "new_password"] in [error["loc"] for error in body["errors"]]
    assert (await reset(client, token)).status_code == 204


async def test_reset_rejects_unknown_fields(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)

    response = await client.post(
        "/api/v1/auth/password/reset",
        json={"token": token, "new_password": NEW_PASSWORD, "email": "mallory@example.com"},
    )

    assert_problem(response, 422, "validation_error")
    assert (await login(client, account.email, account.password)).status_code == 200


async def test_a_second_forgot_request_leaves_the_first_token_usable(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    first = await emailed_token(client, worker, smtp_server, account.email)
    second = await emailed_token(client, worker, smtp_server, account.email)
    assert first != second

    assert (await reset(client, first)).status_code == 204


async def test_using_one_reset_token_kills_the_other_outstanding_one(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    first = await emailed_token(client, worker, smtp_server, account.email)
    second = await emailed_token(client, worker, smtp_server, account.email)

    assert (await reset(client, second)).status_code == 204

    assert_problem(await reset(client, first, "yet-another-passw0rd"), 400, "token_invalid")
    assert (await login(client, account.email, NEW_PASSWORD)).status_code == 200


async def test_a_reset_token_is_bound_to_its_own_account(
    client: AsyncClient, worker: OutboxWorker, smtp_server: SmtpServer
) -> None:
    account = await create_account(client)
    other: Account = await create_account(client)
    token = await emailed_token(client, worker, smtp_server, account.email)

    await reset(client, token)

    assert (await login(client, other.email, other.password)).status_code == 200
    assert_problem(await login(client, other.email, NEW_PASSWORD), 401, "invalid_credentials")
