"""Helpers for driving the pages with plain HTTP, as a browser without JavaScript would."""

import re

from httpx import AsyncClient, Response

from tests.factories import DEFAULT_PASSWORD, unique_email

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: Response) -> str:
    match = _CSRF.search(page.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


async def submit(client: AsyncClient, form_page: str, action: str, **fields: str) -> Response:
    """GET a page (for its CSRF token and cookie), then POST a form to ``action``."""
    page = await client.get(form_page)
    return await client.post(action, data={"csrf_token": csrf_of(page), **fields})


async def register_in_browser(client: AsyncClient, email: str | None = None) -> str:
    email = email or unique_email("web")
    answer = await submit(
        client, "/register", "/register", email=email, password=DEFAULT_PASSWORD, full_name="Web Person"
    )
    assert answer.status_code == 303, answer.text
    return email
