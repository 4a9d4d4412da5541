"""The shop's side of orders: bank transfers received, dispatch, completion, refunds, the orders list."""

import datetime

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import check_ledger
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Journal
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import REFUNDS
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.orders.cancelling import cancel_order
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.fulfilment import complete
from models.orders.fulfilment import CREDITED
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import PAID_OUTCOME
from models.orders.fulfilment import receive_bank_transfer
from models.orders.fulfilment import REINSTATED
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import COMPLETED
from models.orders.order import DISPATCHED
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderEvent
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.search import matching
from models.orders.search import OrderFilters
from models.orders.search import totals
from models.refunds.orders import cancel_paid_order
from models.refunds.orders import left_to_refund
from models.refunds.orders import OrderRefund
from models.refunds.orders import OrderRefundError
from models.refunds.orders import PARTS
from models.refunds.orders import refund_order
from models.refunds.orders import refundable
from models.refunds.orders import retry_pending_card_refunds
from models.refunds.orders import split
from models.shop.outbox import OutboxMessage
from models.storefront.catalog import Product
from payments import sandbox
from payments.sandbox import SandboxPayment
from payments.sandbox import SandboxProvider
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import ORDER_KEY
from tests.factories import paid_order
from tests.factories import place
from tests.factories import placed_order
from tests.factories import shop


def bank_order(buyer, make_product, price=3000, funds=0, key=ORDER_KEY):
    product = make_product(price=price, stock=5)
    return placed_order(buyer, (product, 1), key=key, funds=funds, method=BANK), product


def card_paid_order(buyer, make_product, price=3000, funds=1000):
    """An order paid partly with funds and the rest by an approved card payment."""
    return paid_order(buyer, (make_product(price=price, stock=5), 1), funds=funds)


def balance(code):
    return system_account(code).balance


# Bank transfers ------------------------------------------------------------------------


def test_a_bank_transfer_received_pays_the_order_once(buyer, owner, make_product):
    order, _ = bank_order(buyer, make_product, funds=1000)
    assert (order.funds_used, order.bank_amount) == (1000, 2000)
    assert receive_bank_transfer(order, owner) == PAID_OUTCOME
    order = Order.get_by_id(order.id)
    assert order.status == PAID and order.paid_at is not None
    assert balance(SALES) == 3000 and balance(FUNDS_ON_HOLD) == 0
    assert balance("bank_transfers") == -2000
    with pytest.raises(OrderError, match="isn't waiting"):
        receive_bank_transfer(order, owner)  # a double click moves nothing
    assert balance(SALES) == 3000
    assert OutboxMessage.select().where(OutboxMessage.kind == "order_bank_received").count() == 1
    assert check_ledger() == []


def test_a_card_order_is_not_waiting_for_a_bank_transfer(buyer, owner, make_product):
    product = make_product()
    order = place(buyer, shop(buyer, (product, 1)), method=CARD)
    with pytest.raises(OrderError):
        receive_bank_transfer(order, owner)


def test_a_transfer_arriving_after_cancellation_reinstates_the_order(buyer, owner, make_product):
    order, product = bank_order(buyer, make_product, funds=500)
    cancel_order(order)
    assert receive_bank_transfer(order, owner) == REINSTATED
    order = Order.get_by_id(order.id)
    assert order.status == PAID
    assert Product.get_by_id(product.id).stock == 4
    assert balance(FUNDS_ON_HOLD) == 0 and account_for(buyer).balance == 0
    assert check_ledger() == []


def test_a_transfer_for_a_sold_out_cancelled_order_goes_to_the_customers_funds(buyer, owner, make_product):
    order, product = bank_order(buyer, make_product)
    cancel_order(order)
    Product.update(stock=0).where(Product.id == product.id).execute()
    assert receive_bank_transfer(order, owner) == CREDITED
    assert Order.get_by_id(order.id).status == CANCELLED
    assert account_for(buyer).balance == 3000
    mail = OutboxMessage.select().where(OutboxMessage.kind == "order_bank_received").get()
    assert "couldn't reinstate" in mail.text_body
    assert check_ledger() == []


# Dispatch and completion ---------------------------------------------------------------


