"""How long an order can be withdrawn from (models/orders/withdrawal_period.py) and which lines
can be chosen (models/withdrawals/statements.py)."""

import datetime

from models.base import to_naive_utc
from models.orders.fulfilment import complete
from models.orders.fulfilment import dispatch
from models.orders.order import Order
from models.orders.withdrawal_period import withdrawal_deadline
from models.orders.withdrawal_period import withdrawal_open
from models.withdrawals.statements import can_withdraw
from models.withdrawals.statements import choosable_lines
from tests import factories
from tests.factories import local
from tests.factories import new_order
from tests.factories import paid_order


def _dispatched(order, owner):
    dispatch([order], owner, now=to_naive_utc(local(2026, 12, 1, 15, 0)))
    return Order.get_by_id(order.id)


def _end_of(year, month, day):
    """The first instant after that shop day, as stored (naive UTC)."""
    return to_naive_utc(local(year, month, day) + datetime.timedelta(days=1))


def test_a_paid_order_not_yet_dispatched_can_be_withdrawn_with_no_deadline_yet(buyer, make_product):
    order = paid_order(buyer, (make_product(), 1), funds=5000)
    assert withdrawal_deadline(order) is None
    assert withdrawal_open(order, to_naive_utc(local(2030, 1, 1)))
    assert can_withdraw(order)


def test_an_unpaid_or_cancelled_order_cannot_be_withdrawn(buyer):
    unpaid = new_order(buyer)
    cancelled = new_order(buyer, status="cancelled", cancelled_at=local(2026, 12, 1))
    assert not withdrawal_open(unpaid)
    assert not withdrawal_open(cancelled)


def test_a_marketplace_order_is_withdrawn_on_the_marketplace(buyer):
    order = new_order(buyer, status="paid", channel=factories.MARKETPLACE, paid_at=local(2026, 12, 1))
    assert not withdrawal_open(order)


def test_dispatched_without_a_delivery_time_counts_30_days_then_14(buyer, make_product, owner):
    order = _dispatched(paid_order(buyer, (make_product(), 1), funds=5000), owner)
    # 1 Dec + 30 days = 31 Dec, + 14 days = 14 Jan, open until that day ends (shop time)
    assert withdrawal_deadline(order) == _end_of(2027, 1, 14)
    assert withdrawal_open(order, _end_of(2027, 1, 14) - datetime.timedelta(seconds=1))
    assert not withdrawal_open(order, _end_of(2027, 1, 14))


def test_dispatched_with_the_methods_longest_delivery_time(buyer, make_product, owner):
    order = paid_order(buyer, (make_product(), 1), funds=5000)
    Order.update(delivery_max_days=4).where(Order.id == order.id).execute()
    order = _dispatched(Order.get_by_id(order.id), owner)
    assert withdrawal_deadline(order) == _end_of(2026, 12, 19)  # 1 + 4 + 14


def test_marked_delivered_ends_it_14_days_after_delivery(buyer, make_product, owner):
    order = _dispatched(paid_order(buyer, (make_product(), 1), funds=5000), owner)
    complete([order], owner, now=to_naive_utc(local(2026, 12, 3, 9, 30)))
    order = Order.get_by_id(order.id)
    assert order.delivered_at == to_naive_utc(local(2026, 12, 3, 9, 30))
    assert withdrawal_deadline(order) == _end_of(2026, 12, 17)
    assert not can_withdraw(order, _end_of(2026, 12, 17))


def test_a_pickup_is_delivered_when_collected(buyer, make_product, owner):
    order = paid_order(buyer, (make_product(), 1), funds=5000)
    Order.update(delivery_pickup=True, delivery_name="Pickup").where(Order.id == order.id).execute()
    order = _dispatched(Order.get_by_id(order.id), owner)  # ready to collect
    complete([order], owner, now=to_naive_utc(local(2026, 12, 5, 17, 0)))
    assert withdrawal_deadline(Order.get_by_id(order.id)) == _end_of(2026, 12, 19)


def test_excluded_products_are_copied_at_placing_and_cannot_be_chosen(buyer, make_product):
    cake, tea = make_product(), make_product()
    cake.withdrawal_exclusion = "perishable"
    cake.save()
    order = paid_order(buyer, (cake, 1), (tea, 2), funds=5000)
    cake.withdrawal_exclusion = ""  # a later change doesn't alter the order's rights
    cake.save()
    choices = {choice.line.name: choice for choice in choosable_lines(order)}
    assert not choices[cake.name].choosable
    assert "Perishable" in str(choices[cake.name].excluded)
    assert choices[tea.name].choosable and choices[tea.name].available == 2


def test_an_order_of_only_excluded_products_offers_no_withdrawal(buyer, make_product):
    cake = make_product()
    cake.withdrawal_exclusion = "made_to_order"
    cake.save()
    order = paid_order(buyer, (cake, 1), funds=5000)
    assert withdrawal_open(order)
    assert not can_withdraw(order)
