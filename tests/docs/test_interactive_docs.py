"""/docs and /redoc render from the package's own assets, with no network beyond the server."""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser

from boxoffice.core.openapi import STATIC
from tests.browser import offline_page
from tests.processes import boxoffice_serve

pytestmark = pytest.mark.slow

EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("docs")
    with boxoffice_serve(f"sqlite+aiosqlite:///{workdir / 'boxoffice.db'}", workdir) as process:
        yield process.base


def _operation_count(base: str, *, per_tag: bool = False) -> int:
    """How many operations the document has; Swagger UI shows one under each of its tags."""
    document = httpx.get(f"{base}/openapi.json", timeout=10).json()
    operations = [operation for item in document["paths"].values() for operation in item.values()]
    return sum(len(operation.get("tags", [None])) if per_tag else 1 for operation in operations)


def test_the_doc_pages_load_nothing_from_elsewhere(served: str) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(served + page, timeout=10).text
        assert not EXTERNAL_URL.search(html), html
        for asset in re.findall(r"""(?:src|href)=["']?(/docs/assets/[^"' >]+)""", html):
            assert httpx.get(served + asset, timeout=10).status_code == 200, asset


def test_every_vendored_asset_ships_with_its_licence() -> None:
    for tool in ("swagger-ui", "redoc"):
        assert (STATIC / tool / "LICENSE").read_text().strip()
    assert (STATIC / "README.md").is_file()


def test_swagger_ui_renders_every_operation_offline(browser: Browser, served: str) -> None:
    with offline_page(browser, served) as opened:
        opened.page.goto(f"{served}/docs")
        operations = opened.page.locator("div.opblock[id^='operations-']")
        operations.first.wait_for(timeout=30_000)
        assert operations.count() == _operation_count(served, per_tag=True)
        assert opened.page.get_by_text("/api/v1/bookings", exact=True).first.is_visible()
        assert opened.page.locator("button.authorize").is_visible()
        assert opened.blocked == []


def test_redoc_renders_every_operation_offline(browser: Browser, served: str) -> None:
    with offline_page(browser, served) as opened:
        opened.page.goto(f"{served}/redoc")
        operations = opened.page.locator("[data-section-id^='operation/']")
        operations.first.wait_for(timeout=30_000)
        assert operations.count() == _operation_count(served, per_tag=True)
        assert opened.page.get_by_role("heading", name="Create Booking").first.is_visible()
        assert opened.blocked == []
