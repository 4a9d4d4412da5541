"""Delivery in a real browser at 390 px and desktop: the cart's estimate and its country, the
choice at checkout with htmx and without JavaScript, the order page, the owner's Delivery page.

The browser tests' demo shop has no delivery methods (its other flows' figures have none): each
test here adds the demo's methods to the live database and takes them away afterwards, and uses
its own customer (with a British address), as test_checkout.py does. Screenshots go to
$SCREENSHOT_DIR when it is set (else the test's tmp_path).
"""

import itertools
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import checkout_total
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import place_order
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

SETUP = """
import sys
from shop import create_app
from models.accounts.addresses import add_address
from models.base import connection
from models.accounts.administration import create_user
from models.operations.demo import load_demo_delivery
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    load_demo_delivery("GB")
    user = create_user(sys.argv[3], sys.argv[4], role="customer", first_name="Dee", last_name="Livery")
    add_address(user, {"full_name": "Dee Livery", "line1": "2 Mill Lane", "city": "Leeds",
                       "postal_code": "LS1 1AA", "country": "GB"}, make_default_shipping=True)
"""

_numbers = itertools.count(1)
PRODUCT = "Paper filters, pack of 100"  # 4.50


@pytest.fixture
def delivery_customer(live_server, live_database, tmp_path):
    email = f"delivery{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    yield email
    with sqlite3.connect(live_database) as connection:
        connection.execute("DELETE FROM delivery_method")


def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def the_order(live_database, email):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT delivery_name, delivery_price, delivery_pickup, total, shipping_line1 FROM "order" '
            'JOIN "user" ON "user".id = "order".user_id WHERE email = ? ORDER BY "order".id DESC',
            (email,),
        ).fetchone()


def to_cart(page):
    page.goto("/p/paper-filters-100")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(f"Added 1 × {PRODUCT} to your cart.")).to_be_visible()
    page.goto("/cart")


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_choose_delivery_with_htmx(request, viewport, delivery_customer, live_database, tmp_path):
    page = request.getfixturevalue(viewport)
    folder = shots(tmp_path)
    sign_in(page, delivery_customer)
    to_cart(page)
    summary = page.locator(".cart-summary")
    expect(summary).to_contain_text("Delivery to United Kingdom")
    expect(summary).to_contain_text("from €4.90")
    expect(summary).to_contain_text("Free delivery from €60.00.")
    page.screenshot(path=str(folder / f"delivery-cart-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    page.get_by_label("Deliver to").select_option("FR")
    expect(summary).to_contain_text("Delivery to France")
    expect(summary).to_contain_text("from €12.50")
    expect(summary).not_to_contain_text("Express")
    page.get_by_label("Deliver to").select_option("JP")
    expect(summary).to_contain_text(
        "We don't deliver to Japan yet. You can collect your order at the shop instead."
    )
    page.screenshot(path=str(folder / f"delivery-cart-japan-{viewport}.png"), full_page=True)

    page.get_by_role("button", name="Checkout").click()
    expect(page.get_by_role("heading", level=1, name="Checkout")).to_be_visible()
    expect(page.get_by_role("radio", name=re.compile("^Standard"))).to_be_checked()
    expect(checkout_total(page)).to_have_text("€9.40")
    expect(page.get_by_text("Europe")).to_have_count(0)  # not to the United Kingdom
    page.evaluate("window.stillTheSameDocument = true")
    page.get_by_role("radio", name=re.compile("^Express")).check()
    expect(checkout_total(page)).to_have_text("€14.40")
    assert page.evaluate("window.stillTheSameDocument === true")
    page.get_by_label("Bank transfer").check()
    page.screenshot(path=str(folder / f"delivery-checkout-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    place_order(page)
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    expect(page.locator(".checkout__lines")).to_contain_text("Delivery: Express")
    expect(page.locator(".order-addresses")).to_contain_text("Next working day")
    page.screenshot(path=str(folder / f"delivery-order-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    assert the_order(live_database, delivery_customer) == ("Express", 990, 0, 1440, "2 Mill Lane")


def test_pickup_without_javascript(no_js_page, delivery_customer, live_database, tmp_path):
    page = no_js_page
    sign_in(page, delivery_customer)
    to_cart(page)
    page.get_by_label("Deliver to").select_option("DE")
    page.get_by_role("button", name="Update the delivery country").click()
    expect(page.locator(".cart-summary")).to_contain_text("Delivery to Germany")
    page.get_by_role("button", name="Checkout").click()
    page.get_by_role("radio", name=re.compile("^Pickup at the shop")).check()
    page.get_by_label("Bank transfer").check()
    page.get_by_role("button", name="Recalculate").click()
    expect(checkout_total(page)).to_have_text("€4.50")
    expect(page.get_by_text("Not needed: you collect your order.")).to_be_visible()
    place_order(page)
    expect(page.get_by_text("Thank you! Your order")).to_be_visible()
    expect(page.locator(".order-addresses")).to_contain_text("12 Market Street")
    page.screenshot(path=str(shots(tmp_path) / "delivery-order-pickup-nojs.png"), full_page=True)
    assert the_order(live_database, delivery_customer) == ("Pickup at the shop", 0, 1, 450, "")


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_owners_delivery_page(request, viewport, delivery_customer, tmp_path):
    page = request.getfixturevalue(viewport)
    folder = shots(tmp_path)
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/delivery/")
    expect(page.get_by_role("heading", level=1, name="Delivery")).to_be_visible()
    expect(page.locator(".delivery-admin")).to_contain_text("Belgium, France, Germany")
    page.screenshot(path=str(folder / f"delivery-admin-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="New delivery method").click()
    page.get_by_label("Name").fill("Courier")
    page.get_by_label("Price").fill("abc")
    page.get_by_label("Only the countries chosen below").check()
    page.get_by_role("button", name="Add delivery method").click()
    expect(page.get_by_role("alert").first).to_contain_text("There is a problem")
    expect(page.get_by_label("Name")).to_have_value("Courier")
    page.screenshot(path=str(folder / f"delivery-admin-form-{viewport}.png"), full_page=True)
    assert_no_horizontal_scroll(page)
