"""The withdrawal function in a real browser (issue 24): from the link in the receipt on a phone
with JavaScript, from the footer without JavaScript (order number and email, signed out), from the
order page in My Account, and the owner's refund in Approvals.

Each test makes its own customer with one paid order of two products in a separate process against
the live server's database. Screenshots at 390 and 1280 px go to $SCREENSHOT_DIR when it is set.
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
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in
from tests.browser.test_refunds import html_errors

pytestmark = pytest.mark.browser

MAKE_ORDER = """
import json, sys
from shop import create_app
from models.accounts.addresses import add_address
from models.accounts.administration import create_user
from models.base import connection
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg, PROVIDER_CLEARING, system_account, transfer
from models.orders.placing import cart_fingerprint, place_order
from models.storefront.cart import add_to_cart, cart_summary, find_cart
from models.storefront.catalog import Product
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
email = sys.argv[3]
with app.test_request_context(), connection():
    user = create_user(email, sys.argv[4], role="customer", first_name="Camille", last_name="Martin")
    where = add_address(user, {"full_name": "Camille Martin", "line1": "3 Rue des Lilas",
                               "city": "Lyon", "postal_code": "69001", "country": "FR"})
    transfer("browser-withdrawal-seed:" + email, "top_up",
             [Leg(account_for(user), 10000, "deposit"), Leg(system_account(PROVIDER_CLEARING), -10000, "deposit")])
    for slug, quantity in (("paper-filters-100", 2), ("house-blend-250g", 1)):
        add_to_cart(Product.get(Product.slug == slug).id, quantity, user=user)
    seen = cart_fingerprint(cart_summary(find_cart(user)))
    order = place_order(user, "browser-withdrawal-" + email, seen, where, where)
    print(json.dumps({"id": order.id, "number": order.number, "status": order.status}))
"""

_numbers = itertools.count(1)


@pytest.fixture
def order(live_server, live_database, tmp_path):
    email = f"withdrawal{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", MAKE_ORDER, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout.strip().splitlines()[-1])
    assert made["status"] == "paid"
    made["email"] = email
    return made


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def query(live_database, sql, *args):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(sql, args).fetchall()


def emailed_link(live_database, order):
    """The withdrawal link in the order's receipt, as a path."""
    (text,) = query(
        live_database,
        "SELECT text_body FROM outbox_message WHERE kind = 'order_paid' AND to_address = ?",
        order["email"],
    )[0]
    return re.search(r"https?://[^/\s]+(/withdraw/\S+)", text).group(1)


def withdrawn(live_database, order):
    return query(
        live_database,
        "SELECT l.name, wl.quantity, w.destination FROM withdrawal w "
        "JOIN withdrawal_line wl ON wl.withdrawal_id = w.id JOIN order_line l ON l.id = wl.order_line_id "
        "WHERE w.order_id = ? ORDER BY l.id",
        order["id"],
    )


def check_page(page, shots, name):
    """No sideways scrolling, a full-page screenshot, and the page kept for the HTML checker."""
    assert_no_horizontal_scroll(page)
    stem = f"withdrawal-{name}-{page.viewport_size['width']}"
    page.screenshot(path=str(shots / f"{stem}.png"), full_page=True)
    (shots / f"{stem}.html").write_text(page.content())


def assert_valid_html(shots):
    """The Nu HTML Checker over every page the test kept (as the crawl runs it)."""
    assert html_errors(sorted(shots.glob("withdrawal-*.html"))) == []


def axe(page):
    page.evaluate(AXE_SCRIPT)
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]


