"""The order's emails follow the payment's real state (issue 18): the customer's first email goes
once, when the outcome is known (receipt, bank details, "didn't go through") or 15 minutes after
placing (waiting for payment); every way of paying ends with "payment received"; no cancelling
while a card payment is being confirmed; the owner's new-order emails (each, daily, none)."""

import datetime
from html import unescape

import pytest

from jobs.tick import DUE_WORK
from jobs.tick import tick
from models.funds.customer_accounts import account_for
from models.orders.cancelling import cancel_order
from models.orders.card_payments import cancel_by_customer
from models.orders.card_payments import CardPaymentBlocksCancel
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import fail_card_payment
from models.orders.card_payments import refresh_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.card_payments import switch_to_bank
from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import CartChanged
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.owner_emails import NewOrderDigest
from models.orders.owner_emails import send_new_order_digest
from models.orders.pay_link import pay_link
from models.orders.waiting_email import send_waiting_emails
from models.shop.outbox import OutboxMessage
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.storefront.catalog import Product
from payments import PaymentError
from payments import sandbox
from payments.sandbox import SandboxPayment
from tests import factories
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import new_order
from tests.factories import place
from tests.factories import shop

ORDER_KINDS = ("order_placed", "order_paid", "order_card_failed", "order_awaiting_payment")


@pytest.fixture
def make_product(ctx, make_product):
    """Products made (and ordered) inside the test's request context, for the emails' links."""
    return make_product


@pytest.fixture
def tea(make_product):
    return make_product(price=3000, stock=5, name="Green tea")


def mails(kind=None, to=None):
    query = OutboxMessage.select().order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return list(query)


def customer_mails(buyer):
    return [m.kind for m in mails(to=buyer.email)]


def card_order(buyer, tea, funds=1000, key="order-key-0000000001"):
    """1 × 30.00: `funds` from the balance (held), the rest by card, the payment started."""
    if funds:
        fund(buyer, funds, key=f"seed-{key}")
    order = place(buyer, shop(buyer, (tea, 1)), key=key, method=CARD)
    return order, start_card_payment(order, f"pay-{key}")


def decide(payment, outcome):
    """The payer's choice at the sandbox provider, then the shop asks for the status (as the
    return page, a notification or reconciliation would)."""
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), outcome)
    return refresh_card_payment(payment)


def minutes_after(order, minutes):
    return order.created_at.replace(tzinfo=datetime.UTC) + datetime.timedelta(minutes=minutes)


def fresh(order):
    return Order.get_by_id(order.id)


# Placing --------------------------------------------------------------------------------------------


def test_a_card_order_sends_the_customer_nothing_when_placed(buyer, tea):
    order, _ = card_order(buyer, tea)
    assert fresh(order).status == PENDING_PAYMENT
    assert customer_mails(buyer) == []  # they are paying at the provider this minute
    assert fresh(order).placed_email_at is None


def test_a_bank_transfer_order_gets_the_bank_details_at_once(buyer, tea):
    update_settings({"bank_account_name": "Tea Shop Ltd", "bank_iban": "GB33BUKB20201555555555"})
    fund(buyer, 1200)
    order = place(buyer, shop(buyer, (tea, 1)), method=BANK)
    (mail,) = mails("order_placed", buyer.email)
    body = mail.text_body
    assert "€12.00 of it is held from your account. Please pay the other €18.00 by bank transfer:" in body
    assert f"Reference: {order.number}" in body and "Amount: €18.00" in body
    assert "Account holder: Tea Shop Ltd" in body and "IBAN or account number: GB33BUKB20201555555555" in body
    assert "We haven't published our bank details" not in body
    assert customer_mails(buyer) == ["order_placed"]
    assert pay_link(order) in body and f"http://shop.test/account/orders/{order.id}" in body


def test_no_bank_transfer_order_before_the_shop_publishes_its_bank_details(buyer, tea):
    update_settings({"bank_iban": ""})
    with pytest.raises(OrderError, match="doesn't take bank transfers"):
        place(buyer, shop(buyer, (tea, 1)), method=BANK)
    assert customer_mails(buyer) == [] and Order.select().count() == 0


