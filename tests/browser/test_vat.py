"""VAT in the browser (issue 24), at 390 px and on a desktop: "VAT included" by the product's
price, "of which VAT" under an order's total, the owner's VAT rates and settings, the VAT report,
and a receipt email with its VAT lines. Nothing scrolls sideways; photographed into
$SCREENSHOT_DIR when it is set (else the test's tmp_path), for a person to look at."""

import os
import sqlite3
from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

VIEWPORTS = {"mobile": MOBILE, "desktop": DESKTOP}


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def opened(browser, live_server, viewport):
    mobile = viewport == "mobile"
    return new_page(browser, live_server, VIEWPORTS[viewport], is_mobile=mobile, has_touch=mobile)


def look(page, shots, name, viewport):
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots / f"vat-{name}-{viewport}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_customer_pages(browser, live_server, shots, viewport):
    context, page = opened(browser, live_server, viewport)
    page.goto("/p/house-blend-250g")
    assert page.locator(".vat-note").count() == 1 and page.locator(".vat-note").inner_text() == "VAT included"
    look(page, shots, "product", viewport)
    with page.expect_response(lambda response: response.url.endswith("/add")):
        page.get_by_role("button", name="Add to cart").click()
    page.goto("/cart")
    assert page.locator(".vat-note").count() == 1
    look(page, shots, "cart", viewport)
    sign_in(page, "dan@demo.shop")
    page.goto("/account/orders")
    page.goto(
        page.locator("main a[href^='/account/orders/']:not([href$='/documents'])").first.get_attribute("href")
    )
    assert page.get_by_text("of which VAT").count() >= 1
    look(page, shots, "order", viewport)
    context.close()


@pytest.mark.parametrize("viewport", ["mobile", "desktop"])
def test_owner_pages(browser, live_server, shots, viewport):
    context, page = opened(browser, live_server, viewport)
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/vat-rates/")
    assert (
        page.get_by_role("cell", name="Standard rate").count() == 1
        or page.get_by_text("Standard rate").count()
    )
    look(page, shots, "rates", viewport)
    page.get_by_role("button", name="New VAT rate").click()
    page.get_by_label("Name").fill("Luxury")
    page.get_by_label("Rate (%)").fill("33.333")
    page.get_by_role("button", name="Add VAT rate").click()
    page.get_by_text("Enter a percentage like 2 or 2.5.").first.wait_for()
    assert page.get_by_label("Name").input_value() == "Luxury"
    look(page, shots, "rate-form-error", viewport)
    page.goto("/admin/vat-rates/")
    page.get_by_role("link", name="Super-reduced rate").click()
    page.get_by_role("button", name="Archive this rate").wait_for()
    look(page, shots, "rate-edit", viewport)
    page.goto("/admin/settings#vat")
    page.locator("#vat").scroll_into_view_if_needed()
    page.locator("#vat").screenshot(path=str(shots / f"vat-settings-{viewport}.png"))
    assert_no_horizontal_scroll(page)
    page.goto("/admin/reports/vat?period=this_year&by=month")
    assert page.get_by_role("link", name="Top-ups are not sales: see the Deposits report.").count() == 1
    look(page, shots, "report", viewport)
    context.close()


def test_receipt_email_at_phone_width(browser, live_server, live_database, shots):
    with sqlite3.connect(live_database) as database:
        (html,) = database.execute(
            "SELECT html_body FROM outbox_message WHERE html_body LIKE '%of which VAT%' ORDER BY id LIMIT 1"
        ).fetchone()
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    page.set_content(html)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(shots / "vat-email-mobile.png"), full_page=True)
    context.close()
