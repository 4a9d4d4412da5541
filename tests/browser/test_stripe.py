"""Card payments through Stripe in a real browser: the shop's card page with the fake Stripe.js
(localstripe, its own process), on a phone and a desktop, with and without JavaScript.

The fake Stripe.js mounts a card element but its `confirmCardPayment` only answers the bank's
3-D Secure challenge (it ignores a typed card), so these tests attach the card at Stripe the way
Stripe.js does and then let the page and the payer do the rest: the bank's challenge, coming
back to the shop, and what the shop then says.
"""

import itertools
import re
import sqlite3
import subprocess
import sys

import pytest
import stripe
from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import CUSTOMER_EMAIL
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import place_order
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in
from tests.browser.test_checkout import MAKE_CUSTOMER
from tests.browser.test_checkout import order_status
from tests.browser.test_checkout import to_checkout

pytestmark = pytest.mark.browser

THREE_D_SECURE = "4000002760003184"
DECLINED = "4000000000000341"
_numbers = itertools.count(1)


@pytest.fixture(params=["desktop", "phone"])
def stripe_page(request, browser, stripe_live_server):
    phone = request.param == "phone"
    options = {"is_mobile": True, "has_touch": True} if phone else {}
    context, page = new_page(browser, stripe_live_server, MOBILE if phone else DESKTOP, **options)
    yield page
    context.close()


@pytest.fixture
def stripe_no_js_page(browser, stripe_live_server):
    context, page = new_page(browser, stripe_live_server, DESKTOP, java_script_enabled=False)
    yield page
    context.close()


@pytest.fixture
def fake(stripe_server):
    return stripe.StripeClient(
        "sk_test_payer", base_addresses={"api": stripe_server}, max_network_retries=0
    ).v1


def latest_intent(path):
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT provider_payment_id FROM top_up ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]


def balance(path, email=CUSTOMER_EMAIL):
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            'SELECT balance FROM ledger_account JOIN "user" ON "user".id = ledger_account.user_id WHERE email = ?',
            (email,),
        ).fetchone()
    return row[0] if row else 0


def start_top_up(page, amount="12.00"):
    page.goto("/account/funds")
    page.get_by_label("Other amount").fill(amount)
    page.get_by_role("button", name="Top up this amount").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Pay .* by card"))).to_be_visible()


def attach_card(fake, intent_id, number):
    """What Stripe.js does with the card typed into its element."""
    card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    method = fake.payment_methods.create(params={"type": "card", "card": card})
    fake.payment_intents.update(intent_id, params={"payment_method": method.id})
    return fake.payment_intents.confirm(intent_id)


def test_the_card_page_shows_stripes_element_fits_and_says_test_mode(stripe_page):
    sign_in(stripe_page, CUSTOMER_EMAIL)
    start_top_up(stripe_page)
    expect(stripe_page.get_by_text("Test mode: payments here are not real")).to_be_visible()
    expect(stripe_page.locator("#card-element input").first).to_be_visible()  # mounted by Stripe.js
    expect(stripe_page.get_by_role("button", name="Pay €12.00")).to_be_visible()
    expect(stripe_page.get_by_text("Paying by card needs JavaScript")).to_be_hidden()
    assert_no_horizontal_scroll(stripe_page)
    stripe_page.evaluate(AXE_SCRIPT)
    violations = stripe_page.evaluate("() => axe.run(document.querySelector('main')).then(r => r.violations)")
    # The fake element's own unlabelled inputs are Stripe's iframe in real life: only ours count.
    ours = [v for v in violations if not all("#card-element" in " ".join(n["target"]) for n in v["nodes"])]
    assert ours == [], ours


@pytest.mark.parametrize("bank_says", ["yes", "no"])
def test_the_banks_3d_secure_challenge_on_the_card_page(stripe_page, stripe_live_database, fake, bank_says):
    sign_in(stripe_page, CUSTOMER_EMAIL)
    path = stripe_live_database
    before = balance(path)
    start_top_up(stripe_page)
    pay_url = stripe_page.url
    assert attach_card(fake, latest_intent(path), THREE_D_SECURE).status == "requires_action"
    stripe_page.goto(pay_url)  # the page finds the payment waiting for the bank and asks
    if bank_says == "yes":
        stripe_page.get_by_role("button", name="Complete authentication").click()
        expect(stripe_page.get_by_role("heading", name=re.compile("added to your balance"))).to_be_visible()
        assert balance(path) == before + 1200
    else:
        stripe_page.get_by_role("button", name="Fail authentication").click()
        # The fake Stripe.js goes back to the shop (Stripe.js would show the bank's refusal on
        # the card page, where the payer can try another card); the shop says what happened.
        expect(stripe_page.get_by_role("heading", name="The payment didn't go through")).to_be_visible()
        assert balance(path) == before


def test_without_javascript_the_card_page_says_so_and_offers_the_way_back(stripe_no_js_page):
    sign_in(stripe_no_js_page, CUSTOMER_EMAIL)
    stripe_no_js_page.goto("/account/funds")
    stripe_no_js_page.get_by_label("Other amount").fill("12.00")
    stripe_no_js_page.get_by_role("button", name="Top up this amount").click()
    expect(stripe_no_js_page.get_by_text("Paying by card needs JavaScript")).to_be_visible()
    expect(stripe_no_js_page.get_by_role("button", name=re.compile("^Pay"))).to_be_hidden()
    stripe_no_js_page.get_by_role("link", name="Back without paying").click()
    expect(stripe_no_js_page.get_by_role("heading", name=re.compile("Top-up of €12.00"))).to_be_visible()


# An order's card part -----------------------------------------------------------------------


@pytest.fixture
def stripe_checkout_customer(stripe_live_database, tmp_path):
    """A customer of the Stripe shop with an address and 2.00 of funds (checkout's own setup)."""
    email = f"stripe-checkout{next(_numbers)}@example.com"
    done = subprocess.run(
        [sys.executable, "-c", MAKE_CUSTOMER, str(stripe_live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return email


def latest_order_intent(path):
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT provider_payment_id FROM order_payment ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]


@pytest.mark.parametrize("card", ["3-D Secure", "declined"])
def test_checkout_pays_the_card_part_on_stripe(
    stripe_page, stripe_checkout_customer, stripe_live_database, fake, card
):
    sign_in(stripe_page, stripe_checkout_customer)
    to_checkout(stripe_page)
    place_order(stripe_page)
    expect(stripe_page.get_by_role("heading", name="Pay €2.50 by card")).to_be_visible()
    pay_url, intent = stripe_page.url, latest_order_intent(stripe_live_database)
    if card == "3-D Secure":
        assert attach_card(fake, intent, THREE_D_SECURE).status == "requires_action"
        stripe_page.goto(pay_url)
        stripe_page.get_by_role("button", name="Complete authentication").click()
        expect(stripe_page.get_by_role("heading", name=re.compile("is paid"))).to_be_visible()
        assert order_status(stripe_live_database, stripe_checkout_customer) == ("paid", 200, 250, 0)
    else:
        with pytest.raises(stripe.CardError):
            attach_card(fake, intent, DECLINED)
        stripe_page.goto(pay_url)
        stripe_page.get_by_role("link", name="Back without paying").click()
        expect(stripe_page.get_by_role("heading", name="The payment didn't go through")).to_be_visible()
        assert order_status(stripe_live_database, stripe_checkout_customer)[0] == "pending_payment"