def test_an_order_paid_with_funds_gets_a_receipt_with_items_totals_and_how_it_was_paid(buyer, make_product):
    change_default_group(funds_discount_bp=250)
    fund(buyer, 5000)
    tea = make_product(price=1060, stock=3, name="Green tea")
    order = place(buyer, shop(buyer, (tea, 2)))
    assert order.status == PAID
    assert customer_mails(buyer) == ["order_paid"]
    mail = mails("order_paid")[0]
    assert mail.subject.startswith(f"Order {order.number}: payment received")
    body = mail.text_body
    assert "we have received your payment for order" in body and "The order is paid" in body
    assert "2 × Green tea: €21.20" in body
    assert "Discount for paying with funds (2.5 %): -€0.53" in body
    assert "Total: €20.67" in body and "From your account funds: €20.67" in body
    assert "By card" not in body and "/account/orders/link/" not in body  # nothing to pay: no pay link


# The card payment's outcome ---------------------------------------------------------------------------


def test_a_completed_card_payment_sends_the_receipt_once(buyer, tea):
    order, payment = card_order(buyer, tea)
    decide(payment, "approve")
    complete_card_payment(payment)  # the notification too: acted on once
    assert fresh(order).status == PAID
    assert customer_mails(buyer) == ["order_paid"]
    body = mails("order_paid")[0].text_body
    assert "1 × Green tea: €30.00" in body and "Total: €30.00" in body
    assert "From your account funds: €10.00" in body and "By card: €20.00" in body
    assert send_waiting_emails(minutes_after(order, 30)) == 0  # no "waiting" after the receipt
    assert customer_mails(buyer) == ["order_paid"]


def test_a_failed_card_payment_keeps_the_order_and_says_what_to_do(app, client, buyer, tea):
    order, payment = card_order(buyer, tea)
    decide(payment, "decline")
    assert fresh(order).status == PENDING_PAYMENT and account_for(buyer).balance == 0  # kept, still held
    assert customer_mails(buyer) == ["order_card_failed"]
    mail = mails("order_card_failed")[0]
    assert mail.subject.startswith(f"Order {order.number}: your card payment didn't go through")
    body = mail.text_body
    assert "Your card payment of €20.00 for order" in body and "nothing was taken from your card" in body
    assert "We are keeping your order" in body and "pay by bank transfer" in body
    assert "the €10.00 held from your account is released" in body
    # the pay link opens the payment page, signed out, with both ways to pay
    link = pay_link(order)
    assert link in body
    page = client.get(link.removeprefix("http://shop.test"), follow_redirects=True).get_data(as_text=True)
    assert "Pay €20.00 by card" in page and "Pay by bank transfer instead" in page
    # a second attempt failing, the tick: no more "first" emails
    retry = start_card_payment(order, "pay-retry-00000000001")
    decide(retry, "decline")
    assert send_waiting_emails(minutes_after(order, 30)) == 0
    assert customer_mails(buyer) == ["order_card_failed"]
    # paying at last still ends with the receipt
    decide(start_card_payment(order, "pay-retry-00000000002"), "approve")
    assert customer_mails(buyer) == ["order_card_failed", "order_paid"]


def test_a_late_failure_notice_for_a_paid_order_sends_nothing(buyer, tea):
    order, payment = card_order(buyer, tea)
    decide(payment, "approve")
    fail_card_payment(payment)
    assert customer_mails(buyer) == ["order_paid"]


def test_a_card_payment_that_reinstates_a_cancelled_order_sends_no_second_receipt(buyer, tea):
    order, payment = card_order(buyer, tea)
    cancel_order(order, None, "Not paid within 72 hours", notify=False)
    complete_card_payment(payment)
    assert fresh(order).status == PAID
    assert customer_mails(buyer) == ["order_late_payment"]  # "reinstated and paid" says it


# No outcome after 15 minutes ------------------------------------------------------------------------


