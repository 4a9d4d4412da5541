"""An unpaid order can be paid later from account funds and credit, with the checkout's rules:
the funds discount on the part funds pay, credit for the rest, the remainder by card or transfer."""

import re

from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import check_ledger
from models.orders import account_payment
from models.orders.account_payment import pay_from_account
from models.orders.cancelling import cancel_order
from models.orders.card_payments import start_card_payment
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.pay_link import pay_link_token
from models.reminders.messages import how_to_pay
from models.shop.outbox import OutboxMessage
from models.shop.settings import load_settings
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import placed_order

KEY = "pay-account-key-0001"


def unpaid_card_order(customer, make_product, price=3000, method=CARD):
    order = placed_order(customer, (make_product(price=price), 1), method=method)
    assert order.status == PENDING_PAYMENT and order.due == price
    return order


def pay_page(client, order):
    return client.get(f"/account/orders/{order.id}/pay").get_data(as_text=True)


def pay_from_the_page(client, order, **fields):
    """Send the pay page's "pay from your account" form as the browser would."""
    page = pay_page(client, order)
    form = page.split(f'action="/account/orders/{order.id}/pay/account"')[1]
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form).group(1)
    data = {"idempotency_key": key, "pay": "1", **fields}
    return post_form(
        client, f"/account/orders/{order.id}/pay/account", data, page=f"/account/orders/{order.id}/pay"
    )


def test_the_pay_page_offers_the_customers_funds_and_pays_the_order_with_them(
    app, customer_client, customer, make_product
):
    with app.test_request_context():
        order = unpaid_card_order(customer, make_product)
    fund(customer, 5000)

    page = pay_page(customer_client, order)
    assert "Pay from your account" in page and "Pay €30.00 from your account" in page

    response = pay_from_the_page(customer_client, order)

    assert response.status_code == 303
    order = Order.get_by_id(order.id)
    assert (order.status, order.funds_used, order.card_amount, order.payment_method) == (
        PAID,
        3000,
        0,
        "funds",
    )
    assert account_for(customer).balance == 2000
    assert OutboxMessage.select().where(OutboxMessage.kind == "order_paid").count() == 1
    assert check_ledger() == []


def test_the_funds_discount_applies_to_the_part_funds_pay(ctx, customer, make_product):
    change_default_group(funds_discount_bp=500)
    order = unpaid_card_order(customer, make_product, price=2000)
    fund(customer, 1000)

    order = pay_from_account(order, KEY)

    # 1000 of funds cover 1053 of order value (1053 less 5 % rounded half up = 1000): 53 off, 947 by card.
    assert (order.funds_used, order.funds_discount, order.total, order.card_amount) == (1000, 53, 1947, 947)
    assert order.status == PENDING_PAYMENT
    line = OrderLine.get((OrderLine.order == order.id) & (OrderLine.kind == "discount"))
    assert line.line_total == -53
    assert order.funds_used + order.credit_used + order.card_amount + order.bank_amount == order.total
    assert check_ledger() == []


def test_credit_pays_the_rest_when_the_customer_asks(ctx, customer, make_product):
    change_default_group(pay_on_account=True)
    set_credit_limit(customer, 5000)
    order = unpaid_card_order(customer, make_product, price=3000)
    fund(customer, 1000)

    order = pay_from_account(order, KEY, funds_wanted=1000, use_credit=True)

    assert (order.status, order.funds_used, order.credit_used, order.due) == (PAID, 1000, 2000, 0)
    assert account_for(customer).balance == -2000


def test_a_bank_transfer_order_keeps_waiting_for_a_smaller_transfer(ctx, customer, make_product):
    order = unpaid_card_order(customer, make_product, price=3000, method=BANK)
    fund(customer, 1000)

    order = pay_from_account(order, KEY)

    assert (order.payment_method, order.bank_amount, order.card_amount, order.funds_used) == (
        BANK,
        2000,
        0,
        1000,
    )


