"""Where you're signed in, in a real browser: a phone and a laptop on one account, the phone
lists both and signs the laptop out. Screenshots at 390 and 1280 px go to $SCREENSHOT_DIR when it
is set (else the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

EMAIL = "carol@demo.shop"
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_the_phone_lists_both_devices_and_signs_the_laptop_out(browser, live_server, tmp_path):
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    laptop_context, laptop = new_page(browser, live_server, DESKTOP)
    phone_context, phone = new_page(
        browser, live_server, MOBILE, is_mobile=True, has_touch=True, user_agent=PHONE_AGENT
    )
    try:
        sign_in(laptop, EMAIL)
        sign_in(phone, EMAIL)

        phone.goto("/account/security")
        sessions = phone.locator(".account-sessions__list li")
        expect(sessions.filter(has_text="This device")).to_have_count(1)
        expect(sessions.filter(has_text="iPhone")).to_have_count(1)
        assert sessions.count() >= 2  # earlier tests may have left Carol signed in elsewhere
        assert_no_horizontal_scroll(phone)
        phone.screenshot(path=str(shots / "security-390.png"), full_page=True)
        laptop.goto("/account/security")
        laptop.screenshot(path=str(shots / "security-1280.png"), full_page=True)

        phone.get_by_role("button", name="Sign out other devices").click()
        expect(phone.locator("#messages")).to_contain_text("Your other devices are signed out")
        expect(phone.locator(".account-sessions__list li")).to_have_count(1)

        laptop.goto("/account/security")
        assert "/sign-in" in laptop.url
    finally:
        laptop_context.close()
        phone_context.close()
