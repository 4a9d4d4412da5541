"""Checkout in a real browser with every payment mix, at desktop and phone widths, and the
double click and second tab that must still give one order.

Each test makes its own customer in a separate process against the live
server's database: an address, some funds, and for the credit mixes a group
that lets its members pay on account and a personal credit limit.
"""

import itertools
import re
import sqlite3
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accept_terms
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import order_button
from tests.browser.conftest import place_order
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in
from tests.browser.test_checkout import order_status
from tests.browser.test_checkout import to_checkout

pytestmark = pytest.mark.browser

MAKE_CUSTOMER = """
import sys
from shop import create_app
from models.accounts.addresses import add_address
from models.base import connection
from models.groups.group import CustomerGroup
from models.groups.applications import move_to_group
from models.funds.credit import refresh_credit_limit
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.accounts.administration import create_user
from models.users.user import User
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
email, password, funds, credit = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
with app.app_context(), connection():
    user = create_user(email, password, role="customer", first_name="Mia", last_name="Mix")
    add_address(user, {"full_name": "Mia Mix", "line1": "3 Mill Lane", "city": "Leeds",
                       "postal_code": "LS1 1AA", "country": "GB"})
    if funds:
        transfer("browser-mix-seed:" + email, "top_up",
                 [Leg(account_for(user), funds, "deposit"), Leg(system_account(PROVIDER_CLEARING), -funds, "deposit")])
    if credit:
        group = CustomerGroup.get_or_none(CustomerGroup.name == "Trade (browser tests)") or CustomerGroup.create(
            name="Trade (browser tests)", pay_on_account=True)
        move_to_group(user, group)
        User.update(personal_credit_limit=credit).where(User.id == user.id).execute()
        refresh_credit_limit(User.get_by_id(user.id))
"""

_numbers = itertools.count(1)


def make_customer(live_database, tmp_path, funds=0, credit=0):
    email = f"mix{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", MAKE_CUSTOMER, str(live_database), str(tmp_path), email, DEMO_PASSWORD]
        + [str(funds), str(credit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return email


def orders_of(live_database, email):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT count(*) FROM "order" JOIN "user" ON "user".id = "order".user_id WHERE email = ?',
            (email,),
        ).fetchone()[0]


def place(page):
    place_order(page)


def approve_card(page):
    expect(page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("is paid"))).to_be_visible()


# (name, funds, credit limit, tick "on account", sentence, ends on, (status, funds, card, bank))
MIXES = [
    ("funds", 500, 0, False, "€4.50 funds.", "paid", ("paid", 450, 0, 0)),
    ("funds-credit", 200, 1000, True, "€2.00 funds, €2.50 on account.", "paid", ("paid", 200, 0, 0)),
    (
        "funds-credit-card",
        200,
        100,
        True,
        "€2.00 funds, €1.00 on account, €1.50 card.",
        "card",
        ("paid", 200, 150, 0),
    ),
    ("card", 0, 0, False, "€4.50 card.", "card", ("paid", 0, 450, 0)),
    ("funds-card", 200, 0, False, "€2.00 funds, €2.50 card.", "card", ("paid", 200, 250, 0)),
    ("bank", 0, 0, False, "€4.50 bank transfer.", "bank", ("pending_payment", 0, 0, 450)),
]


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
@pytest.mark.parametrize(("mix", "funds", "credit", "on_account", "sentence", "ends", "stored"), MIXES)
def test_every_payment_mix(
    request, viewport, live_database, tmp_path, mix, funds, credit, on_account, sentence, ends, stored
):
    page = request.getfixturevalue(viewport)
    email = make_customer(live_database, tmp_path, funds, credit)
    sign_in(page, email)
    to_checkout(page)
    if on_account:
        page.get_by_label("Pay the rest on account (store credit)").check()
    if ends == "bank":
        page.get_by_label("Bank transfer").check()
    expect(page.locator(".checkout__sentence")).to_have_text(sentence)
    assert_no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / f"checkout-{mix}-{viewport}.png"), full_page=True)
    place(page)
    if ends == "card":
        approve_card(page)
    else:
        expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    if ends == "bank":
        expect(page.locator(".bank-details")).to_contain_text("€4.50")
    assert_no_horizontal_scroll(page)
    assert order_status(live_database, email) == stored


def test_a_double_click_on_place_order_gives_one_order(page, live_database, tmp_path):
    email = make_customer(live_database, tmp_path, funds=500)
    sign_in(page, email)
    to_checkout(page)
    accept_terms(page)
    order_button(page).dblclick()
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    assert orders_of(live_database, email) == 1
    assert order_status(live_database, email) == ("paid", 450, 0, 0)


def test_two_tabs_placing_the_same_checkout_give_one_order(page, live_database, tmp_path):
    email = make_customer(live_database, tmp_path, funds=500)
    sign_in(page, email)
    to_checkout(page)
    second = page.context.new_page()
    second.goto("/checkout")
    expect(second.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    accept_terms(second)  # both tabs ready to order
    place(page)
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    order_button(second).click()
    # The second tab's form is a different checkout of a cart that is now empty: refused, clearly.
    expect(second.get_by_text(re.compile("cart is empty|cart changed", re.IGNORECASE)).first).to_be_visible()
    assert orders_of(live_database, email) == 1


def test_the_same_tab_submitted_twice_returns_the_first_order(page, live_database, tmp_path):
    """Back after placing, then order again: the same form key finds the same order."""
    email = make_customer(live_database, tmp_path, funds=500)
    sign_in(page, email)
    to_checkout(page)
    place(page)
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    page.go_back()
    if order_button(page).count():
        place(page)
        expect(
            page.get_by_role("heading", level=1, name=re.compile("^Order |Checkout|Your cart"))
        ).to_be_visible()
    assert orders_of(live_database, email) == 1