def test_dispatch_then_complete_records_who_and_when(buyer, owner, staff, make_product):
    paid, _ = bank_order(buyer, make_product, key="order-key-0000000001")
    unpaid, _ = bank_order(buyer, make_product, key="order-key-0000000002")
    receive_bank_transfer(paid, owner)
    done = dispatch([paid, unpaid], staff, "Royal Mail JD000")
    assert [order.id for order in done] == [paid.id]  # an unpaid order is skipped
    assert Order.get_by_id(unpaid.id).status == PENDING_PAYMENT
    assert dispatch([paid], staff) == []  # twice: nothing more
    assert complete([paid], staff)
    order = Order.get_by_id(paid.id)
    assert order.status == COMPLETED and order.dispatched_at and order.completed_at
    events = list(OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id))
    assert [(e.to_status, e.actor_id) for e in events[-2:]] == [(DISPATCHED, staff.id), (COMPLETED, staff.id)]
    mail = OutboxMessage.select().where(OutboxMessage.kind == "order_dispatched").get()
    assert "Royal Mail JD000" in mail.text_body


# Refunds ----------------------------------------------------------------------------------


def test_split_is_proportional_and_exact():
    left = {"funds": 1000, "credit": 0, "card": 2000, "bank": 0}
    assert split(3000, left) == left
    assert split(300, left) == {"funds": 100, "credit": 0, "card": 200, "bank": 0}
    assert sum(split(1, left).values()) == 1


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.integers(0, 100_000), min_size=4, max_size=4).filter(lambda p: sum(p) > 0),
    fractions=st.lists(st.floats(0.01, 1), min_size=1, max_size=6),
)
def test_refunds_never_exceed_any_part_and_a_full_refund_returns_each_exactly(parts, fractions):
    paid = dict(zip(PARTS, parts, strict=True))
    left = dict(paid)
    for fraction in fractions:
        remaining = sum(left.values())
        if not remaining:
            break
        amount = max(1, int(remaining * fraction))
        shares = split(amount, left)
        assert sum(shares.values()) == amount
        assert all(0 <= shares[p] <= left[p] for p in PARTS)
        left = {p: left[p] - shares[p] for p in PARTS}
    if sum(left.values()):
        split(sum(left.values()), left)
        assert split(sum(left.values()), left) == left


def test_a_partial_refund_to_funds_then_the_rest_to_the_card(buyer, owner, make_product):
    order = card_paid_order(buyer, make_product)
    assert (order.funds_used, order.card_amount) == (1000, 2000)
    first = refund_order(order, 900, "funds", "Dented tin", owner, "refund-key-000000000001")
    assert (first.funds_part, first.card_part, first.to_account, first.to_card) == (300, 600, 900, 0)
    assert account_for(buyer).balance == 900
    again = refund_order(order, 900, "funds", "Dented tin", owner, "refund-key-000000000001")
    assert again.id == first.id and account_for(buyer).balance == 900  # a replay moves nothing
    rest = refund_order(Order.get_by_id(order.id), 2100, "original", "", owner, "refund-key-000000000002")
    assert (rest.funds_part, rest.card_part) == (700, 1400)
    assert (rest.to_account, rest.to_card, rest.card_state) == (700, 1400, "succeeded")
    assert account_for(buyer).balance == 1600
    assert SandboxPayment.get().refunded == 1400
    order = Order.get_by_id(order.id)
    assert order.refunded == 3000 and refundable(order) == 0
    with pytest.raises(OrderRefundError, match="in full"):
        refund_order(order, 1, "funds", "", owner, "refund-key-000000000003")
    assert (
        balance(REFUNDS) == -3000 and balance(PROVIDER_CLEARING) == -1000 - 2000 + 1400
    )  # the seed top-up, the card, the refund
    assert check_ledger() == []


def test_refunds_above_what_is_left_are_refused_and_move_nothing(buyer, owner, make_product):
    order = card_paid_order(buyer, make_product)
    with pytest.raises(OrderRefundError, match="At most"):
        refund_order(order, 3001, "funds", "", owner, "refund-key-000000000001")
    with pytest.raises(OrderRefundError, match="above zero"):
        refund_order(order, 0, "funds", "", owner, "refund-key-000000000002")
    assert OrderRefund.select().count() == 0 and account_for(buyer).balance == 0


def test_unpaid_and_marketplace_orders_are_not_refunded_here(buyer, owner, make_product):
    order, _ = bank_order(buyer, make_product)
    with pytest.raises(OrderRefundError, match="isn't paid"):
        refund_order(order, 100, "funds", "", owner, "refund-key-000000000001")
    receive_bank_transfer(order, owner)
    Order.update(channel="amazon").where(Order.id == order.id).execute()
    with pytest.raises(OrderRefundError, match="amazon"):
        refund_order(Order.get_by_id(order.id), 100, "funds", "", owner, "refund-key-000000000002")


