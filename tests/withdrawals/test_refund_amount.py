"""What a withdrawal refunds (models/withdrawals/refunds.py): the withdrawn lines at the price
paid (less their share of the funds discount), delivery only with the whole order and at most the
cheapest delivered method, never beyond what is left to refund."""

from models.orders.order import Order
from models.orders.placing import place_order
from models.refunds.orders import refundable
from models.storefront.delivery import DeliveryMethod
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from models.withdrawals.refunds import refund_amount
from models.withdrawals.refunds import refund_withdrawal
from models.withdrawals.statements import record_withdrawal
from tests.factories import address
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import shop


def _order_with_delivery(buyer, tea, cup):
    DeliveryMethod.create(name="Standard", price=490, estimate="3–5 days", max_days=5)
    express = DeliveryMethod.create(name="Express", price=990, estimate="1 day", max_days=1)
    fund(buyer, 10000)
    seen = shop(buyer, (tea, 2), (cup, 1))
    where = address(buyer)
    order = place_order(
        buyer,
        "order-key-0000000001",
        seen,
        where,
        where,
        delivery_method_id=express.id,
        delivery_seen=offers_fingerprint(offers_for("GB", 2500)),
    )
    return Order.get_by_id(order.id)


def _withdraw(order, items, key):
    return record_withdrawal(order, "Camille Martin", order.user.email, items, "funds", key)


def test_a_partial_withdrawal_refunds_the_lines_less_their_discount_share_and_no_delivery(
    buyer, make_product, owner
):
    change_default_group(funds_discount_bp=1000)  # 10 % for paying with funds
    tea, cup = make_product(price=1000), make_product(price=500)
    order = _order_with_delivery(buyer, tea, cup)
    assert (order.subtotal, order.funds_discount, order.delivery_price) == (2500, 250, 990)
    tea_line = next(line for line in order.lines if line.name == tea.name)
    withdrawal = _withdraw(order, {tea_line.id: 1}, "withdraw-key-000000001")
    assert refund_amount(withdrawal) == 900  # 10.00 less its 1.00 share of the discount


def test_the_whole_order_adds_delivery_up_to_the_cheapest_method(buyer, make_product, owner):
    change_default_group(funds_discount_bp=1000)
    tea, cup = make_product(price=1000), make_product(price=500)
    order = _order_with_delivery(buyer, tea, cup)
    lines = {line.name: line for line in order.lines}
    first = _withdraw(order, {lines[tea.name].id: 1}, "withdraw-key-000000001")
    refund_withdrawal(first, owner)
    second = _withdraw(
        Order.get_by_id(order.id), {lines[tea.name].id: 1, lines[cup.name].id: 1}, "withdraw-key-000000002"
    )
    # 15.00 of goods less 1.50 discount, and Standard's 4.90 of the 9.90 paid for Express
    assert refund_amount(second) == 1350 + 490
    refund = refund_withdrawal(second, owner)
    assert refund.amount == 1840 and refund.destination == "funds"
    assert refundable(Order.get_by_id(order.id)) == 500  # the dearer delivery's extra stays paid
