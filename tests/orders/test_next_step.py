"""The order page and the thank-you page say what happens next, in every state of the order, with
the links the customer needs then (models/orders/progress.py, templates/orders/_next_step.html)."""

import datetime
import re
from html import unescape

import pytest
import time_machine

from models.orders.cancelling import cancel_order
from models.orders.card_payments import start_card_payment
from models.orders.fulfilment import dispatch
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.progress import CONFIRMING
from models.orders.progress import next_step
from models.orders.progress import PAY
from models.orders.progress import PREPARING
from models.orders.progress import TRANSFER
from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import update_reminder_settings
from payments import sandbox
from payments.sandbox import SandboxPayment
from tests.conftest import sign_in
from tests.factories import paid_order
from tests.factories import placed_order

# A Wednesday at 09:00 in London: the default dispatch times are 11:00 and 17:00 on weekdays.
WEDNESDAY_MORNING = datetime.datetime(2026, 12, 9, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def buyer(make_customer):
    return make_customer(first_name="Ann")


@pytest.fixture
def tea(make_product):
    return make_product(price=3000, stock=9, name="Green tea")


def panel(client, order, placed=False):
    html = client.get(f"/account/orders/{order.id}" + ("?placed=1" if placed else "")).get_data(as_text=True)
    section = re.search(r'<section class="next-step.*?</section>', html, re.S).group(0)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", section)).split()), section


def test_a_paid_order_is_being_prepared_for_the_next_dispatch(app, client, buyer, tea):
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        with app.test_request_context():
            order = paid_order(buyer, (tea, 1), funds=3000)
        sign_in(client, buyer)
        text, section = panel(client, order, placed=True)
    assert f"Thank you! Your order {order.number} is placed." in text
    assert "Paid: we are preparing your order" in text
    assert "usually leave with our next dispatch, today at 11:00" in text
    assert 'href="/"' in section and "Continue shopping" in text
    assert "hello@demo.shop" in text  # whom to ask


def test_no_dispatch_time_is_promised_when_the_shop_does_not_work_by_dispatch_times(app, client, buyer, tea):
    with app.test_request_context():
        update_reminder_settings({"mode": AFTER_ORDER})
        order = paid_order(buyer, (tea, 1), funds=3000)
    sign_in(client, buyer)
    text, _ = panel(client, order)
    assert "We email you when it leaves." in text and "dispatch" not in text


def test_an_unpaid_card_order_asks_for_the_payment_with_its_deadline(app, client, buyer, tea):
    with app.test_request_context():
        order = placed_order(buyer, (tea, 1), method=CARD)
    assert next_step(order) == PAY
    sign_in(client, buyer)
    text, section = panel(client, order, placed=True)
    assert "Waiting for your payment" in text and "Please pay €30.00 by" in text
    assert f'href="/account/orders/{order.id}/pay"' in section and "Pay now" in text


def test_a_card_payment_under_way_reads_being_confirmed(app, buyer, tea):
    with app.test_request_context():
        order = placed_order(buyer, (tea, 1), method=CARD)
        payment = start_card_payment(order, "next-step-card-0001")
    assert next_step(order, payment) == CONFIRMING


def test_a_bank_transfer_order_says_what_to_transfer_and_offers_other_ways(app, client, buyer, tea):
    with app.test_request_context():
        order = placed_order(buyer, (tea, 1), method=BANK)
    assert next_step(order) == TRANSFER
    sign_in(client, buyer)
    text, section = panel(client, order)
    assert "Waiting for your bank transfer" in text
    assert f"Please transfer €30.00 with the reference {order.number}" in text
    assert "Other ways to pay" in text


def test_dispatched_and_cancelled_orders(app, client, buyer, owner, tea, make_product):
    with app.test_request_context():
        sent = paid_order(
            buyer, (tea, 1), funds=3000, key="next-step-sent-0001", pay_key="next-step-pay-0001"
        )
        dispatch([sent], owner)
        dropped = placed_order(
            buyer, (make_product(price=800, stock=2), 1), key="next-step-dropped-01", funds=500
        )
    assert next_step(sent) == PREPARING  # the row read before dispatch
    with app.app_context():
        assert cancel_order(dropped, None, "")
    sign_in(client, buyer)
    assert "On its way" in panel(client, sent)[0] and "We sent your order on" in panel(client, sent)[0]
    text, _ = panel(client, dropped)
    assert "This order is cancelled" in text and "€5.00 it held from your account is back" in text


def test_coming_back_from_a_card_payment_says_what_happens_next(app, client, buyer, tea):
    with app.test_request_context():
        order = placed_order(buyer, (tea, 1), method=CARD)
        payment = start_card_payment(order, "next-step-card-0002")
    sign_in(client, buyer)
    sandbox_page = client.get(f"/account/orders/{order.id}/pay")  # the customer's own order
    assert sandbox_page.status_code == 200
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
    html = client.get(f"/account/orders/{order.id}/payments/{payment.id}").get_data(as_text=True)
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    assert "is paid" in text and "Paid: we are preparing your order" in text


@pytest.mark.parametrize(
    ("paid_at", "said"),
    [
        (datetime.datetime(2026, 12, 9, 12, 0, tzinfo=datetime.UTC), "today at 17:00"),
        (datetime.datetime(2026, 12, 9, 18, 0, tzinfo=datetime.UTC), "tomorrow at 11:00"),
        (datetime.datetime(2026, 12, 11, 18, 0, tzinfo=datetime.UTC), "Monday 14 December at 11:00"),
    ],
)
def test_the_next_dispatch_reads_as_people_say_it(app, client, buyer, tea, paid_at, said):
    with time_machine.travel(paid_at, tick=False):
        with app.test_request_context():
            order = paid_order(buyer, (tea, 1), funds=3000)
        sign_in(client, buyer)
        assert f"usually leave with our next dispatch, {said}." in panel(client, order)[0]
