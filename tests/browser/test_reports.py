"""The owner's reports in a browser: filters that swap only the figures with htmx (the URL
keeps them, the CSV link follows them), a bad period answered in place with what was typed,
and the same without JavaScript, on a desktop and a phone; the sales report at 1280 and 390 px
(screenshots in $SCREENSHOT_DIR when it is set, else the test's tmp_path)."""

import os
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def open_deposits(page):
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1, name="Reports")).to_be_visible()
    page.get_by_role("link", name="Deposits").first.click()
    expect(page.get_by_role("heading", level=1, name="Deposits")).to_be_visible()


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_filters_swap_the_figures_and_keep_them_in_the_url(request, viewport):
    page = request.getfixturevalue(viewport)
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/")
    open_deposits(page)
    page.get_by_role("combobox", name=re.compile("^Period")).select_option("custom")
    page.get_by_label("First day").fill("2026-02-01")
    page.get_by_label("Last day").fill("2026-03-31")
    page.get_by_label("Group days by").select_option("week")
    with page.expect_response(lambda r: "/admin/reports/deposits?" in r.url) as answer:
        page.get_by_role("button", name="Show figures").click()
    assert answer.value.request.headers.get("hx-request") == "true"  # only the figures came back
    expect(page).to_have_url(re.compile(r"period=custom&date_from=2026-02-01&date_to=2026-03-31&by=week"))
    expect(page.get_by_text("1 Feb 2026 – 31 Mar 2026 · by week")).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(r"/admin/reports/deposits\.csv\?.*date_from=2026-02-01")
    )
    expect(page.locator("svg.chart__svg")).to_be_visible()
    assert_no_horizontal_scroll(page)

    # Another report keeps the period.
    page.get_by_role("navigation", name="Reports").get_by_role("link", name="Order value").click()
    expect(page.get_by_role("heading", level=1, name="Order value")).to_be_visible()
    expect(page.get_by_text("1 Feb 2026 – 31 Mar 2026 · by week")).to_be_visible()

    # A last day before the first: the message in place, every typed value kept.
    page.get_by_label("First day").fill("2026-05-10")
    page.get_by_label("Last day").fill("2026-05-01")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_role("alert")).to_contain_text("The last day is before the first day.")
    expect(page.get_by_label("First day")).to_have_value("2026-05-10")
    expect(page.get_by_role("combobox", name=re.compile("^Period"))).to_have_value("custom")
    assert_no_horizontal_scroll(page)


def test_reports_work_without_javascript(no_js_page):
    page = no_js_page
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/reports/roll-forward")
    page.get_by_role("combobox", name=re.compile("^Period")).select_option("this_year")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(r"/admin/reports/roll-forward\?period=this_year"))
    expect(page.get_by_role("rowheader", name="Opening balance")).to_be_visible()
    page.get_by_label("Customer email").fill("nobody@example.com")
    page.get_by_role("button", name="Show figures").click()
    expect(page.get_by_role("alert")).to_contain_text("No customer has this email address.")
    expect(page.get_by_label("Customer email")).to_have_value("nobody@example.com")


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def paid_shop_orders(live_database):
    """Paid orders in the live shop: the demo's, and those earlier browser tests paid this session."""
    with sqlite3.connect(live_database) as connection:
        return connection.execute('SELECT count(*) FROM "order" WHERE paid_at IS NOT NULL').fetchone()[0]


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_sales_report_on_a_desktop_and_a_phone(request, viewport, shots, live_database):
    """The demo shop's paid orders (all paid this month) in this month's sales; then the year by week."""
    page = request.getfixturevalue(viewport)
    paid = str(paid_shop_orders(live_database))
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/reports")
    page.get_by_role("link", name="Sales", exact=True).first.click()
    expect(page.get_by_role("heading", level=1, name="Sales")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Total")).to_be_visible()
    expect(page.locator('tfoot td[data-label="Orders"]')).to_have_text(paid)
    expect(page.locator("svg.chart__svg")).to_be_visible()
    expect(page.get_by_text("counted on the day they were paid")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / f"sales-month-{viewport}.png", full_page=True)
    page.locator("figure.chart").scroll_into_view_if_needed()
    page.screenshot(path=shots / f"sales-month-chart-{viewport}.png")

    page.get_by_role("combobox", name=re.compile("^Period")).select_option("this_year")
    page.get_by_label("Group days by").select_option("week")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_url(re.compile(r"/admin/reports/sales\?period=this_year.*by=week"))
    expect(page.get_by_text(re.compile(r"· by week"))).to_be_visible()
    expect(page.locator('tfoot td[data-label="Orders"]')).to_have_text(paid)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / f"sales-year-{viewport}.png", full_page=True)
    page.locator("tfoot").scroll_into_view_if_needed()
    page.screenshot(path=shots / f"sales-year-totals-{viewport}.png")