def test_no_outcome_after_15_minutes_sends_the_waiting_email_once(buyer, tea):
    order, _ = card_order(buyer, tea, funds=0)
    assert send_waiting_emails(minutes_after(order, 14)) == 0
    assert customer_mails(buyer) == []
    assert send_waiting_emails(minutes_after(order, 15)) == 1
    assert send_waiting_emails(minutes_after(order, 16)) == 0  # the tick again: nothing more
    (mail,) = mails("order_awaiting_payment", buyer.email)
    body = mail.text_body
    # the payment was sent to the provider and may still succeed: "being confirmed", not "unpaid"
    assert mail.subject.startswith(f"Order {order.number}: your card payment is being confirmed")
    assert "Your card payment of €30.00 isn't confirmed yet" in body
    assert "we will email you a receipt as soon as it arrives, and you won't be charged twice" in body
    # no bank transfer while the card payment may still succeed (the pay page refuses it meanwhile)
    assert "If the payment doesn't go through, you can pay there again, by card or by bank transfer" in body
    assert pay_link(order) in body
    assert "If the order is still unpaid then, it is cancelled." in body
    # it is confirmed later: the receipt follows
    decide(order.payments.get(), "approve")
    assert customer_mails(buyer) == ["order_awaiting_payment", "order_paid"]


def test_the_tick_sends_it_once_however_often_it_runs(app, buyer, tea):
    order, _ = card_order(buyer, tea)
    assert any(getattr(work, "__name__", "") == "email_orders_without_payment_outcome" for work in DUE_WORK)
    tick(minutes_after(order, 15))
    tick(minutes_after(order, 16))
    assert customer_mails(buyer) == ["order_awaiting_payment"]


def test_a_card_payment_never_started_at_the_provider_says_waiting_for_payment(buyer, tea, monkeypatch):
    def provider_down(*args, **kwargs):
        raise PaymentError("timeout")

    monkeypatch.setattr(sandbox.SandboxProvider, "create_payment", provider_down)
    fund(buyer, 1000)
    order = place(buyer, shop(buyer, (tea, 1)), method=CARD)
    with pytest.raises(PaymentError):
        start_card_payment(order, "pay-never-started-001")  # checkout: "your order is saved"
    assert send_waiting_emails(minutes_after(order, 15)) == 1
    mail = mails("order_awaiting_payment", buyer.email)[0]
    assert mail.subject.startswith(f"Order {order.number}: waiting for your payment")
    body = mail.text_body
    assert "It is waiting for payment of €20.00" in body and "choose bank transfer" in body
    assert "isn't confirmed" not in body
    assert "the €10.00 held from your account is released" in body


def test_an_outcome_the_provider_knows_is_acted_on_before_the_waiting_email(buyer, tea):
    """Paid at the provider, the notification lost: the tick asks first, so the email is the receipt."""
    order, payment = card_order(buyer, tea)
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
    sandbox.SandboxNotification.delete().execute()
    assert send_waiting_emails(minutes_after(order, 15)) == 0
    assert fresh(order).status == PAID
    assert customer_mails(buyer) == ["order_paid"]


def test_cancelled_and_bank_and_marketplace_orders_never_get_the_waiting_email(buyer, tea, make_customer):
    cancelled, _ = card_order(buyer, tea, key="order-key-0000000002")
    decide(cancelled.payments.get(), "decline")  # the first email: didn't go through
    cancel_order(cancelled, buyer, "Cancelled by you")
    bank = place(buyer, shop(buyer, (tea, 1)), key="order-key-0000000003", method=BANK)
    someone = make_customer()
    imported = new_order(
        someone, datetime.datetime(2026, 11, 1, 12, tzinfo=datetime.UTC), channel="marketplace-x"
    )
    Order.update(payment_method=CARD).where(
        Order.id == imported.id
    ).execute()  # unpaid, "card": still not ours
    assert send_waiting_emails(minutes_after(bank, 60)) == 0
    assert mails("order_awaiting_payment") == []
    assert mails(to=someone.email) == []


