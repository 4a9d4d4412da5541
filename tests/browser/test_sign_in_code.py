"""Signing in with an emailed code in a real browser, JavaScript on and off, desktop and phone: the
code is made by the jobs process's part a moment after the request (issue 19, 6), and the
"check your inbox" page takes it once it arrives."""

import re
import sqlite3
import time

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser

CUSTOMER = "bob@demo.shop"  # no other browser test signs him in; 4 codes stay under the hourly cap


def newest_code(database, to, after_id, timeout=10.0):
    """The code of the first sign-in code message to `to` newer than `after_id`, once it is queued."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as conn:
            row = conn.execute(
                "SELECT text_body FROM outbox_message WHERE to_address = ? AND kind = 'sign_in_code' AND id > ?"
                " ORDER BY id LIMIT 1",
                (to, after_id),
            ).fetchone()
        if row:
            return re.search(r"^(\d{6})$", row[0], re.M).group(1)
        time.sleep(0.2)
    raise AssertionError(f"no sign-in code reached the outbox for {to}")


def last_message_id(database):
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT COALESCE(MAX(id), 0) FROM outbox_message").fetchone()[0]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_sign_in_with_an_emailed_code(browser, live_server, live_database, javascript, viewport):
    context, page = new_page(
        browser, live_server, DESKTOP if viewport == "desktop" else MOBILE, java_script_enabled=javascript
    )
    try:
        before = last_message_id(live_database)
        page.goto("/sign-in")
        page.get_by_role("link", name="Email me a sign-in code instead").click()
        # With JavaScript htmx swaps the page in: the sign-in page has an email field too.
        page.get_by_role("heading", name="Email me a sign-in code").wait_for()
        page.get_by_label("Email address").fill(CUSTOMER)
        page.get_by_role("button", name="Email me a code").click()
        page.wait_for_url("**/check-inbox")
        assert "we've just emailed it a 6-digit sign-in code" in page.locator("main").inner_text()
        page.get_by_label("6-digit code").fill(newest_code(live_database, CUSTOMER, before))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/account/")
        assert "Welcome back, Bob." in page.locator("main").inner_text()
    finally:
        context.close()
