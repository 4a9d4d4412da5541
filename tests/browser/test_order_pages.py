"""The customer's order pages in a real browser: the emailed pay link opened signed out on a phone,
switching to bank transfer, the "already paid" and "cancelled" pages, and the printable invoice.

Each test makes its own customer with three orders (unpaid by card, paid, cancelled) in a separate
process against the live server's database, and gets their pay-link tokens back. Screenshots of
every page at 1280 and 390 px wide go to $SCREENSHOT_DIR when it is set (else the test's tmp_path).
"""

import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

MAKE_ORDERS = """
import json, sys
from shop import create_app
from models.accounts.addresses import add_address
from models.base import connection
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.storefront.catalog import Product
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.cancelling import cancel_order
from models.orders.placing import cart_fingerprint
from models.orders.pay_link import pay_link_token
from models.orders.placing import place_order
from models.accounts.administration import create_user
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
email = sys.argv[3]
with app.test_request_context(), connection():
    user = create_user(email, sys.argv[4], role="customer", first_name="Pia", last_name="Payer")
    where = add_address(user, {"full_name": "Pia Payer", "company": "Payer & Daughters Ltd",
                               "line1": "7 Long Acre", "line2": "Flat 3", "city": "Manchester",
                               "postal_code": "M1 2AB", "country": "GB"})
    filters = Product.get(Product.slug == "paper-filters-100")
    def order(quantity, n, **options):
        add_to_cart(filters.id, quantity, user=user)
        seen = cart_fingerprint(cart_summary(find_cart(user)))
        return place_order(user, f"browser-order-pages-{email}-{n}", seen, where, where, **options)
    unpaid = order(2, 1, method=CARD)
    transfer("browser-order-pages-seed:" + email, "top_up",
             [Leg(account_for(user), 2000, "deposit"), Leg(system_account(PROVIDER_CLEARING), -2000, "deposit")])
    paid = order(1, 2)
    cancelled = order(3, 3, funds_wanted=200, method=BANK)
    cancel_order(cancelled, None, "Not paid within 72 hours")
    print(json.dumps({name: {"id": o.id, "number": o.number, "token": pay_link_token(o)}
                      for name, o in (("unpaid", unpaid), ("paid", paid), ("cancelled", cancelled))}))
"""

_numbers = itertools.count(1)


@pytest.fixture
def orders(live_server, live_database, tmp_path):
    email = f"orderpages{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", MAKE_ORDERS, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout.strip().splitlines()[-1])
    made["email"] = email
    return made


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def link(order):
    return f"/account/orders/link/{order['token']}"


def order_row(live_database, order_id):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT status, payment_method, card_amount, bank_amount FROM "order" WHERE id = ?', (order_id,)
        ).fetchone()


