"""Orders (models/orders/): placing, holds, discount, card payments, cancellation, auto-cancel."""

import datetime

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from jobs.tick import tick
from models.base import utcnow
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import Entry
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Journal
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.orders.breakdown import funds_cost
from models.orders.breakdown import quote
from models.orders.breakdown import value_covered_by
from models.orders.cancelling import auto_cancel_due
from models.orders.cancelling import cancel_order
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import fail_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import CartChanged
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderEvent
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import payments_total
from models.orders.order import PENDING_PAYMENT
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.storefront.cart import CartLine
from models.storefront.catalog import Product
from payments.sandbox import choose
from payments.sandbox import SandboxNotification
from payments.sandbox import SandboxPayment
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import place
from tests.factories import shop


@pytest.fixture
def make_product(ctx, make_product):
    """The Tea products, made (and ordered) inside the test's request context."""
    return make_product


def held():
    return system_account(FUNDS_ON_HOLD).balance


# The discount ----------------------------------------------------------------------------


def test_discount_rounds_half_up():
    # 2.5 % of 10.60 is 0.265 → 0.27 (half up; banker's rounding would say 0.26)
    assert funds_cost(1060, 250) == 1060 - 27
    assert funds_cost(1020, 250) == 1020 - 26  # 0.255 → 0.26
    assert funds_cost(1010, 250) == 1010 - 25  # 0.2525 → 0.25


@given(st.integers(0, 100_000), st.integers(0, 10_000))
def test_value_covered_is_the_largest_that_funds_pay(subtotal, bp):
    funds = funds_cost(subtotal, bp) // 2
    covered = value_covered_by(funds, subtotal, bp)
    assert funds_cost(covered, bp) <= funds
    if funds == 0:
        assert covered == 0  # no funds, no discount, even where a first cent would round to free
    else:
        assert covered == subtotal or funds_cost(covered + 1, bp) > funds


# Placing ------------------------------------------------------------------------------------


def test_funds_only_with_discount_pays_at_once(buyer, make_product):
    change_default_group(funds_discount_bp=250)
    fund(buyer, 5000)
    product = make_product(price=1060, stock=3)
    order = place(buyer, shop(buyer, (product, 1)))
    assert order.status == PAID
    assert (order.subtotal, order.funds_discount, order.total, order.funds_used) == (1060, 27, 1033, 1033)
    assert payments_total(order) == order.total
    assert account_for(buyer).balance == 5000 - 1033
    assert held() == 0
    assert system_account(SALES).balance == 1033
    assert Product.get_by_id(product.id).stock == 2
    assert [line.kind for line in order.lines] == ["product", "discount"]
    assert CartLine.select().count() == 0
    hold = Journal.get(Journal.idempotency_key == f"order-hold:{order.id}")
    assert Journal.get(Journal.idempotency_key == f"order-capture:{order.id}")
    debit = Entry.get((Entry.journal == hold) & (Entry.amount < 0))
    assert (debit.category, debit.funds_part, debit.credit_part) == ("hold", 1033, 0)
    # paid at once: the one email is the receipt ("payment received"), not "thank you, waiting"
    assert [
        (m.kind, m.to_address) for m in OutboxMessage.select().where(OutboxMessage.kind.startswith("order_"))
    ] == [("order_paid", buyer.email)]


def test_funds_and_credit(buyer, make_product):
    change_default_group(pay_on_account=True, funds_discount_bp=1000)
    set_credit_limit(buyer, 3000)
    fund(buyer, 900)
    product = make_product(price=3000)
    order = place(buyer, shop(buyer, (product, 1)), use_credit=True)
    # 9.00 of funds covers 10.00 (10 % off), credit pays the other 20.00
    assert (order.funds_used, order.funds_discount, order.credit_used, order.total) == (900, 100, 2000, 2900)
    assert order.status == PAID
    assert account_for(buyer).balance == -2000
    debit = Entry.get((Entry.account == account_for(buyer)) & (Entry.category == "hold"))
    assert (debit.funds_part, debit.credit_part) == (900, 2000)


def test_credit_needs_the_group_to_allow_it(buyer, make_product):
    set_credit_limit(buyer, 3000)
    product = make_product(price=3000)
    order = place(buyer, shop(buyer, (product, 1)), use_credit=True, method=BANK)
    assert (order.credit_used, order.bank_amount, order.status) == (0, 3000, PENDING_PAYMENT)


def test_funds_and_bank_transfer_wait_with_the_hold(buyer, make_product):
    fund(buyer, 1200)
    product = make_product(price=4200)
    order = place(buyer, shop(buyer, (product, 1)), method=BANK)
    assert (order.funds_used, order.bank_amount, order.status) == (1200, 3000, PENDING_PAYMENT)
    assert held() == 1200
    assert order.auto_cancel_at is not None
    mail = OutboxMessage.get(OutboxMessage.kind == "order_placed")
    assert order.number in mail.text_body and "30.00" in mail.text_body