def test_from_the_emailed_link_on_a_phone(browser, live_server, live_database, order, shots):
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    page.goto(emailed_link(live_database, order))  # signed out
    expect(
        page.get_by_role("heading", level=1, name=f"Withdraw from order {order['number']}")
    ).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Camille Martin")
    expect(page.get_by_label("Email address")).to_have_value(order["email"])
    filters = page.get_by_role("checkbox", name=re.compile("Paper filters"))
    expect(filters).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile("House blend"))).to_be_checked()
    axe(page)
    check_page(page, shots, "statement")

    page.get_by_role("checkbox", name=re.compile("House blend")).uncheck()
    page.get_by_label("Quantity (of 2)").fill("1")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Confirm your withdrawal")).to_be_visible()
    expect(page.locator(".withdrawal-summary")).to_contain_text("1 × Paper filters")
    assert withdrawn(live_database, order) == []  # nothing saved before confirming
    axe(page)
    check_page(page, shots, "summary")

    page.get_by_role("button", name="Confirm withdrawal").click()
    expect(page.get_by_role("heading", name="Withdrawal received")).to_be_visible()
    axe(page)
    check_page(page, shots, "done")
    assert [(qty, dest) for _, qty, dest in withdrawn(live_database, order)] == [(1, "original")]
    acknowledgements = query(
        live_database,
        "SELECT COUNT(*) FROM outbox_message WHERE kind = 'order_withdrawal' AND to_address = ?",
        order["email"],
    )
    assert acknowledgements == [(1,)]
    context.close()


def test_from_the_footer_without_javascript(browser, live_server, live_database, order, shots):
    for viewport in (MOBILE, DESKTOP):
        context, page = new_page(browser, live_server, viewport, java_script_enabled=False)
        page.goto("/")
        page.get_by_role("link", name="Withdraw from contract here").click()
        expect(page.get_by_role("heading", level=1, name="Withdraw from contract")).to_be_visible()
        page.get_by_label("Order number").fill(order["number"])
        page.get_by_label("Email address you ordered with").fill("someone.else@example.com")
        page.get_by_role("button", name="Continue").click()
        expect(
            page.get_by_text("We can't find an order with this number and email address").first
        ).to_be_visible()
        expect(page.get_by_label("Order number")).to_have_value(order["number"])
        check_page(page, shots, "find-error")
        context.close()

    context, page = new_page(browser, live_server, MOBILE, java_script_enabled=False)
    page.goto("/withdraw")
    page.get_by_label("Order number").fill(order["number"])
    page.get_by_label("Email address you ordered with").fill(order["email"])
    page.get_by_role("button", name="Continue").click()
    expect(
        page.get_by_role("heading", level=1, name=f"Withdraw from order {order['number']}")
    ).to_be_visible()
    page.get_by_label("My account funds").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm withdrawal").click()
    expect(page.get_by_role("heading", name="Withdrawal received")).to_be_visible()
    assert [(qty, dest) for _, qty, dest in withdrawn(live_database, order)] == [(2, "funds"), (1, "funds")]
    context.close()


def test_from_my_account_and_refunded_by_the_owner(browser, live_server, live_database, order, shots):
    for viewport in (MOBILE, DESKTOP):
        context, page = new_page(browser, live_server, viewport)
        sign_in(page, order["email"])
        page.goto(f"/account/orders/{order['id']}")
        check_page(page, shots, "order-page")
        page.get_by_role("button", name="Withdraw from contract here").click()
        expect(
            page.get_by_role("heading", level=1, name=f"Withdraw from order {order['number']}")
        ).to_be_visible()
        if viewport is DESKTOP:
            check_page(page, shots, "statement")
            page.get_by_role("button", name="Continue").click()
            page.get_by_role("button", name="Confirm withdrawal").click()
            expect(page.get_by_role("heading", name="Withdrawal received")).to_be_visible()
            check_page(page, shots, "done")
        context.close()

    for viewport in (MOBILE, DESKTOP):
        context, owner = new_page(browser, live_server, viewport)
        sign_in(owner, OWNER_EMAIL)
        owner.goto("/admin/approvals")
        card = owner.locator(".approval", has_text=f"withdrew from order {order['number']}")
        expect(card).to_contain_text("Waiting for the goods")
        axe(owner)
        check_page(owner, shots, "approvals")
        if viewport is DESKTOP:
            card.get_by_role("button", name=re.compile("^Refund")).click()
            expect(owner.get_by_text(f"Withdrawal from order {order['number']} refunded")).to_be_visible()
            assert query(live_database, "SELECT state FROM withdrawal WHERE order_id = ?", order["id"]) == [
                ("refunded",)
            ]
        context.close()