def check_page(page, shots, name):
    """No sideways scrolling, no axe violations, and a full-page screenshot."""
    assert_no_horizontal_scroll(page)
    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    page.screenshot(path=str(shots / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


def test_pay_link_signed_out_on_a_phone_switch_to_bank_then_the_invoice(
    mobile_page, orders, live_database, shots
):
    page = mobile_page
    unpaid = orders["unpaid"]
    page.goto(link(unpaid))
    expect(page.get_by_role("heading", level=1, name=f"Pay order {unpaid['number']}")).to_be_visible()
    expect(page.get_by_role("button", name="Pay €9.00 by card")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()  # nobody is signed in
    expect(page.get_by_text("Pia Payer")).to_have_count(0)  # no account details on the way
    check_page(page, shots, "pay-card")

    page.get_by_role("button", name="Pay by bank transfer instead").click()
    expect(page.get_by_text("You're paying by bank transfer")).to_be_visible()
    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_be_visible()
    details = page.locator(".bank-details")
    expect(details).to_contain_text("€9.00")
    expect(details).to_contain_text(unpaid["number"])
    expect(page.get_by_role("button", name="Pay €9.00 by card")).to_be_visible()  # and back again
    assert order_row(live_database, unpaid["id"]) == ("pending_payment", "bank", 0, 900)
    check_page(page, shots, "pay-bank")

    # The invoice is the account's: signing in, it is there (a pro forma one: not paid yet).
    sign_in(page, orders["email"])
    page.goto(f"/account/orders/{unpaid['id']}")
    check_page(page, shots, "order")
    page.get_by_role("button", name="Pro forma invoice").click()
    expect(page.get_by_role("heading", level=1, name="Pro forma invoice")).to_be_visible()
    invoice = page.locator(".invoice")
    for text in (
        "Pia Payer",
        "7 Long Acre",
        "Paper filters, pack of 100",
        "Amount due by bank transfer",
        "€9.00",
    ):
        expect(invoice).to_contain_text(text)
    check_page(page, shots, "invoice-pro-forma")


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_paid_and_cancelled_pages_and_the_printable_invoice(request, viewport, orders, shots):
    page = request.getfixturevalue(viewport)
    unpaid, paid, cancelled = orders["unpaid"], orders["paid"], orders["cancelled"]

    page.goto(link(unpaid))
    expect(page.get_by_role("heading", level=1, name=f"Pay order {unpaid['number']}")).to_be_visible()
    check_page(page, shots, "pay-card")

    page.goto(link(paid))
    expect(page.get_by_role("heading", level=1, name=f"Order {paid['number']} is paid")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in to see the order")).to_be_visible()
    expect(page.get_by_role("button", name="Order again")).to_be_visible()
    check_page(page, shots, "already-paid")

    page.goto(link(cancelled))
    expect(
        page.get_by_role("heading", level=1, name=f"Order {cancelled['number']} was cancelled")
    ).to_be_visible()
    expect(page.get_by_text("Why: Not paid within 72 hours.")).to_be_visible()
    expect(page.get_by_text("The €2.00 it held from your account was released")).to_be_visible()
    check_page(page, shots, "cancelled")
    page.get_by_role("button", name="Order again").click()
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    expect(
        page.get_by_text(f"Added to your cart from order {cancelled['number']}: 3 × Paper filters")
    ).to_be_visible()

    sign_in(page, orders["email"])
    page.goto(f"/account/orders/{cancelled['id']}")
    expect(page.get_by_role("heading", name="This order is cancelled")).to_be_visible()
    check_page(page, shots, "order-cancelled")
    page.goto(f"/account/orders/{paid['id']}")
    expect(page.get_by_role("heading", name="Paid: we are preparing your order")).to_be_visible()
    check_page(page, shots, "order-paid")
    page.get_by_role("button", name="Invoice", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Invoice")).to_be_visible()
    # Paid from now on: its own number from the year's sequence, not the order number.
    expect(page.locator(".invoice")).to_contain_text(re.compile(r"Invoice number\s*\d{4}-\d{6}"))
    expect(page.locator(".invoice")).to_contain_text(paid["number"])
    check_page(page, shots, "invoice")
    if page.viewport_size == MOBILE:
        return
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.locator(".invoice-back")).to_be_hidden()
    expect(page.locator(".invoice")).to_be_visible()
    page.screenshot(path=str(shots / "invoice-print.png"), full_page=True)
    page.emulate_media(media="screen")


# Paying later from account funds ------------------------------------------------------------

TOP_UP = """
import sys
from shop import create_app
from models.base import connection
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg, PROVIDER_CLEARING, system_account, transfer
from models.users.user import User
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    user = User.by_email(sys.argv[3])
    transfer("browser-pay-from-account:" + sys.argv[3], "top_up",
             [Leg(account_for(user), int(sys.argv[4]), "deposit"),
              Leg(system_account(PROVIDER_CLEARING), -int(sys.argv[4]), "deposit")])
"""


def top_up(database, tmp_path, email, amount):
    done = subprocess.run(
        [sys.executable, "-c", TOP_UP, str(database), str(tmp_path), email, str(amount)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_part_from_funds_on_a_phone_then_the_rest_by_card(
    browser, live_server, live_database, tmp_path, orders, shots
):
    top_up(live_database, tmp_path, orders["email"], 100)
    phone_context, phone = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    desktop_context, desktop = new_page(browser, live_server, DESKTOP)
    try:
        sign_in(phone, orders["email"])
        phone.goto(f"/account/orders/{orders['unpaid']['id']}/pay")
        section = phone.locator(".pay-method--account")
        expect(section.get_by_role("heading", name="Pay from your account")).to_be_visible()

        funds = section.get_by_label("Account funds to use")
        funds.fill("0.50")
        funds.dispatch_event("change")  # htmx asks for the breakdown again
        expect(section.get_by_role("button", name="Pay €0.50 from your account")).to_be_visible()
        assert_no_horizontal_scroll(phone)
        phone.screenshot(path=str(shots / "pay-from-account-390.png"), full_page=True)

        with phone.expect_navigation():
            section.get_by_role("button", name="Pay €0.50 from your account").click()
        expect(phone.locator("#messages")).to_contain_text("Paid from your account")
        expect(phone.get_by_role("button", name="by card")).to_be_visible()

        sign_in(desktop, orders["email"])
        desktop.goto(f"/account/orders/{orders['unpaid']['id']}/pay")
        desktop.screenshot(path=str(shots / "pay-from-account-1280.png"), full_page=True)
    finally:
        phone_context.close()
        desktop_context.close()
