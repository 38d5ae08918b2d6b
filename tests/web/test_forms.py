"""The pages without a browser: CSRF, the session cookie, logout, readable errors."""

import json
from pathlib import Path

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.core.config import Environment
from boxoffice.models import OutboxMessage
from boxoffice.notifications.worker import create_worker
from tests.conftest import make_settings
from tests.factories import (
    DEFAULT_PASSWORD,
    create_account,
    create_admin,
    create_published_event,
    unique_email,
)
from tests.web.forms import csrf_of, register_in_browser, submit


async def test_a_form_without_its_csrf_token_is_refused_with_a_page(client: AsyncClient) -> None:
    await client.get("/login")  # the CSRF cookie
    answer = await client.post("/login", data={"email": "a@example.com", "password": "x" * 10})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "This form has expired" in answer.text


async def test_a_token_from_another_browser_is_refused(client: AsyncClient, app: FastAPI) -> None:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as other:
        token_of_other = csrf_of(await other.get("/login"))
    await client.get("/login")
    answer = await client.post(
        "/login", data={"csrf_token": token_of_other, "email": "a@example.com", "password": "x" * 10}
    )
    assert answer.status_code == 403


async def test_registering_signs_in_with_an_httponly_lax_cookie(client: AsyncClient) -> None:
    email = await register_in_browser(client)
    page = await client.get("/account")
    assert page.status_code == 200
    assert email in page.text
    cookie = next(c for c in client.cookies.jar if c.name == "boxoffice_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
    assert not cookie.secure


async def test_the_cookies_are_secure_in_production(app: FastAPI) -> None:
    app.state.settings.env = Environment.PRODUCTION
    async with AsyncClient(transport=ASGITransport(app=app), base_url="https://test") as browser:
        page = await browser.get("/register")
        assert "secure" in page.headers["set-cookie"].lower()
        answer = await browser.post(
            "/register",
            data={
                "csrf_token": csrf_of(page),
                "email": unique_email("web"),
                "password": DEFAULT_PASSWORD,
                "full_name": "Web Person",
            },
        )
    assert answer.status_code == 303
    session_cookie = answer.headers["set-cookie"].lower()
    assert session_cookie.startswith("boxoffice_session=")
    assert "secure" in session_cookie
    assert "httponly" in session_cookie


async def test_logout_ends_the_login_session_not_just_the_cookie(client: AsyncClient) -> None:
    await register_in_browser(client)
    cookie = client.cookies["boxoffice_session"]
    answer = await client.post("/logout", data={"csrf_token": csrf_of(await client.get("/"))})
    assert answer.status_code == 303
    client.cookies.set("boxoffice_session", cookie)  # a copy kept from before
    assert (await client.get("/account")).headers["location"].startswith("/login")


async def test_a_password_change_elsewhere_ends_the_browser_session(client: AsyncClient) -> None:
    email = await register_in_browser(client)
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    changed = await client.patch(
        "/api/v1/users/me",
        json={"password": "another-passw0rd", "current_password": DEFAULT_PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    assert (await client.get("/account")).status_code == 303


async def test_a_page_for_members_sends_visitors_to_log_in_and_back(client: AsyncClient) -> None:
    answer = await client.get("/bookings")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fbookings"


async def test_wrong_credentials_show_a_message_on_the_form(client: AsyncClient) -> None:
    answer = await submit(client, "/login", "/login", email="nobody@example.com", password="wrong-password")
    assert answer.status_code == 401
    assert "The email or password is wrong." in answer.text
    assert 'value="nobody@example.com"' in answer.text


async def test_registration_errors_are_readable(client: AsyncClient) -> None:
    answer = await submit(
        client, "/register", "/register", email="not-an-email", password="short", full_name=""
    )
    assert answer.status_code == 422
    assert "Please correct the fields marked below." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "{" not in answer.text.split("<main", 1)[1].split("</main>", 1)[0]


async def test_an_unknown_page_or_event_is_a_readable_404(client: AsyncClient) -> None:
    for path in ("/no/such/page", "/events/00000000-0000-0000-0000-000000000000", "/events/not-a-uuid"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Traceback" not in answer.text


async def test_error_pages_keep_the_signed_in_navigation(client: AsyncClient) -> None:
    await register_in_browser(client)
    answers = {
        "unknown page": await client.get("/no/such/page"),
        "unreadable id": await client.get("/events/not-a-uuid"),
        "expired form": await client.post("/logout", data={"csrf_token": "stale"}),
    }
    for case, answer in answers.items():
        assert answer.status_code in {403, 404}, case
        assert "My bookings" in answer.text, case
        assert "Log out" in answer.text, case
        assert "Register" not in answer.text, case


async def test_the_api_keeps_answering_json(client: AsyncClient) -> None:
    answer = await client.get("/api/v1/events/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/nope")).headers["content-type"] == "application/problem+json"


async def test_a_sold_out_hold_says_so_on_the_event_page(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, capacity=1)
    buyer = await create_account(client)
    booked = await client.post(
        "/api/v1/bookings", json={"event_id": event["id"], "quantity": 1}, headers=buyer.headers
    )
    assert booked.status_code == 201
    await register_in_browser(client)
    page = await client.get(f"/events/{event['id']}")
    assert "Join the waiting list" in page.text
    answer = await client.post(
        f"/events/{event['id']}/hold", data={"csrf_token": csrf_of(page), "quantity": "1"}
    )
    assert answer.status_code == 409
    assert "Sold out" in answer.text or "left" in answer.text


async def test_password_reset_page_takes_the_emailed_token(client: AsyncClient) -> None:
    page = await client.get("/password/reset?token=abc")
    assert page.status_code == 200
    assert 'name="token" value="abc"' in page.text
    answer = await client.post(
        "/password/reset",
        data={"csrf_token": csrf_of(page), "token": "abc", "new_password": "a-new-passw0rd"},
    )
    assert answer.status_code == 400
    assert "ask for a new one" in answer.text


async def test_unknown_api_addresses_stay_problems_for_every_method(client: AsyncClient) -> None:
    for method in ("GET", "POST", "DELETE"):
        answer = await client.request(method, "/api/v1/nope")
        assert answer.status_code == 404, method
        assert answer.headers["content-type"] == "application/problem+json"


async def test_holding_again_after_booking_says_already_booked(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, capacity=10)
    await register_in_browser(client)
    page = await client.get(f"/events/{event['id']}")
    held = await client.post(
        f"/events/{event['id']}/hold", data={"csrf_token": csrf_of(page), "quantity": "2"}
    )
    assert held.status_code == 303
    hold_page = await client.get(held.headers["location"])
    assert "held until" in hold_page.text
    confirmed = await client.post(
        f"{held.headers['location']}/confirm",
        data={"csrf_token": csrf_of(hold_page), "holder_name": "Ada", "holder_email": "ada@example.com"},
    )
    assert confirmed.status_code == 303
    booking = await client.get(confirmed.headers["location"])
    assert "Your booking is confirmed" in booking.text
    again = await client.post(
        f"/events/{event['id']}/hold", data={"csrf_token": csrf_of(page), "quantity": "1"}
    )
    assert again.status_code == 409
    assert "already" in again.text.lower()


async def test_a_quantity_over_the_limit_is_a_message_not_an_error(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, capacity=10)
    await register_in_browser(client)
    page = await client.get(f"/events/{event['id']}")
    answer = await client.post(
        f"/events/{event['id']}/hold", data={"csrf_token": csrf_of(page), "quantity": "abc"}
    )
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert "Quantity" in answer.text


async def test_the_calendar_file_is_in_the_event_time_zone(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(
        client, organizer, timezone="Europe/Berlin", starts_at="2030-07-01T18:00:00+00:00"
    )
    answer = await client.get(f"/events/{event['id']}/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "DTSTART;TZID=Europe/Berlin:20300701T200000" in answer.text
    assert "BEGIN:VTIMEZONE" in answer.text
    assert "SUMMARY:Spring Jazz Night" in answer.text


async def test_login_attempts_share_the_api_login_budget(database_url: str, tmp_path: Path) -> None:
    app = create_app(
        make_settings(database_url, tmp_path, rate_limits_enabled=True, rate_limit_auth="3/hour")
    )
    transport = ASGITransport(app=app, client=("203.0.113.9", 4242))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as browser,
    ):
        body = {"email": "nobody@example.com", "password": "whatever-123"}
        assert (await browser.post("/api/v1/auth/login", json=body)).status_code == 401
        statuses = [(await submit(browser, "/login", "/login", **body)).status_code for _ in range(3)]
    assert statuses[:2] == [401, 401]
    assert statuses[2] == 429


async def test_releasing_and_extending_a_hold(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    event = await create_published_event(client, organizer, capacity=3)
    await register_in_browser(client)
    page = await client.get(f"/events/{event['id']}")
    held = await client.post(
        f"/events/{event['id']}/hold", data={"csrf_token": csrf_of(page), "quantity": "3"}
    )
    hold_path = held.headers["location"]
    assert "Sold out" in (await client.get(f"/events/{event['id']}")).text
    extended = await client.post(f"{hold_path}/extend", data={"csrf_token": csrf_of(page)})
    assert extended.headers["location"] == f"{hold_path}?notice=extended"
    released = await client.post(f"{hold_path}/release", data={"csrf_token": csrf_of(page)})
    assert released.headers["location"] == f"/events/{event['id']}?notice=released"
    after = await client.get(released.headers["location"])
    assert "the tickets are back on sale" in after.text
    assert "Few left: 3" in after.text
    assert "This hold was released" in (await client.get(hold_path)).text


async def test_a_ban_ends_the_browser_session(app: FastAPI, client: AsyncClient) -> None:
    email = await register_in_browser(client)
    admin = await create_admin(app, client)
    users = await client.get("/api/v1/admin/users", params={"q": email}, headers=admin.headers)
    [user] = users.json()["items"]
    banned = await client.patch(
        f"/api/v1/admin/users/{user['id']}", json={"is_active": False}, headers=admin.headers
    )
    assert banned.status_code == 200
    assert (await client.get("/account")).status_code == 303


async def test_forgot_and_reset_password_through_the_emailed_link(app: FastAPI, client: AsyncClient) -> None:
    email = await register_in_browser(client)
    await client.post("/logout", data={"csrf_token": csrf_of(await client.get("/"))})
    sent = await submit(client, "/password/forgot", "/password/forgot", email=email)
    assert sent.headers["location"] == "/login?notice=reset_sent"
    # The request is queued; the worker looks the account up and writes the email with its token.
    assert await create_worker(app.state.database, app.state.settings).drain() == 1
    async with app.state.database.unit_of_work() as session:
        payloads = (
            await session.scalars(select(OutboxMessage.payload).where(OutboxMessage.recipient == email))
        ).all()
    token = next(json.loads(p)["token"] for p in payloads if "token" in json.loads(p))
    reset = await submit(
        client,
        f"/password/reset?token={token}",
        "/password/reset",
        token=token,
        new_password="brand-new-passw0rd",
    )
    assert reset.headers["location"] == "/login?notice=password_reset"
    logged_in = await submit(client, "/login", "/login", email=email, password="brand-new-passw0rd")
    assert logged_in.status_code == 303


async def test_the_catalogue_pages_twelve_at_a_time(client: AsyncClient) -> None:
    organizer = await create_account(client, role="organizer")
    for number in range(13):
        await create_published_event(client, organizer, title=f"Paged Night {number:02d}")
    first = await client.get("/", params={"q": "Paged"})
    assert "13 events found" in first.text
    assert first.text.count('class="card"') == 12
    assert 'href="/?q=Paged&amp;page=2"' in first.text
    second = await client.get("/", params={"q": "Paged", "page": "2"})
    assert second.text.count('class="card"') == 1
    bad = await client.get("/", params={"from": "yesterday"})
    assert bad.status_code == 200
    assert "From must be a date like 2030-04-01." in bad.text


async def test_pages_may_not_be_framed_or_run_foreign_scripts(client: AsyncClient) -> None:
    page = await client.get("/")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
