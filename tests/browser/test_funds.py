"""Every sandbox outcome end to end in a real browser: approve, decline, late notification, lost return.

The late outcome shows the self-updating "Payment being confirmed" page; its
notification is delivered by the jobs' due work, run here in a separate
process against the live server's database, as the scheduler would.
"""

import re
import sqlite3
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import CUSTOMER_EMAIL
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

DELIVER_LATE_NOTIFICATIONS = """
import datetime, sys
from shop import create_app
from models.base import connection
from jobs.funds import deliver_sandbox_notifications
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    print(deliver_sandbox_notifications(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1)))
"""


def balance(live_database, email=CUSTOMER_EMAIL):
    with sqlite3.connect(live_database) as connection:
        row = connection.execute(
            'SELECT balance FROM ledger_account JOIN "user" ON "user".id = ledger_account.user_id WHERE email = ?',
            (email,),
        ).fetchone()
    return row[0] if row else 0


def start_top_up(page, amount="12.00"):
    page.goto("/account/funds")
    page.get_by_label("Other amount").fill(amount)
    page.get_by_role("button", name="Top up this amount").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()


def test_approve_credits_the_balance_once(page, live_database):
    sign_in(page, CUSTOMER_EMAIL)
    before = balance(live_database)
    start_top_up(page)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("added to your balance"))).to_be_visible()
    assert balance(live_database) == before + 1200
    page.reload()
    page.go_back()  # back to the provider's page: the choice is made, nothing more happens
    page.reload()
    assert balance(live_database) == before + 1200


def test_decline_moves_no_money(page, live_database):
    sign_in(page, CUSTOMER_EMAIL)
    before = balance(live_database)
    start_top_up(page)
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", name="The payment didn't go through")).to_be_visible()
    assert balance(live_database) == before


def test_late_notification_shows_being_confirmed_then_updates_itself(mobile_page, live_database, tmp_path):
    page = mobile_page
    sign_in(page, CUSTOMER_EMAIL)
    before = balance(live_database)
    start_top_up(page, "15")
    page.get_by_role("button", name="Approve, notification arrives late").click()
    expect(page.get_by_role("heading", name="Payment being confirmed")).to_be_visible()
    assert page.get_by_role("button", name="Check again").is_visible()
    assert_no_horizontal_scroll(page)
    assert balance(live_database) == before
    # No reload: the fragment polls until the provider has decided (a few seconds).
    expect(page.get_by_role("heading", name=re.compile("added to your balance"))).to_be_visible(
        timeout=30_000
    )
    assert "/account/funds/top-ups/" in page.url
    assert balance(live_database) == before + 1500
    # The late notification itself arrives through the jobs process: accepted, nothing more credited.
    result = subprocess.run(
        [sys.executable, "-c", DELIVER_LATE_NOTIFICATIONS, str(live_database), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "1", result.stderr
    assert balance(live_database) == before + 1500


def test_late_notification_without_javascript_uses_check_again(no_js_page, live_database, tmp_path):
    page = no_js_page
    sign_in(page, CUSTOMER_EMAIL)
    before = balance(live_database)
    start_top_up(page, "16")
    page.get_by_role("button", name="Approve, notification arrives late").click()
    expect(page.get_by_role("heading", name="Payment being confirmed")).to_be_visible()
    # The scheduler delivers the late notification once it is due.
    subprocess.run(
        [sys.executable, "-c", DELIVER_LATE_NOTIFICATIONS, str(live_database), str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert balance(live_database) == before + 1600
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_role("heading", name=re.compile("added to your balance"))).to_be_visible()


def test_lost_return_says_close_the_window_and_the_funds_page_shows_the_money(page, live_database):
    sign_in(page, CUSTOMER_EMAIL)
    before = balance(live_database)
    start_top_up(page, "13.50")
    page.get_by_role("button", name="Approve, browser never returns").click()
    expect(page.get_by_text("You can close this window")).to_be_visible()
    assert "/sandbox/pay/" in page.url
    assert balance(live_database) == before + 1350
    page.goto("/account/funds")
    expect(page.locator(".funds-recent li").first).to_contain_text("Added")


def test_bad_amount_is_refused_with_the_value_kept(page):
    sign_in(page, CUSTOMER_EMAIL)
    page.goto("/account/funds")
    page.get_by_label("Other amount").fill("12.345")
    page.get_by_role("button", name="Top up this amount").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Other amount")).to_have_value("12.345")
    assert page.title().startswith("Error:")


def test_history_filter_and_csv(page):
    sign_in(page, CUSTOMER_EMAIL)
    page.goto("/account/funds")
    page.get_by_role("link", name="See every movement").click()
    page.get_by_label("Category").select_option(label="Top-up")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"category=deposit"))
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download")).click()
    text = download_info.value.path().read_text()
    assert text.splitlines()[0].startswith("date,description,category")
    assert all(",deposit," in line for line in text.splitlines()[1:])
