"""The owner refunds part of a customer's top-up to the card, in Chromium: a bad amount first
(htmx swaps the form back with the value kept), then a good one; the phone layout doesn't scroll."""

import json
import re
import sqlite3
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in
from tests.browser.test_crawl import axe_problems
from tests.browser.test_crawl import phone_problems
from tests.browser.test_crawl import VNU_HTMX_FILTER
from tests.browser.test_crawl import VNU_JAR
from tests.browser.test_funds import balance
from tests.browser.test_funds import start_top_up

pytestmark = pytest.mark.browser

CUSTOMER = "carol@demo.shop"


def customer_id(live_database):
    with sqlite3.connect(live_database) as connection:
        return connection.execute('SELECT id FROM "user" WHERE email = ?', (CUSTOMER,)).fetchone()[0]


def refunds(live_database):
    with sqlite3.connect(live_database) as connection:
        return connection.execute("SELECT amount, state FROM refund ORDER BY id").fetchall()


def html_errors(files):
    """The Nu HTML Checker's errors for these saved pages (htmx's attributes filtered, as in the crawl)."""
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json"]
        + ["--filterpattern", VNU_HTMX_FILTER, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stderr or result.stdout)
    return [f"{m.get('url')}:{m.get('lastLine')}: {m['message']}" for m in report["messages"]]


def customer_tops_up(browser, live_server, amount):
    context, page = new_page(browser, live_server, DESKTOP)
    sign_in(page, CUSTOMER)
    start_top_up(page, amount)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("added to your balance"))).to_be_visible()
    context.close()


def test_owner_refunds_part_of_a_top_up_to_the_card(browser, live_server, page, live_database, tmp_path):
    customer_tops_up(browser, live_server, "40.00")
    before, already = balance(live_database, CUSTOMER), refunds(live_database)
    funds_page = f"/admin/funds/customers/{customer_id(live_database)}"

    owner = page
    sign_in(owner, OWNER_EMAIL)
    owner.goto(funds_page)
    expect(owner.get_by_role("heading", name="Refund to card")).to_be_visible()
    owner.get_by_label("Top-up to refund").select_option(index=1)
    owner.get_by_label("Amount to refund").fill("4000.00")
    owner.get_by_label("Note for the shop's records").fill("Moving abroad")
    owner.get_by_role("button", name="Refund to card").click()
    expect(owner.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(owner.get_by_label("Amount to refund")).to_have_value("4000.00")
    expect(owner.get_by_label("Note for the shop's records")).to_have_value("Moving abroad")
    assert refunds(live_database) == already and balance(live_database, CUSTOMER) == before
    owner.screenshot(path=tmp_path / "refund-error-desktop.png", full_page=True)
    assert axe_problems(owner) == []
    (tmp_path / "refund-error.html").write_text(owner.content())

    owner.get_by_label("Amount to refund").fill("15.00")
    owner.get_by_role("button", name="Refund to card").click()
    expect(
        owner.get_by_text(re.compile(r"Refunded \D{0,4}15\.00\D{0,4} to the card of top-up"))
    ).to_be_visible()
    assert refunds(live_database) == [*already, (1500, "succeeded")]
    assert balance(live_database, CUSTOMER) <= before - 1500  # and any bonus of that top-up in proportion
    owner.screenshot(path=tmp_path / "refund-done-desktop.png", full_page=True)
    assert axe_problems(owner) == []
    (tmp_path / "refund-done.html").write_text(owner.content())
    assert html_errors([tmp_path / "refund-error.html", tmp_path / "refund-done.html"]) == []


def test_the_refund_section_fits_a_phone(mobile_page, browser, live_server, live_database, tmp_path):
    customer_tops_up(browser, live_server, "20.00")
    phone = mobile_page
    sign_in(phone, OWNER_EMAIL)
    phone.goto(f"/admin/funds/customers/{customer_id(live_database)}")
    expect(phone.get_by_role("heading", name="Refund to card")).to_be_visible()
    phone.get_by_role("button", name="Refund to card").click()  # nothing chosen: errors, still fits
    expect(phone.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_no_horizontal_scroll(phone)
    assert phone_problems(phone, phone.url) == []
    phone.screenshot(path=tmp_path / "refund-mobile.png", full_page=True)


def test_refund_without_javascript(no_js_page, browser, live_server, live_database):
    customer_tops_up(browser, live_server, "20.00")
    page = no_js_page
    sign_in(page, OWNER_EMAIL)
    page.goto(f"/admin/funds/customers/{customer_id(live_database)}")
    page.get_by_label("Top-up to refund").select_option(index=1)
    page.get_by_label("Amount to refund").fill("abc")
    page.get_by_role("button", name="Refund to card").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Amount to refund")).to_have_value("abc")
    assert page.title().startswith("Error:")
