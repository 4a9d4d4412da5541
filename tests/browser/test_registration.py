"""The four-step registration in a real browser: desktop and phone, JavaScript on and off,
Back and refresh mid-way, confirmation by code and by link."""

import re
import sqlite3
import uuid

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

PASSWORD = "plum tree by the river"


def unique_email():
    return f"shopper-{uuid.uuid4().hex[:10]}@example.com"


def latest_message(database, to):
    with sqlite3.connect(database) as conn:
        row = conn.execute(
            "SELECT text_body FROM outbox_message WHERE to_address = ? ORDER BY id DESC LIMIT 1", (to,)
        ).fetchone()
    assert row, f"no message to {to}"
    return row[0]


def start_registration(page):
    page.goto("/")
    page.get_by_role("link", name="My Account").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/register/email")
    assert "Step 2 of 4" in page.locator("main").inner_text()


def fill_email_step(page, email):
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/register/details")


def fill_details_step(page):
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill("Sousa")
    page.get_by_label("Phone number").fill("07400 123456")
    page.locator("#billing-line1").fill("12 Rose Lane")
    page.locator("#billing-city").fill("Bristol")
    page.locator("#billing-postal_code").fill("BS1 4DJ")


def continue_to_review(page):
    page.get_by_role("button", name="Continue").click()
    try:
        page.wait_for_url("**/register/review")
    except PlaywrightTimeout:
        raise AssertionError(page.locator("main").inner_text()) from None


def test_desktop_registration_with_back_refresh_shipping_and_code(page, live_database):
    email = unique_email()
    start_registration(page)
    fill_email_step(page, email)
    fill_details_step(page)

    shipping = page.locator("#shipping-fields")
    assert not shipping.is_visible()  # folded until asked for
    page.get_by_label("Ship to a different address").check()
    page.locator("#shipping-full_name").wait_for(state="visible")
    page.locator("#shipping-full_name").fill("Maria at the studio")
    page.locator("#shipping-line1").fill("3 Harbour Side")
    page.locator("#shipping-city").fill("Bristol")
    page.locator("#shipping-postal_code").fill("BS1 5TY")
    continue_to_review(page)
    assert "3 Harbour Side" in page.locator("main").inner_text()

    page.go_back()
    page.wait_for_url("**/register/details")
    assert page.locator("#billing-line1").input_value() == "12 Rose Lane"
    assert page.get_by_label("Ship to a different address").is_checked()
    page.go_forward()
    page.wait_for_url("**/register/review")
    page.reload()
    review = page.locator("main").inner_text()
    assert "Step 4 of 4" in review and email in review and "Maria Sousa" in review

    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/check-inbox")
    code = re.search(r"^(\d{6})$", latest_message(live_database, email), re.M).group(1)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/account/")
    assert "Maria" in page.locator("main").inner_text()


def test_phone_registration_confirmed_by_link(mobile_page, live_database):
    page = mobile_page
    email = unique_email()
    start_registration(page)
    assert_no_horizontal_scroll(page)
    fill_email_step(page, email)
    fill_details_step(page)
    assert_no_horizontal_scroll(page)
    continue_to_review(page)
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/check-inbox")
    assert_no_horizontal_scroll(page)
    link = re.search(r"(https?://\S+/register/confirm/\S+)", latest_message(live_database, email)).group(1)
    path = "/" + link.split("/", 3)[3]
    page.goto(path)
    page.get_by_role("button", name="Confirm my email address").click()
    page.wait_for_url("**/account/")
    assert "Maria" in page.locator("main").inner_text()


def test_registration_without_javascript(no_js_page, live_database):
    page = no_js_page
    email = unique_email()
    start_registration(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill("short")
    page.get_by_role("button", name="Continue").click()
    assert "There is a problem" in page.locator("main").inner_text()
    assert page.get_by_label("Email address").input_value() == email
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/register/details")

    assert page.locator("#shipping-full_name").is_visible()  # no JavaScript: the fields are simply there
    fill_details_step(page)
    page.locator("#billing-postal_code").fill("")
    page.get_by_role("button", name="Continue").click()
    main = page.locator("main").inner_text()
    assert "Enter the postcode." in main
    assert page.locator("#billing-line1").input_value() == "12 Rose Lane"
    page.locator("#billing-postal_code").fill("BS1 4DJ")
    continue_to_review(page)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/check-inbox")
    code = re.search(r"^(\d{6})$", latest_message(live_database, email), re.M).group(1)
    page.get_by_label("6-digit code").fill(code)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/account/")


def test_existing_email_ends_on_the_same_check_inbox_page(page, live_database):
    start_registration(page)
    fill_email_step(page, "alice@demo.shop")
    fill_details_step(page)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/check-inbox")
    assert "Check your inbox" in page.locator("h1").inner_text()
    assert "already have an account" in latest_message(live_database, "alice@demo.shop")