def test_the_same_form_sent_twice_pays_once(ctx, customer, make_product):
    order = unpaid_card_order(customer, make_product)
    fund(customer, 1000)

    pay_from_account(order, KEY)
    order = pay_from_account(order, KEY)

    assert order.funds_used == 1000 and account_for(customer).balance == 0


def test_cancelling_gives_back_everything_paid_from_the_account(ctx, customer, make_product):
    order = placed_order(customer, (make_product(price=3000), 1), funds=500, method=CARD)
    fund(customer, 1000, key="later")
    order = pay_from_account(order, KEY)
    assert order.held == 1500 and account_for(customer).balance == 0

    cancel_order(Order.get_by_id(order.id), customer, "cancelled by the customer")

    assert Order.get_by_id(order.id).status == CANCELLED
    assert account_for(customer).balance == 1500
    assert check_ledger() == []


def test_not_while_a_card_payment_may_still_succeed(ctx, customer, make_product):
    order = unpaid_card_order(customer, make_product)
    start_card_payment(order, "card-key-000000000001")
    fund(customer, 5000)

    try:
        pay_from_account(order, KEY)
    except OrderError as problem:
        assert "being confirmed" in str(problem)
    else:
        raise AssertionError("paid from the account while a card payment was open")
    assert account_for(customer).balance == 5000


def test_more_funds_than_needed_get_a_clear_message_and_keep_what_was_typed(
    app, customer_client, customer, make_product
):
    with app.test_request_context():
        order = unpaid_card_order(customer, make_product, price=1000)
    fund(customer, 5000)

    response = pay_from_the_page(customer_client, order, funds="20.00")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This order needs at most €10.00 of funds." in page and 'value="20.00"' in page
    assert Order.get_by_id(order.id).funds_used == 0


def test_only_the_signed_in_customer_sees_and_uses_their_account(app, customer, make_user, make_product):
    with app.test_request_context():
        order = unpaid_card_order(customer, make_product)
        token = pay_link_token(order)
    fund(customer, 5000)
    stranger = app.test_client()
    sign_in(stranger, make_user())
    assert stranger.get(f"/account/orders/{order.id}/pay").status_code == 404

    visitor = app.test_client()  # opened the emailed pay link, signed out
    visitor.get(f"/account/orders/link/{token}")
    page = pay_page(visitor, order)
    assert "Sign in to pay from your account</a>" in page and "€50.00" not in page
    assert visitor.post(f"/account/orders/{order.id}/pay/account").status_code in (302, 400)
    assert Order.get_by_id(order.id).funds_used == 0


def test_a_customer_without_funds_or_credit_is_not_offered_the_account(
    app, customer_client, customer, make_product
):
    with app.test_request_context():
        order = unpaid_card_order(customer, make_product)

    assert "Pay from your account" not in pay_page(customer_client, order)


def test_a_reminder_tells_a_customer_with_funds_they_can_pay_from_the_account(ctx, customer, make_product):
    order = unpaid_card_order(customer, make_product)
    assert "account funds" not in how_to_pay(order, load_settings())

    fund(customer, 1000)

    assert "On the payment page you can also pay from your account funds or credit" in how_to_pay(
        order, load_settings()
    )


def test_the_same_form_sent_twice_at_once_pays_once(ctx, customer, make_product, monkeypatch):
    order = unpaid_card_order(customer, make_product)
    fund(customer, 2000)
    asking_the_provider = account_payment.card_payment_in_progress

    def the_first_request_lands_meanwhile(order, now=None):
        monkeypatch.setattr(account_payment, "card_payment_in_progress", asking_the_provider)
        pay_from_account(order, KEY, funds_wanted=1000)
        return None

    monkeypatch.setattr(account_payment, "card_payment_in_progress", the_first_request_lands_meanwhile)
    order = pay_from_account(order, KEY, funds_wanted=1000)

    assert (order.funds_used, order.card_amount) == (1000, 2000)
    assert account_for(customer).balance == 1000
    cancel_order(order, customer)
    assert account_for(customer).balance == 2000  # everything back, nothing made up
    assert check_ledger() == []