def test_switching_to_bank_transfer_before_any_email_sends_the_bank_details(buyer, tea):
    fund(buyer, 1000)
    order = place(buyer, shop(buyer, (tea, 1)), method=CARD)  # the provider didn't answer at checkout
    switch_to_bank(order, buyer)
    switch_to_bank(order, buyer)  # again: nothing new
    assert customer_mails(buyer) == ["order_placed"]
    assert "Please pay the other €20.00 by bank transfer" in mails("order_placed")[0].text_body
    assert send_waiting_emails(minutes_after(order, 30)) == 0


def test_a_bank_transfer_received_says_payment_received_once(buyer, owner, tea):
    order = place(buyer, shop(buyer, (tea, 1)), method=BANK)
    receive_bank_transfer(order, owner)
    assert customer_mails(buyer) == ["order_placed", "order_bank_received"]
    mail = mails("order_bank_received")[0]
    assert mail.subject.startswith(f"Order {order.number}: we received your payment")
    assert "Your order is paid" in mail.text_body


# No cancelling while a card payment is being confirmed ----------------------------------------------------


def test_the_customer_cannot_cancel_while_a_card_payment_is_being_confirmed(app, client, customer):
    """Through the pages (no request context stays pushed: each request has its own)."""
    with app.test_request_context():
        tea = factories.make_product(price=3000, stock=5)
        order, payment = card_order(customer, tea)
    sign_in(client, customer)
    page = unescape(client.get(f"/account/orders/{order.id}").get_data(as_text=True))
    assert "Cancel this order" not in page
    assert "Your card payment of €20.00 is being confirmed, so the order can't be cancelled now." in page
    response = post_form(client, f"/account/orders/{order.id}/cancel", page=f"/account/orders/{order.id}")
    assert response.status_code == 303 and response.location.endswith(f"/account/orders/{order.id}")
    shown = unescape(client.get(response.location).get_data(as_text=True))
    assert "for this order is being confirmed, so the order can't be cancelled now" in shown
    assert fresh(order).status == PENDING_PAYMENT and account_for(customer).balance == 0  # still held
    assert Product.get_by_id(tea.id).stock == 4
    assert mails("order_cancelled") == []
    # the payer declines: now the order may be cancelled
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "decline")
    assert "Cancel this order" in client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    post_form(client, f"/account/orders/{order.id}/cancel", page=f"/account/orders/{order.id}")
    assert fresh(order).status == CANCELLED and account_for(customer).balance == 1000


def test_cancel_by_customer_asks_the_provider_and_refuses_an_unknown_answer(buyer, tea, monkeypatch):
    order, payment = card_order(buyer, tea)

    def unreachable(self, provider_payment_id, now=None):
        raise PaymentError("timeout")

    monkeypatch.setattr(sandbox.SandboxProvider, "get_status", unreachable)
    with pytest.raises(CardPaymentBlocksCancel, match="being confirmed"):
        cancel_by_customer(order, buyer)
    assert fresh(order).status == PENDING_PAYMENT
    monkeypatch.undo()
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
    assert cancel_by_customer(order, buyer) is False  # the provider had it paid: nothing to cancel
    assert fresh(order).status == PAID


def test_a_payment_started_in_another_tab_meanwhile_also_blocks_the_cancel(buyer, tea, monkeypatch):
    """The payment starts between asking the provider and the cancel's transaction."""
    order, _ = card_order(buyer, tea)
    monkeypatch.setattr("models.orders.card_payments.card_payment_in_progress", lambda order, now=None: None)
    with pytest.raises(CardPaymentBlocksCancel):
        cancel_by_customer(order, buyer)
    assert fresh(order).status == PENDING_PAYMENT


# The owner's new-order emails --------------------------------------------------------------------------


def owner_mails(kind):
    return mails(kind, load_settings().contact_email)


