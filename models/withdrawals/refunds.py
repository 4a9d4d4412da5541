"""Refunding a withdrawal: the owner's "Refund" in Approvals.

The amount (`refund_amount`)
    The withdrawn lines at the price paid: their value less their share of the order's funds
    discount (rounded half up), so the customer gets back what they paid for them. When the
    statements so far cover every product line in full (the whole order is withdrawn), delivery
    is added, up to the cheapest delivered (not pickup) method the shop offers today for the
    order's delivery country and goods value: a customer who chose a dearer delivery gets the
    standard one back (Directive 2011/83/EU, Article 13(2)); the shop has no record of the offers
    on the order's day, so today's stand in. A partial withdrawal refunds no delivery. Never more
    than is left to refund on the order.

Where it goes
    As the customer chose in the statement: the way they paid (default) or their account funds,
    through models/refunds/orders.py `refund_order` under the key `withdrawal:<id>`, so a double
    click or a retry refunds once; that refund emails the customer and is the one the credit note
    follows. The owner may wait for the goods or proof of sending before refunding (the statement
    shows "waiting for the goods" until then).

The deadline
    14 days from the statement (`Withdrawal.refund_due`); Approvals warns from 3 days before.
"""

import datetime

from models.base import utcnow
from models.base import write_transaction
from models.orders.order import Order
from models.refunds.orders import refund_order
from models.refunds.orders import refundable
from models.storefront.delivery import estimate_for
from models.withdrawals.statements import choosable_lines
from models.withdrawals.statements import RECEIVED
from models.withdrawals.statements import REFUNDED
from models.withdrawals.statements import statement_lines
from models.withdrawals.statements import Withdrawal

DUE_SOON_DAYS = 3


def urgency(withdrawal, now=None):
    """ "overdue", "soon" (within DUE_SOON_DAYS) or "" for a statement waiting for its refund."""
    left = withdrawal.refund_due - (now or utcnow())
    if left < datetime.timedelta(0):
        return "overdue"
    if left <= datetime.timedelta(days=DUE_SOON_DAYS):
        return "soon"
    return ""


def days_left(withdrawal, now=None):
    return (withdrawal.refund_due - (now or utcnow())).days


def _share(amount, part, whole):
    """`amount` × part / whole, rounded half up."""
    return (2 * amount * part + whole) // (2 * whole) if whole else 0


def goods_refund(order, lines):
    """What the customer paid for `lines` ([(order line, quantity)]): their value less their share
    of the funds discount."""
    value = sum(line.unit_price * quantity for line, quantity in lines)
    return value - _share(order.funds_discount, value, order.subtotal)


def delivery_refund(order):
    """The delivery refunded with a whole order: what was paid, at most the cheapest delivered
    method offered today for the order's country."""
    if not order.delivery_price:
        return 0
    estimate = estimate_for(order.shipping_country, order.subtotal)
    cheapest = estimate.cheapest if estimate is not None else None
    return order.delivery_price if cheapest is None else min(order.delivery_price, cheapest.price)


def whole_order_withdrawn(order):
    return all(choice.available == 0 for choice in choosable_lines(order))


def refund_amount(withdrawal):
    order = Order.get_by_id(withdrawal.order_id)
    amount = goods_refund(order, statement_lines(withdrawal))
    if whole_order_withdrawn(order):
        amount += delivery_refund(order)
    return min(amount, refundable(order))


def pending_withdrawals():
    """Statements waiting for their refund, the oldest first (the Approvals queue)."""
    return list(Withdrawal.select().where(Withdrawal.state == RECEIVED).order_by(Withdrawal.stated_at))


def pending_withdrawal_count():
    return Withdrawal.select().where(Withdrawal.state == RECEIVED).count()


def refund_withdrawal(withdrawal, actor, now=None):
    """Refund the statement as the customer chose; returns the OrderRefund (the same one again
    when it was refunded already). Raises OrderRefundError when nothing can be refunded."""
    now = now or utcnow()
    withdrawal = Withdrawal.get_by_id(withdrawal.id)
    if withdrawal.state == REFUNDED:
        return withdrawal.refund
    order = Order.get_by_id(withdrawal.order_id)
    refund = refund_order(
        order,
        refund_amount(withdrawal),
        withdrawal.destination,
        "",
        actor,
        f"withdrawal:{withdrawal.id}",
        now,
    )
    with write_transaction():
        Withdrawal.update(state=REFUNDED, refund=refund.id, refunded_at=now).where(
            (Withdrawal.id == withdrawal.id) & (Withdrawal.state == RECEIVED)
        ).execute()
    return refund
