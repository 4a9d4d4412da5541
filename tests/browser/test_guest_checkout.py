"""From cart to paid as a new visitor, in a real browser at 390 px and desktop, JavaScript on and
off: add a product, Checkout, "How would you like to continue?" with the cart in view, create an
account, confirm by code, back at checkout with the cart, choose the delivery (the demo's methods,
added for this test and taken away after it), pay by card in the sandbox; then My Account with its
Credit card. Screenshots of the choice page and My Account go to
$SCREENSHOT_DIR when it is set (else the test's tmp_path)."""

import os
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import checkout_total
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import place_order
from tests.browser.conftest import ROOT
from tests.browser.test_checkout import order_status
from tests.browser.test_checkout import PRODUCT
from tests.browser.test_registration import fill_details_step
from tests.browser.test_registration import latest_message

pytestmark = pytest.mark.browser

PASSWORD = "plum tree by the river"

# Puts the new customer in a group of their own that pays on account (closed to applications, so
# no other test's pages change), for My Account's Credit card.
GIVE_CREDIT = """
import sys
from shop import create_app
from models.base import connection
from models.groups.group import CustomerGroup, member_moved
from models.groups.management import create_group
from models.users.user import User
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    user = User.by_email(sys.argv[3])
    group = create_group({"name": "Trade " + sys.argv[3].split("@")[0][-4:], "pay_on_account": True, "own_limits": True,
                          "default_credit_limit": 20000}, None)
    User.update(group=group).where(User.id == user.id).execute()
    member_moved(user)
"""


ADD_DELIVERY = """
import sys
from shop import create_app
from models.base import connection
from models.operations.demo import load_demo_delivery
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    load_demo_delivery("GB")
"""


@pytest.fixture
def delivery_methods(live_server, live_database, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", ADD_DELIVERY, str(live_database), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    yield
    with sqlite3.connect(live_database) as connection:
        connection.execute("DELETE FROM delivery_method")


def the_delivery(live_database, email):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT delivery_name, delivery_price, total FROM "order" JOIN "user" ON "user".id = "order".user_id '
            'WHERE email = ? ORDER BY "order".id DESC',
            (email,),
        ).fetchone()


def shots_folder(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def give_credit(live_database, tmp_path, email):
    done = subprocess.run(
        [sys.executable, "-c", GIVE_CREDIT, str(live_database), str(tmp_path), email],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_new_visitor_goes_from_cart_to_paid(
    browser, live_server, live_database, delivery_methods, tmp_path, javascript, viewport
):
    size = DESKTOP if viewport == "desktop" else MOBILE
    phone = {"is_mobile": True, "has_touch": True} if viewport == "phone" else {}
    context, page = new_page(browser, live_server, size, java_script_enabled=javascript, **phone)
    shots = shots_folder(tmp_path)
    name = f"{viewport}-{'js' if javascript else 'nojs'}"
    email = f"guest-{uuid.uuid4().hex[:10]}@example.com"
    try:
        page.goto("/p/paper-filters-100")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text(f"Added 1 × {PRODUCT} to your cart.")).to_be_visible()
        page.goto("/cart")
        page.get_by_role("button", name="Checkout").click()

        # The choice, with the cart in view.
        expect(page.get_by_role("heading", level=1, name="How would you like to continue?")).to_be_visible()
        cart = page.get_by_role("region", name="Your cart is saved")
        expect(cart).to_contain_text(f"1 × {PRODUCT}")
        expect(cart).to_contain_text("€4.50")
        expect(page.get_by_role("button", name="Create an account")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in and check out")).to_be_visible()
        assert "Please sign in to see that page" not in page.locator("main").inner_text()
        assert_no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"guest-choice-{name}.png"), full_page=True)
        if javascript:
            create = page.get_by_role("button", name="Create an account").bounding_box()
            assert create["height"] >= 44
            if viewport == "phone":
                assert create["y"] + create["height"] < 844 * 1.2, "Create an account is far below the fold"

        # Create an account: the four steps.
        page.get_by_role("button", name="Create an account").click()
        page.wait_for_url("**/register/email")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Create a password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/register/details")
        fill_details_step(page)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/register/review")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/check-inbox")
        expect(page.get_by_text("we take you back to checkout, where your cart is waiting")).to_be_visible()
        assert_no_horizontal_scroll(page)

        # Confirm by code: back at checkout with the cart.
        code = re.search(r"^(\d{6})$", latest_message(live_database, email), re.M).group(1)
        page.get_by_label("6-digit code").fill(code)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url("**/checkout")
        expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
        expect(page.get_by_text("Your account is ready and your cart is waiting.")).to_be_visible()
        expect(page.locator("main")).to_contain_text(PRODUCT)
        assert_no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"guest-at-checkout-{name}.png"), full_page=True)

        # Delivery chosen: Express instead of the cheapest, Standard.
        expect(page.get_by_role("radio", name=re.compile("^Standard"))).to_be_checked()
        page.get_by_role("radio", name=re.compile("^Express")).check()
        if not javascript:
            page.get_by_role("button", name="Recalculate").click()
        expect(checkout_total(page)).to_have_text("€14.40")

        # Paid by card in the sandbox.
        place_order(page)
        expect(page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
        page.get_by_role("button", name="Approve", exact=True).click()
        expect(page.get_by_role("heading", name=re.compile("is paid"))).to_be_visible()
        status, funds_used, card_amount, _ = order_status(live_database, email)
        assert status == "paid" and card_amount + funds_used == 1440
        assert the_delivery(live_database, email) == ("Express", 990, 1440)

        # My Account, with the credit the shop gives this customer.
        give_credit(live_database, tmp_path, email)
        page.goto("/account/")
        credit = page.locator(".account-card", has=page.get_by_role("heading", name="Credit"))
        expect(credit).to_contain_text("Limit €200.00 · you owe nothing")
        expect(credit.get_by_role("link", name="Credit, statements and paying back")).to_be_visible()
        assert_no_horizontal_scroll(page)
        page.screenshot(path=str(shots / f"guest-my-account-{name}.png"), full_page=True)
    finally:
        context.close()


def test_the_cart_stays_with_the_visitor_until_confirmed(browser, live_server, live_database):
    """Until the email is confirmed the cart is the visitor's: the header still counts it."""
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    try:
        page.goto("/p/paper-filters-100")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.get_by_text(f"Added 1 × {PRODUCT} to your cart.")).to_be_visible()
        page.goto("/checkout")
        page.get_by_role("button", name="Create an account").click()
        page.wait_for_url("**/register/email")
        page.get_by_label("Email address").fill(f"guest-{uuid.uuid4().hex[:10]}@example.com")
        page.get_by_label("Create a password").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/register/details")
        fill_details_step(page)
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url("**/check-inbox")
        expect(page.locator("#cart-link")).to_contain_text("1")
    finally:
        context.close()