def test_each_new_order_emails_the_owner(buyer, tea):
    assert load_settings().new_order_emails == "each"  # the default
    order, _ = card_order(buyer, tea)
    (mail,) = owner_mails("new_order_owner")
    assert mail.subject.startswith(f"New order {order.number}: €30.00")
    body = mail.text_body
    # The customer typed their address: it is shown so no mail client links it (issue 19, 5).
    address = buyer.email.replace(".", "[.]")
    assert f"New order {order.number} of €30.00 from {buyer.first_name} {buyer.last_name} ({address})" in body
    assert "It is waiting for a card payment of €20.00." in body
    assert "How it is being paid:" in body
    assert "From account funds: €10.00" in body and "By card: €20.00" in body
    assert f"http://shop.test/admin/orders/{order.id}" in body
    decide(order.payments.get(), "approve")
    assert len(owner_mails("new_order_owner")) == 1  # paying is not a new order


def test_no_owner_email_when_the_owner_wants_none(buyer, tea):
    update_settings({"new_order_emails": "none"})
    card_order(buyer, tea)
    assert owner_mails("new_order_owner") == []
    tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    assert send_new_order_digest(tomorrow.replace(hour=12)) is None
    assert owner_mails("new_orders_digest_owner") == []


def shop_time(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=load_settings().tz)


def test_the_daily_digest_goes_once_after_the_hour_with_the_previous_days_orders(buyer, tea, make_customer):
    update_settings({"new_order_emails": "daily"})
    first, _ = card_order(buyer, tea, key="order-key-0000000011")
    second = place(buyer, shop(buyer, (tea, 2)), key="order-key-0000000012", method=BANK)
    day = fresh(first).local_date
    new_order(make_customer(), shop_time(day, 12), channel="marketplace-x")  # not a shop order
    assert owner_mails("new_order_owner") == []  # not one by one
    next_day = day + datetime.timedelta(days=1)
    assert send_new_order_digest(shop_time(next_day, 6, 59)) is None  # too early
    before = send_new_order_digest(shop_time(day, 23, 59))  # the day isn't over: the day before's
    assert (before.day, before.orders) == (day - datetime.timedelta(days=1), 0)
    digest = send_new_order_digest(shop_time(next_day, 7, 0))
    assert (digest.day, digest.orders) == (day, 2)
    assert send_new_order_digest(shop_time(next_day, 7, 1)) is None
    assert send_new_order_digest(shop_time(next_day, 22, 0)) is None
    (mail,) = owner_mails("new_orders_digest_owner")
    assert mail.subject.startswith("2 new orders on ")
    body = mail.text_body
    assert "2 new orders on" in body and "worth €90.00 together" in body
    assert f"{first.number}, {buyer.first_name} {buyer.last_name}, €30.00, Awaiting payment" in body
    assert f"{second.number}, {buyer.first_name} {buyer.last_name}, €60.00, Awaiting payment" in body
    assert f"http://shop.test/admin/orders/{second.id}" in body
    assert f"date_from={day.isoformat()}&date_to={day.isoformat()}&channel=shop" in body
    # the next day's (none): recorded, nothing sent
    empty = send_new_order_digest(shop_time(next_day + datetime.timedelta(days=1), 9))
    assert (empty.day, empty.orders) == (next_day, 0)
    assert len(owner_mails("new_orders_digest_owner")) == 1
    assert NewOrderDigest.select().count() == 3


def test_the_digest_through_the_tick_survives_restarts(app, buyer, tea):
    update_settings({"new_order_emails": "daily"})
    order, _ = card_order(buyer, tea)
    morning = shop_time(fresh(order).local_date + datetime.timedelta(days=1), 8)
    tick(morning)
    tick(morning + datetime.timedelta(minutes=1))  # another tick, or a restarted scheduler
    assert len(owner_mails("new_orders_digest_owner")) == 1


def test_the_owner_email_goes_with_the_order_or_not_at_all(buyer, tea):
    """Nothing half-done: an order refused at placing (sold out meanwhile) queues no email."""
    seen = shop(buyer, (tea, 1))
    Product.update(stock=0).where(Product.id == tea.id).execute()
    with pytest.raises(CartChanged):
        place(buyer, seen, method=BANK)
    assert mails() == []
