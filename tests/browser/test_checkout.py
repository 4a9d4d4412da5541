"""Checkout in a real browser at desktop and phone widths: funds + bank transfer with the breakdown
recalculated by htmx, funds + card through the sandbox, and the same without JavaScript.

Each test uses its own customer (made in a separate process against the live
server's database, with an address and some funds), so the demo customer's
balance and cart, which other browser tests read, stay as they were.
"""

import itertools
import re
import sqlite3
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import place_order
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

MAKE_CUSTOMER = """
import sys
from shop import create_app
from models.accounts.addresses import add_address
from models.base import connection
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.accounts.administration import create_user
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    user = create_user(sys.argv[3], sys.argv[4], role="customer", first_name="Cora", last_name="Checkout")
    add_address(user, {"full_name": "Cora Checkout", "line1": "2 Mill Lane", "city": "Leeds",
                       "postal_code": "LS1 1AA", "country": "GB"})
    transfer("browser-seed:" + sys.argv[3], "top_up",
             [Leg(account_for(user), 200, "deposit"), Leg(system_account(PROVIDER_CLEARING), -200, "deposit")])
"""

_numbers = itertools.count(1)
PRODUCT = "Paper filters, pack of 100"  # 4.50, plenty in stock


@pytest.fixture
def checkout_customer(live_server, live_database, tmp_path):
    email = f"checkout{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", MAKE_CUSTOMER, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return email


def order_status(live_database, email):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT status, funds_used, card_amount, bank_amount FROM "order" '
            'JOIN "user" ON "user".id = "order".user_id WHERE email = ? ORDER BY "order".id DESC',
            (email,),
        ).fetchone()


def to_checkout(page):
    page.goto("/p/paper-filters-100")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(f"Added 1 × {PRODUCT} to your cart.")).to_be_visible()
    page.goto("/cart")
    page.get_by_role("button", name="Checkout").click()
    expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_funds_and_bank_transfer_with_htmx_breakdown(
    request, viewport, checkout_customer, live_database, tmp_path
):
    page = request.getfixturevalue(viewport)
    sign_in(page, checkout_customer)
    to_checkout(page)
    sentence = page.locator(".checkout__sentence")
    expect(sentence).to_have_text("€2.00 funds, €2.50 card.")
    page.screenshot(path=str(tmp_path / f"checkout-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    page.evaluate("window.stillTheSameDocument = true")
    page.get_by_label("Account funds to use").fill("1")
    page.get_by_label("Account funds to use").press("Tab")
    expect(sentence).to_have_text("€1.00 funds, €3.50 card.")
    assert page.evaluate("window.stillTheSameDocument === true")  # htmx swapped the form, no reload
    page.get_by_label("Account funds to use").fill("9")
    page.get_by_label("Account funds to use").press("Tab")
    expect(page.get_by_role("alert").first).to_contain_text("There is a problem")
    expect(page.get_by_label("Account funds to use")).to_have_value("9")
    page.get_by_label("Account funds to use").fill("1")
    page.get_by_label("Account funds to use").press("Tab")
    expect(sentence).to_have_text("€1.00 funds, €3.50 card.")
    page.get_by_label("Bank transfer").check()
    expect(sentence).to_have_text("€1.00 funds, €3.50 bank transfer.")
    place_order(page)
    expect(page.get_by_role("heading", level=1, name=re.compile("^Order "))).to_be_visible()
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    expect(page.locator(".bank-details")).to_contain_text("€3.50")
    page.screenshot(path=str(tmp_path / f"order-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    assert order_status(live_database, checkout_customer) == ("pending_payment", 100, 0, 350)


def test_funds_and_card_through_the_sandbox(mobile_page, checkout_customer, live_database):
    page = mobile_page
    sign_in(page, checkout_customer)
    to_checkout(page)
    place_order(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("is paid"))).to_be_visible()
    assert order_status(live_database, checkout_customer) == ("paid", 200, 250, 0)


def test_checkout_without_javascript(no_js_page, checkout_customer, live_database):
    page = no_js_page
    sign_in(page, checkout_customer)
    to_checkout(page)
    page.get_by_label("Account funds to use").fill("0.50")
    page.get_by_label("Bank transfer").check()
    page.get_by_role("button", name="Recalculate").click()
    expect(page.locator(".checkout__sentence")).to_have_text("€0.50 funds, €4.00 bank transfer.")
    place_order(page)
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    assert order_status(live_database, checkout_customer) == ("pending_payment", 50, 0, 400)