def test_a_bank_part_refunded_the_original_way_is_left_for_the_owner_to_transfer(buyer, owner, make_product):
    order, _ = bank_order(buyer, make_product, funds=1000)
    receive_bank_transfer(order, owner)
    refund = refund_order(Order.get_by_id(order.id), 3000, "original", "", owner, "refund-key-000000000001")
    assert (refund.to_account, refund.to_bank, refund.to_card) == (1000, 2000, 0)
    assert balance("bank_transfers") == 0
    assert check_ledger() == []


def test_the_credit_part_goes_back_to_the_account(buyer, owner, make_product):
    change_default_group(pay_on_account=True)
    set_credit_limit(buyer, 5000)
    product = make_product(price=2000)
    order = place(buyer, shop(buyer, (product, 1)), use_credit=True, method=CARD)
    assert order.credit_used == 2000 and order.status == PAID
    assert account_for(buyer).balance == -2000
    refund = refund_order(order, 2000, "original", "", owner, "refund-key-000000000001")
    assert refund.credit_part == 2000 and account_for(buyer).balance == 0


def test_a_refused_card_refund_puts_the_card_part_back_to_refund_again(
    buyer, owner, make_product, monkeypatch
):
    order = card_paid_order(buyer, make_product)

    def refuse(*args):
        raise sandbox.PaymentError("Card expired")

    monkeypatch.setattr(SandboxProvider, "refund", refuse)
    refund = refund_order(order, 3000, "original", "", owner, "refund-key-000000000001")
    assert refund.card_state == "failed" and "Card expired" in refund.failure
    order = Order.get_by_id(order.id)
    assert order.refunded == 1000 and left_to_refund(order)["card"] == 2000
    assert account_for(buyer).balance == 1000
    assert Journal.get(Journal.idempotency_key == f"order-refund-reversed:{refund.id}").corrects_id
    assert check_ledger() == []


def test_a_card_refund_without_an_answer_is_retried_by_the_job(buyer, owner, make_product, monkeypatch):
    order = card_paid_order(buyer, make_product)
    real_refund = SandboxProvider.refund
    monkeypatch.setattr(SandboxProvider, "refund", lambda *args: (_ for _ in ()).throw(TimeoutError()))
    refund = refund_order(order, 2000, "original", "", owner, "refund-key-000000000001")
    assert refund.card_state == "pending"
    monkeypatch.setattr(SandboxProvider, "refund", real_refund)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=5)
    assert retry_pending_card_refunds(later) == 1
    assert OrderRefund.get_by_id(refund.id).card_state == "succeeded"
    assert SandboxPayment.get().refunded == refund.to_card


def test_cancelling_a_paid_order_refunds_it_and_puts_the_stock_back(buyer, owner, make_product):
    order, product = bank_order(buyer, make_product, funds=1000)
    receive_bank_transfer(order, owner)
    refund = cancel_paid_order(
        Order.get_by_id(order.id), "funds", "Out of stock", owner, "cancel-key-0000000001"
    )
    assert refund.amount == 3000 and refund.to_account == 3000
    again = cancel_paid_order(
        Order.get_by_id(order.id), "funds", "Out of stock", owner, "cancel-key-0000000001"
    )
    assert again.id == refund.id
    order = Order.get_by_id(order.id)
    assert order.status == CANCELLED and Product.get_by_id(product.id).stock == 5
    assert account_for(buyer).balance == 3000
    mail = OutboxMessage.select().where(OutboxMessage.kind == "order_refunded").get()
    assert "cancelled your order" in mail.text_body
    assert check_ledger() == []


# The orders list ---------------------------------------------------------------------------


def test_filters_and_totals(buyer, owner, make_customer, make_product):
    first, _ = bank_order(buyer, make_product, key="order-key-0000000001")
    second, _ = bank_order(buyer, make_product, key="order-key-0000000002")
    receive_bank_transfer(second, owner)
    other = make_customer(first_name="Zed", email="zed@example.com")
    third, _ = bank_order(other, make_product, key="order-key-0000000003")
    Order.update(channel="etsy").where(Order.id == third.id).execute()
    today = first.local_date

    def found(**filters):
        return [order.id for order in matching(OrderFilters(**filters), today)]

    assert found() == [third.id, second.id, first.id]
    assert found(status=PAID) == [second.id]
    assert found(channel="etsy") == [third.id]
    assert found(customer=first.number) == [first.id]
    assert found(customer="zed") == [third.id]
    assert found(customer_id=buyer.id) == [second.id, first.id]
    assert found(period="custom", date_from=today + datetime.timedelta(days=3), date_to=today) == found()
    assert found(period="last_month") == []
    assert totals(matching(OrderFilters(), today)).count == 3
    assert totals(matching(OrderFilters(), today)).value == 9000


