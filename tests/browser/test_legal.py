"""The legal pages in a real browser (issue 24): the footer's links on a phone, a page read at both
widths, checkout refusing an order without the terms, the owner's list and editor. Screenshots go
to $SCREENSHOT_DIR when it is set (else the test's tmp_path)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accept_terms
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import order_button
from tests.browser.conftest import sign_in
from tests.browser.test_checkout import checkout_customer  # noqa: F401 - a fixture
from tests.browser.test_checkout import order_status
from tests.browser.test_checkout import to_checkout

pytestmark = pytest.mark.browser


def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_footer_links_the_legal_pages_and_each_reads_well(request, viewport, tmp_path):
    page = request.getfixturevalue(viewport)
    page.goto("/")
    footer = page.get_by_role("navigation", name="Legal information")
    links = footer.get_by_role("link")
    expect(links).to_have_text(["Legal notice", "Terms of sale", "Privacy policy", "Withdrawal form"])
    for index in range(4):
        assert links.nth(index).bounding_box()["height"] >= 44  # a finger finds them
    page.locator("footer").scroll_into_view_if_needed()
    page.screenshot(path=str(shots(tmp_path) / f"legal-footer-{viewport}.png"))
    links.nth(1).click()
    expect(page.get_by_role("heading", level=1, name="Terms of sale")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="8. Legal guarantee of conformity")).to_be_visible()
    expect(page.get_by_text("Last updated: 7 Dec 2026")).to_be_visible()
    expect(footer.get_by_role("link", name="Terms of sale")).to_have_attribute("aria-current", "page")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots(tmp_path) / f"legal-terms-{viewport}.png"), full_page=True)
    page.goto("/legal/withdrawal-form")
    expect(page.get_by_text("(*) Delete as appropriate.")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots(tmp_path) / f"legal-withdrawal-form-{viewport}.png"), full_page=True)


def test_checkout_refuses_an_order_without_the_terms_then_places_it(
    mobile_page,
    checkout_customer,  # noqa: F811
    live_database,
    tmp_path,
):
    page = mobile_page
    sign_in(page, checkout_customer)
    to_checkout(page)
    page.get_by_label("Bank transfer").check()
    expect(page.locator(".checkout__sentence")).to_have_text("€2.00 funds, €2.50 bank transfer.")
    order_button(page).click()
    summary = page.get_by_role("alert").first
    expect(summary).to_contain_text("Tick the box to accept the terms of sale.")
    expect(page.get_by_label("Bank transfer")).to_be_checked()  # what was chosen stays
    page.locator(".checkout__terms").scroll_into_view_if_needed()
    page.screenshot(path=str(shots(tmp_path) / "legal-checkout-refused-mobile_page.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    accept_terms(page)
    order_button(page).click()
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    assert order_status(live_database, checkout_customer) == ("pending_payment", 200, 0, 250)


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_owner_sees_what_to_check_and_edits_both_languages(request, viewport, tmp_path):
    page = request.getfixturevalue(viewport)
    sign_in(page, "owner@demo.shop")
    page.goto("/admin/legal/")
    expect(page.get_by_text("default text, check it")).to_have_count(8)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots(tmp_path) / f"legal-admin-{viewport}.png"), full_page=True)
    page.get_by_role("link", name="Legal notice").first.click()
    expect(page.get_by_role("heading", level=1, name="Legal notice")).to_be_visible()
    expect(page.get_by_label("Text", exact=True)).to_have_value(re.compile("^## Publisher"))
    expect(page.get_by_label("Text (Français)")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="Save the page").click()
    expect(page.get_by_role("alert").first).to_contain_text("Text: replace each “[to fill in: …]”")
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots(tmp_path) / f"legal-admin-edit-{viewport}.png"), full_page=True)
