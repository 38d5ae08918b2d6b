"""What attendees do, in a real browser against a real ``boxoffice serve``; axe checks every page."""

import re
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.factories import DEFAULT_PASSWORD
from tests.web.conftest import Site, assert_accessible, screenshot


def _register(page: Page, name: str = "Ada Lovelace") -> str:
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("status").first).to_contain_text("Your account is ready")
    return email


def _hold_and_confirm(page: Page, event_id: str, quantity: int, *, axe: bool) -> None:
    page.goto(f"/events/{event_id}")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check out")
    held = f"Your {quantity} ticket is" if quantity == 1 else f"Your {quantity} tickets are"
    expect(page.locator("#hold-state")).to_contain_text(f"{held} held until")
    if axe:
        assert_accessible(page)
        screenshot(page, "checkout")
    page.get_by_label("Name on the tickets").fill("Ada Lovelace")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Booking")
    expect(page.get_by_role("status").first).to_contain_text("Your booking is confirmed")


def _qr_codes(page: Page) -> int:
    """How many QR images on the page have loaded and are drawn."""
    images = page.get_by_role("img", name=re.compile("QR code of ticket"))
    expect(images.first).to_be_visible()
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('img[alt^=\"QR code\"]'))"
        ".every(image => image.complete && image.naturalWidth > 100)"
    )
    return images.count()


def test_a_visitor_registers_finds_an_event_books_two_cancels_one_and_logs_out(
    site: Site, page: Page
) -> None:
    title = f"Harbour Blues {uuid.uuid4().hex[:6]}"
    event = site.event(
        title=title,
        city="Hamburg",
        category="music",
        timezone="Europe/Berlin",
        starts_at="2030-07-01T18:00:00+00:00",
        ticket_types=[{"name": "Standing", "price": "25.00", "capacity": 50}],
    )
    site.event(title="Another night", city="Hamburg")

    page.goto("/")
    assert_accessible(page)
    _register(page)
    assert_accessible(page)
    screenshot(page, "home")

    page.get_by_role("searchbox", name="Search").fill(title.split()[-1])
    page.get_by_label("City").fill("Hamburg")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text("1 event found")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("Harbour Concerts")).to_be_visible()
    expect(page.get_by_text("Mon 1 July 2030, 20:00 CEST")).to_be_visible()  # the event's time zone
    expect(page.get_by_role("link", name="Add to calendar (.ics)")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "event")

    _hold_and_confirm(page, event["id"], 2, axe=True)
    expect(page.locator(".code").first).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    assert _qr_codes(page) == 2
    assert_accessible(page)
    screenshot(page, "booking")

    page.get_by_role("link", name="Show and print tickets").click()
    assert _qr_codes(page) == 2
    assert_accessible(page)
    screenshot(page, "tickets")
    page.go_back()

    page.get_by_label("Number of tickets").fill("1")
    page.get_by_role("button", name="Change quantity").click()
    expect(page.get_by_role("status").first).to_contain_text("Your booking has been changed")
    assert _qr_codes(page) == 1

    page.get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "my-bookings")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status").first).to_have_text("You are logged out.")
    page.goto("/bookings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


def test_cancelling_a_booking_asks_first(site: Site, page: Page) -> None:
    event = site.event(title="Quiet Evening")
    _register(page)
    _hold_and_confirm(page, event["id"], 1, axe=False)
    page.get_by_role("link", name="Cancel this booking").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancel booking")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel the booking").click()
    expect(page.get_by_role("status").first).to_have_text("Your booking has been cancelled.")
    expect(page.get_by_text("Status")).to_be_visible()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible()


def test_a_sold_out_event_offers_the_waiting_list_and_its_offer_is_booked(site: Site, page: Page) -> None:
    event = site.event(title="Tiny Gig", capacity=1)
    _, buyer = site.account()
    booked = site.api("POST", "/bookings", buyer, json={"event_id": event["id"], "quantity": 1})
    assert booked.status_code == 201

    _register(page)
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_text("Sold out").first).to_be_visible()
    expect(page.get_by_role("button", name="Hold tickets")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "sold-out")
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("status").first).to_contain_text("You are on the waiting list")
    expect(page.get_by_text("You are number 1 in line.")).to_be_visible()
    assert_accessible(page)

    # The ticket comes back: it is held for the first in line, and the offer's link is the hold page.
    assert site.api("DELETE", f"/bookings/{booked.json()['id']}", buyer).status_code == 200
    page.reload()
    page.get_by_role("link", name="Book them").click()
    expect(page.locator("#hold-state")).to_contain_text("held until")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status").first).to_contain_text("Your booking is confirmed")


def test_a_hold_that_expires_tells_the_user(site: Site, page: Page) -> None:
    event = site.event(title="Short Hold Night", hold_minutes=1)
    _register(page)
    page.goto(f"/events/{event['id']}")
    page.get_by_role("button", name="Hold tickets").click()
    expect(page.locator("[data-countdown]")).to_have_text(re.compile(r"\(0:\d\d left\)"))
    announcer = page.locator("#hold-announce")
    expect(announcer).to_have_attribute("aria-live", "polite")
    # Screen readers hear the time left at a few moments, not every second.
    expect(announcer).to_have_text("30 seconds left to confirm your booking.", timeout=70_000)
    # The server's sweep gives the tickets back; the page, polling it, says so in an alert.
    expect(page.get_by_role("alert")).to_contain_text("Your hold has expired", timeout=90_000)
    assert_accessible(page)


def test_the_same_checkout_works_without_javascript(site: Site, browser: Browser) -> None:
    site.event(title="No Script Night")
    plain = browser.new_context(base_url=site.base, java_script_enabled=False)
    try:
        page = plain.new_page()
        _register(page)
        page.goto("/")
        page.get_by_role("searchbox", name="Search").fill("No Script")
        page.get_by_role("button", name="Search", exact=True).click()
        page.get_by_role("link", name="No Script Night").first.click()
        page.get_by_label("Quantity").fill("2")
        page.get_by_role("button", name="Hold tickets").click()
        expect(page.locator("#hold-state")).to_contain_text("Your 2 tickets are held until")
        page.get_by_role("button", name="Extend the hold").click()
        expect(page.get_by_role("status").first).to_contain_text("Your hold has been extended")
        page.get_by_role("button", name="Confirm booking").click()
        expect(page.get_by_role("status").first).to_contain_text("Your booking is confirmed")
        expect(page.get_by_role("img", name=re.compile("QR code of ticket"))).to_have_count(2)
        page.get_by_label("Number of tickets").fill("1")
        page.get_by_role("button", name="Change quantity").click()
        expect(page.get_by_role("img", name=re.compile("QR code of ticket"))).to_have_count(1)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status").first).to_have_text("You are logged out.")
    finally:
        plain.close()


def test_the_account_pages_and_errors_are_accessible(site: Site, page: Page) -> None:
    for path in ("/login", "/register", "/password/forgot", "/password/reset?token=x", "/no-such-page"):
        page.goto(path)
        assert_accessible(page)
    screenshot(page, "not-found")
    page.goto("/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("The email or password is wrong.")
    assert_accessible(page)
    _register(page)
    for path in ("/account", "/waitlist", "/bookings"):
        page.goto(path)
        assert_accessible(page)


def test_the_pages_fit_a_phone(site: Site, browser: Browser) -> None:
    event = site.event(title="Phone Night")
    phone = browser.new_context(base_url=site.base, viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        page = phone.new_page()
        for path in ("/", f"/events/{event['id']}", "/register"):
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            assert_accessible(page)
        screenshot(page, "phone-register")
    finally:
        phone.close()