def placed_outside_requests(app, make_customer, make_product, funds=0):
    """A bank-transfer order placed the way checkout does, leaving no request context behind."""
    with app.test_request_context():
        buyer = make_customer()
        order, _ = bank_order(buyer, make_product, funds=funds)
    return buyer, order


def test_the_orders_pages_for_staff_and_the_owner(app, client, make_customer, staff, make_product):
    _, order = placed_outside_requests(app, make_customer, make_product)
    sign_in(client, staff)
    page = client.get(
        "/admin/orders?status=pending_payment&period=custom&date_from=2030-01-01&date_to=2020-01-01"
    )
    assert page.status_code == 200 and order.number in page.get_data(as_text=True)
    assert client.get("/admin/orders?status=<script>&page=999999&date_from=nonsense").status_code == 200
    shown = client.get(f"/admin/orders/{order.id}").get_data(as_text=True)
    assert "Bank transfer of" not in shown  # money actions are the owner's
    assert (
        post_form(
            client, f"/admin/orders/{order.id}/bank-transfer", page=f"/admin/orders/{order.id}"
        ).status_code
        == 403
    )
    assert client.get("/admin/orders/99999999").status_code == 404
    assert client.get(f"/admin/orders/{2**70}").status_code == 404


def test_the_owner_marks_received_dispatches_in_bulk_and_refunds(
    app, owner_client, make_customer, make_product
):
    buyer, order = placed_outside_requests(app, make_customer, make_product, funds=1000)
    page = f"/admin/orders/{order.id}"
    assert "Bank transfer of" in owner_client.get(page).get_data(as_text=True)
    response = post_form(owner_client, f"{page}/bank-transfer", page=page, follow_redirects=True)
    assert "is paid" in response.get_data(as_text=True)
    response = post_form(
        owner_client,
        "/admin/orders/dispatch",
        {"order": [str(order.id), "abc"], "dispatch-note": ""},
        page="/admin/orders",
        follow_redirects=True,
    )
    assert "1 order marked dispatched" in response.get_data(as_text=True)
    bad = post_form(
        owner_client, f"{page}/refund", {"refund-amount": "99999", "refund-destination": "funds"}, page=page
    )
    assert bad.status_code == 422 and "At most" in bad.get_data(as_text=True)
    assert 'value="99999"' in bad.get_data(as_text=True)  # what was typed is kept
    good = post_form(
        owner_client,
        f"{page}/refund",
        {"refund-amount": "5.00", "refund-destination": "funds", "refund-note": "Sorry"},
        page=page,
        follow_redirects=True,
    )
    assert "Refund of" in good.get_data(as_text=True)
    assert account_for(buyer).balance == 500
    customer_client = app.test_client()
    sign_in(customer_client, buyer)
    shown = customer_client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert "€5.00 into your account funds" in shown and "(Sorry)" in shown


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=st.integers(100, 50_000),
    funds_share=st.floats(0, 1),
    refunds=st.lists(
        st.tuples(st.floats(0.001, 1.2), st.sampled_from(["funds", "original"])), min_size=1, max_size=5
    ),
)
def test_refunds_of_a_paid_order_never_exceed_what_was_paid(
    ctx, make_customer, make_product, owner, price, funds_share, refunds
):
    buyer = make_customer()
    funds = int(price * funds_share)
    if funds:
        fund(buyer, funds, key=f"property-{buyer.id}")
    product = make_product(price=price)
    order = place(buyer, shop(buyer, (product, 1)), key=f"order-key-{buyer.id:012d}", method=CARD)
    if order.card_amount:
        payment = start_card_payment(order, f"pay-key-{buyer.id:016d}")
        sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
        complete_card_payment(payment)
    order = Order.get_by_id(order.id)
    paid = {"funds": order.funds_used, "credit": 0, "card": order.card_amount, "bank": 0}
    assert sum(paid.values()) == order.total
    for number, (fraction, destination) in enumerate(refunds):
        left = refundable(order)
        amount = max(1, int(order.total * fraction))
        key = f"refund-{buyer.id}-{number:08d}"
        if amount > left:
            with pytest.raises(OrderRefundError):
                refund_order(order, amount, destination, "", owner, key)
        else:
            refund_order(order, amount, destination, "", owner, key)
        order = Order.get_by_id(order.id)
        done = {part: paid[part] - left_part for part, left_part in left_to_refund(order).items()}
        assert all(0 <= done[part] <= paid[part] for part in PARTS)
        assert order.refunded == sum(done.values()) <= order.total
    assert SandboxPayment.select().where(SandboxPayment.refunded > SandboxPayment.amount).count() == 0
    assert check_ledger() == []