def test_chosen_funds_amount_and_bad_amounts(buyer, make_product):
    fund(buyer, 2000)
    product = make_product(price=3000)
    seen = shop(buyer, (product, 1))
    with pytest.raises(OrderError):
        quote(buyer, 3000, 2500)  # more than the balance
    with pytest.raises(OrderError):
        quote(buyer, 3000, -1)
    order = place(buyer, seen, funds_wanted=500)
    assert (order.funds_used, order.card_amount) == (500, 2500)


def test_double_submit_gives_one_order_and_one_hold(buyer, make_product):
    fund(buyer, 5000)
    product = make_product(price=1000)
    seen = shop(buyer, (product, 2))
    first = place(buyer, seen)
    again = place(buyer, seen)
    assert first.id == again.id
    assert Order.select().count() == 1
    assert Journal.select().where(Journal.kind == "order_hold").count() == 1
    assert Product.get_by_id(product.id).stock == 8


def test_price_changed_is_refused_with_old_and_new_price(buyer, make_product):
    fund(buyer, 5000)
    product = make_product(price=1000)
    seen = shop(buyer, (product, 1))
    Product.update(price=1200).where(Product.id == product.id).execute()
    with pytest.raises(CartChanged, match=r"from €10\.00 to €12\.00"):
        place(buyer, seen)
    assert Order.select().count() == 0
    assert account_for(buyer).balance == 5000


def test_stock_short_is_refused_and_nothing_half_done(buyer, make_product):
    fund(buyer, 5000)
    product = make_product(price=1000, stock=5)
    seen = shop(buyer, (product, 3))
    Product.update(stock=2).where(Product.id == product.id).execute()
    with pytest.raises(CartChanged, match="Only 2"):
        place(buyer, seen)
    assert (Order.select().count(), held(), Product.get_by_id(product.id).stock) == (0, 0, 2)
    assert CartLine.select().count() == 1


# Cancelling ----------------------------------------------------------------------------------


def test_cancellation_releases_the_hold_and_returns_stock(buyer, make_product):
    fund(buyer, 1000)
    product = make_product(price=3000, stock=4)
    order = place(buyer, shop(buyer, (product, 2)), method=BANK)
    assert held() == 1000 and account_for(buyer).balance == 0
    assert cancel_order(order, buyer, "changed my mind")
    assert not cancel_order(order, buyer)  # once
    assert held() == 0 and account_for(buyer).balance == 1000
    assert Product.get_by_id(product.id).stock == 4
    assert Order.get_by_id(order.id).status == CANCELLED
    assert [e.to_status for e in OrderEvent.select().where(OrderEvent.order == order)] == [
        PENDING_PAYMENT,
        CANCELLED,
    ]
    assert OutboxMessage.get(OutboxMessage.kind == "order_cancelled").to_address == buyer.email


def test_auto_cancel_with_now_passed_in(buyer, make_product):
    update_settings({"auto_cancel_hours": 48})
    product = make_product(price=3000)
    placed_at = datetime.datetime(2026, 11, 1, 12)
    order = place(buyer, shop(buyer, (product, 1)), method=BANK, now=placed_at)
    assert auto_cancel_due(datetime.datetime(2026, 11, 3, 11, 59, tzinfo=datetime.UTC)) == 0
    assert auto_cancel_due(datetime.datetime(2026, 11, 3, 12, 0, tzinfo=datetime.UTC)) == 1
    assert Order.get_by_id(order.id).status == CANCELLED
    assert OrderEvent.get(OrderEvent.to_status == CANCELLED).actor_label == "system"


# Card -------------------------------------------------------------------------------------


def card_order(buyer, make_product, funds=1000, price=3000, stock=5):
    fund(buyer, funds)
    product = make_product(price=price, stock=stock)
    order = place(buyer, shop(buyer, (product, 1)), method=CARD)
    return order, product, start_card_payment(order, "pay-key-000000000001")


def test_card_payment_pays_once(buyer, make_product):
    order, _, payment = card_order(buyer, make_product)
    assert (payment.amount, order.card_amount) == (2000, 2000)
    assert start_card_payment(order, "pay-key-000000000001").id == payment.id
    complete_card_payment(payment)
    complete_card_payment(payment)
    order = Order.get_by_id(order.id)
    assert order.status == PAID
    assert held() == 0
    assert system_account(SALES).balance == 3000
    card = Journal.get(Journal.kind == "order_card")
    assert {e.category for e in card.entries} == {"spend"}
    assert account_for(buyer).balance == 0  # the card part never touched the account
    fail_card_payment(payment)  # a late failure notice changes nothing
    assert OrderPayment.get_by_id(payment.id).state == "succeeded"
    assert Order.get_by_id(order.id).status == PAID


