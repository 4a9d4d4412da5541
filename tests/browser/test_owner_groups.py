"""The owner putting a customer into a group in real browsers, at 1280 and 390 px (issue 21): open
the customer, choose the group, check what changes, confirm, and see the group in the customer list.
Screenshots of the dashboard, the list, the customer page and the confirmation go to
$SCREENSHOT_DIR when it is set (else the test's tmp_path)."""

import os
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def assert_axe_finds_nothing(page):
    """The crawl (test_crawl.py) checks every GET page; the confirmation answers a POST."""
    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


@pytest.mark.parametrize(
    "size, viewport, group", [("desktop", DESKTOP, "VIP"), ("mobile", MOBILE, "Affiliate")]
)
def test_the_owner_puts_a_customer_into_a_group(browser, live_server, tmp_path, size, viewport, group):
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    options = {"is_mobile": True, "has_touch": True} if viewport is MOBILE else {}
    context, page = new_page(browser, live_server, viewport, **options)
    email = f"grouped-{uuid.uuid4().hex[:8]}@example.com"
    try:
        sign_in(page, OWNER_EMAIL)
        page.goto("/admin/")
        expect(page.get_by_role("heading", name="To dispatch")).to_be_visible()
        assert_no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"owner-dashboard-{size}.png"), full_page=True)
        page.screenshot(path=str(shots / f"owner-dashboard-top-{size}.png"))

        page.goto("/admin/customers/new")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("First name").fill("Gwen")
        page.get_by_label("Last name").fill("Grouped")
        page.get_by_role("button", name="Create customer").click()
        expect(page.get_by_role("heading", name="Group", exact=True)).to_be_visible()
        group_section = page.locator("section", has=page.get_by_role("heading", name="Group", exact=True))
        expect(group_section).to_contain_text("In Basic, the default group.")

        group_section.get_by_label("New group").select_option(label=group)
        group_section.get_by_label("Note for the shop's records").fill("Asked at the counter")
        page.screenshot(path=str(shots / f"owner-customer-{size}.png"), full_page=True)
        group_section.screenshot(path=str(shots / f"owner-customer-group-{size}.png"))
        group_section.get_by_role("button", name="Check the change").click()

        expect(page.get_by_role("heading", name=f"Move Gwen Grouped to {group}?")).to_be_visible()
        changes = page.get_by_role("table")
        expect(changes).to_contain_text("Credit limit")
        expect(page.get_by_label("Note for the shop's records")).to_have_value("Asked at the counter")
        assert_no_horizontal_scroll(page)
        assert_axe_finds_nothing(page)
        page.screenshot(path=str(shots / f"owner-group-change-{size}.png"), full_page=True)
        page.get_by_role("button", name=f"Move them to {group}").click()

        expect(page.locator("#messages")).to_contain_text(f"Gwen Grouped is now in {group}.")
        expect(
            page.locator("section", has=page.get_by_role("heading", name="Group", exact=True))
        ).to_contain_text(f"In {group}.")
        expect(page.get_by_role("button", name=f"Take them out of {group}")).to_be_visible()

        page.get_by_role("link", name="All customers").click()
        page.get_by_label("Search by name, email or phone").fill(email)
        page.get_by_label("Search by name, email or phone").press("Enter")
        row = page.locator("#customer-results tr", has_text=email)
        expect(row).to_contain_text(group)
        expect(row).to_contain_text("€0.00")
        page.get_by_label("Search by name, email or phone").fill("")
        page.get_by_label("Search by name, email or phone").press("Enter")
        expect(page.locator("#customer-results")).to_contain_text("Gwen Grouped")
        assert_no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"owner-customers-{size}.png"), full_page=True)
        page.locator("#customer-results").screenshot(path=str(shots / f"owner-customers-results-{size}.png"))
    finally:
        context.close()
