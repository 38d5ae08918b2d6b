"""A real Chromium for the tests that need a browser: the ``browser`` fixture, one per test module.

It lives for one module, not the whole run: while Playwright's sync driver runs, ``asyncio.run``
cannot, and session fixtures elsewhere (the databases, migrations) use it when they first start.

Any test module may use it (``tests/conftest.py`` makes it available everywhere); ``offline_page``
opens a page that may reach one origin only, so a page that needs the internet fails its test.
Without Chromium the tests that need it are skipped, and under ``CI=true`` they fail.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install -y chromium`; .ci/run does it) "
    "or set BOXOFFICE_TEST_CHROMIUM to a Chromium executable"
)


def chromium_executable() -> str | None:
    return (
        os.environ.get("BOXOFFICE_TEST_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for one test module. Tests that use it must be plain (not ``async``) tests."""
    executable = chromium_executable()
    if executable is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Chromium was found: {INSTALL_HINT}")
        pytest.skip(f"needs Chromium: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class OfflinePage:
    page: Page
    blocked: list[str] = field(default_factory=list)


@contextmanager
def offline_page(browser: Browser, origin: str) -> Iterator[OfflinePage]:
    """A fresh page whose every request outside ``origin`` is refused and recorded in ``blocked``."""
    context = browser.new_context()
    opened = OfflinePage(context.new_page())

    def only_origin(route: Route) -> None:
        url = route.request.url
        if url == origin or url.startswith((origin + "/", "data:", "blob:")):
            route.continue_()
        else:
            opened.blocked.append(url)
            route.abort()

    context.route("**/*", only_origin)
    try:
        yield opened
    finally:
        context.close()