def test_pay_now_again_while_a_card_payment_is_open_never_starts_a_second_charge(buyer, make_product):
    order, _, payment = card_order(buyer, make_product)
    assert start_card_payment(order, "pay-key-000000000002").id == payment.id  # another tab, a new form
    assert OrderPayment.select().where(OrderPayment.order == order.id).count() == 1
    fail_card_payment(payment)  # once the first is decided, paying again starts a new one
    assert start_card_payment(order, "pay-key-000000000003").id != payment.id


def test_the_tick_asks_the_provider_about_a_card_payment_still_pending(buyer, make_product):
    """A card payment whose notification never came is settled by the minute tick's reconciliation."""
    order, _, payment = card_order(buyer, make_product)
    sandbox_payment = SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id)
    choose(sandbox_payment, "late")  # paid at the provider…
    SandboxPayment.update(settles_at=utcnow()).where(SandboxPayment.id == sandbox_payment.id).execute()
    SandboxNotification.delete().where(
        SandboxNotification.payment == sandbox_payment.id
    ).execute()  # …notice lost
    now = datetime.datetime.now(datetime.UTC)
    tick(now + datetime.timedelta(minutes=1))  # too early to ask
    assert Order.get_by_id(order.id).status == PENDING_PAYMENT
    tick(now + datetime.timedelta(minutes=5))
    assert Order.get_by_id(order.id).status == PAID
    assert OrderPayment.get_by_id(payment.id).outcome == "paid_order"


def test_declined_card_keeps_the_order_unpaid(buyer, make_product):
    order, _, payment = card_order(buyer, make_product)
    fail_card_payment(payment)
    assert Order.get_by_id(order.id).status == PENDING_PAYMENT
    assert held() == 1000


def test_payment_after_cancellation_reinstates_when_stock_allows(buyer, make_product):
    order, product, payment = card_order(buyer, make_product)
    cancel_order(order)
    complete_card_payment(payment)
    order = Order.get_by_id(order.id)
    assert order.status == PAID
    assert Product.get_by_id(product.id).stock == 4
    assert held() == 0 and account_for(buyer).balance == 0
    assert Journal.get(Journal.idempotency_key == f"order-hold:{order.id}:2")
    assert OutboxMessage.select().where(OutboxMessage.kind == "order_late_payment_owner").count() == 1
    # cancelling a reinstated, paid order does nothing; the keys of the second round are its own
    assert not cancel_order(order)


def test_payment_after_cancellation_goes_to_funds_when_sold_out(buyer, make_product):
    order, product, payment = card_order(buyer, make_product, stock=1)
    cancel_order(order)
    Product.update(stock=0).where(Product.id == product.id).execute()
    complete_card_payment(payment)
    assert Order.get_by_id(order.id).status == CANCELLED
    assert OrderPayment.get_by_id(payment.id).outcome == "credited_to_funds"
    assert account_for(buyer).balance == 1000 + 2000  # hold released, card money credited
    assert Entry.get((Entry.account == account_for(buyer)) & (Entry.category == "refund_in")).amount == 2000
    kinds = {m.kind for m in OutboxMessage.select()}
    assert {"order_late_payment", "order_late_payment_owner"} <= kinds


# Payments always sum to the total --------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=st.integers(1, 50_000),
    quantity=st.integers(1, 3),
    balance=st.integers(0, 60_000),
    bp=st.integers(0, 3000),
    limit=st.integers(0, 50_000),
    use_credit=st.booleans(),
    method=st.sampled_from([CARD, BANK]),
    share=st.floats(0, 1),
)
def test_payments_always_sum_to_the_total(
    make_customer, make_product, price, quantity, balance, bp, limit, use_credit, method, share
):
    change_default_group(funds_discount_bp=bp, pay_on_account=True)
    buyer = make_customer()
    set_credit_limit(buyer, limit)
    if balance:
        fund(buyer, balance)
    product = make_product(price=price, stock=quantity)
    seen = shop(buyer, (product, quantity))
    most = quote(buyer, price * quantity).funds_max
    order = place(buyer, seen, funds_wanted=int(most * share), use_credit=use_credit, method=method)
    assert payments_total(order) == order.total == order.subtotal - order.funds_discount
    assert order.funds_discount == order.subtotal - order.total >= 0
    assert min(order.funds_used, order.credit_used, order.card_amount, order.bank_amount) >= 0
    assert sum(line.line_total for line in order.lines) == order.total
