"""The HTML part of every email, looked at in Chromium on a phone (issue 21).

Each kind is rendered by the same triggers as tests/shop/test_email_links.py, with words too long
for a phone (a customer's name, a product's name, an address), and opened with `set_content` at
320 and 390 px wide: nothing may scroll sideways, and each button is a tap target of at least
44 px. A few kinds, a payment reminder and the dark scheme are also photographed at 390 and 1280 px
into $SCREENSHOT_DIR when it is set (else the test's tmp_path), for a person to look at.
No live server: the messages come from the unit-test app, the page from the outbox row.
"""

import datetime
import os
import sys
from pathlib import Path

import pytest

from models.base import write_transaction
from models.reminders.messages import compose
from models.reminders.messages import reminder_links
from models.reminders.plan import NEW
from models.shop.mail import send_text
from models.shop.settings import update_settings
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.shop import test_email_links as emails

pytestmark = pytest.mark.browser

LONG_WORD = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen"
PHOTOGRAPHED = {
    "order_placed", "sign_in_code", "reset_password", "order_paid", "confirm_email", "new_orders_digest_owner",
    "credit_statement", "new_order_owner", "order_refunded", "order_withdrawal", "order_dispatched",
}  # fmt: skip


@pytest.fixture
def make_customer(make_user):
    return lambda **fields: make_user(
        "customer", **{"first_name": LONG_WORD, "last_name": "Lovelace", **fields}
    )


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def long_words(app, monkeypatch):
    """What people type, too long for a phone: in names, addresses, notes."""
    monkeypatch.setattr(sys.modules[emails.__name__], "TYPED", f"{LONG_WORD} {LONG_WORD}")
    with app.app_context():
        update_settings(
            {
                "shop_name": "The Long Established Tea and Coffee Merchants of Old Market Street",
                "contact_email": "customer-service-and-orders@the-long-established-tea-merchants.example",
                "bank_account_name": "The Long Established Tea Merchants Ltd",
                "bank_iban": "GB33BUKB20201555555555",
                "bank_bic": "BUKBGB22",
            }
        )


def looks(browser, part, width, shots=None, name="", dark=False):
    """Open `part` at `width` px: no sideways scrolling, buttons at least 44 px tall."""
    viewport = {"width": width, "height": MOBILE["height"]} if width < 600 else DESKTOP
    context = browser.new_context(
        viewport=viewport,
        is_mobile=width < 600,
        has_touch=width < 600,
        color_scheme="dark" if dark else "light",
    )
    try:
        page = context.new_page()
        page.set_content(part)
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name}: {scroll_width} px wide at {width} px"
        for height in page.evaluate(
            "() => [...document.querySelectorAll('table[class^=btn] a')].map(a => a.getBoundingClientRect().height)"
        ):
            assert height >= 44, f"{name}: a button {height} px tall"
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}-{width}{'-dark' if dark else ''}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("kind", sorted(emails.KINDS))
def test_every_email_fits_a_phone(browser, app, make_customer, owner, long_words, shots, kind):
    with app.app_context():
        to = emails.KINDS[kind](app, make_customer, owner)
    part = emails.latest_message(to, kind).html_body
    for width in (320, 390):
        looks(browser, part, width, shots if kind in PHOTOGRAPHED and width == 390 else None, kind)
    if kind in PHOTOGRAPHED:
        looks(browser, part, DESKTOP["width"], shots, kind)


def test_an_order_of_three_items_fits_a_phone_light_and_dark(
    browser, app, make_customer, owner, long_words, shots
):
    items = ((2, "Assam breakfast tea, loose leaf, 250 g", 900), (3, f"Tea towel {LONG_WORD}", 450))
    with app.app_context():
        customer, _ = emails.order_with_three_items(app, make_customer, items)
    part = emails.latest_message(customer.email, "order_placed").html_body
    looks(browser, part, 390, shots, "order_placed_three_items")
    looks(browser, part, 390, shots, "order_placed_three_items", dark=True)
    looks(browser, part, 320, None, "order_placed_three_items")
    looks(browser, part, DESKTOP["width"], shots, "order_placed_three_items")


def test_a_payment_reminder_fits_a_phone(browser, app, make_customer, owner, long_words, shots):
    with app.app_context():
        customer, order, _ = emails._order(app, make_customer, method="bank")
        with app.test_request_context(), write_transaction():
            subject, text = compose(order, NEW, datetime.datetime.now(datetime.UTC))
            send_text(customer.email, f"payment_reminder_{NEW}", subject, text, links=reminder_links(order))
        message = emails.latest_message(customer.email, f"payment_reminder_{NEW}")
    emails.assert_reads_well_on_a_phone("payment_reminder", message)
    assert "Stop payment reminders" in message.html_body and f"Pay order {order.number}" in message.html_body
    looks(browser, message.html_body, 390, shots, "payment_reminder")
    looks(browser, message.html_body, 320, None, "payment_reminder")
