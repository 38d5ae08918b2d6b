"""Browser fixtures: a real ``boxoffice serve`` and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work everywhere, so the tests drive the ``chromium`` on the
PATH (``apt-get install chromium``). Without it they are skipped, except under ``CI=true``, where a
missing browser fails the run. ``BOXOFFICE_SCREENSHOTS=1`` saves the main pages to docs/screenshots/.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page

from tests.factories import DEFAULT_PASSWORD, event_body
from tests.processes import boxoffice_serve

SCREENSHOTS = os.environ.get("BOXOFFICE_SCREENSHOTS") == "1"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The checks axe runs: WCAG 2.0 and 2.1, levels A and AA, and its best practices.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}


@dataclass
class Site:
    """The served app: its address, and the API for setting scenes up."""

    base: str

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=30, **kwargs)

    def account(self, role: str = "attendee", name: str = "Someone") -> tuple[str, str]:
        """A new account through the API: its email and an access token."""
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": DEFAULT_PASSWORD, "full_name": name, "role": role}
        assert self.api("POST", "/auth/register", json=body).status_code == 201
        tokens = self.api("POST", "/auth/login", json={"email": email, "password": DEFAULT_PASSWORD})
        return email, str(tokens.json()["access_token"])

    def event(self, **overrides: Any) -> dict[str, Any]:
        """A published event of a new organizer."""
        _, token = self.account("organizer", "Harbour Concerts")
        created = self.api("POST", "/events", token, json=event_body(**overrides))
        assert created.status_code == 201, created.text
        published = self.api("POST", f"/events/{created.json()['id']}/publish", token)
        assert published.status_code == 200, published.text
        return dict(published.json())


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One ``boxoffice serve`` for the browser tests, on a SQLite database of their own, sweeping
    expired holds every half second."""
    workdir = tmp_path_factory.mktemp("web")
    url = f"sqlite+aiosqlite:///{workdir / 'web.db'}"
    with boxoffice_serve(url, workdir, rate_limits_enabled="false", hold_sweep_seconds="0.5") as served:
        yield Site(served.base)


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    browser_context = browser.new_context(base_url=site.base, viewport={"width": 1200, "height": 900})
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """axe finds nothing to fix on the page as it stands."""
    results = _axe.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def screenshot(page: Page, name: str) -> None:
    """Save the page for the README, when asked to (BOXOFFICE_SCREENSHOTS=1)."""
    if SCREENSHOTS:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
