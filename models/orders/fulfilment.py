"""The shop's side of an order after it is placed: bank transfers received, dispatch, completion.

Money (through models/funds/ledger.py, keys in brackets):

- A bank transfer the owner saw arrive pays the order: BANK_TRANSFERS → SALES,
  category `spend`, journal kind `order_bank` [order-bank:<order id>], next to
  the capture of the hold. A transfer for an order that was cancelled
  meanwhile reinstates it when stock and the customer's funds allow;
  otherwise the money goes to the customer's funds: BANK_TRANSFERS → customer,
  category `refund_in` [order-bank-refund:<order id>]. Either way the
  customer is emailed.

Dispatch and completion move no money: paid → dispatched → completed, one
order at a time or many at once, each change recorded with who and when.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext

from models.base import utcnow
from models.base import write_transaction
from models.funds.credit import BANK_TRANSFERS
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.cancelling import reinstate
from models.orders.messages import mail_customer
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import COMPLETED
from models.orders.order import DISPATCHED
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.orders.paid import mark_paid
from models.shop.language import format_money

PAID_OUTCOME = "paid_order"
REINSTATED = "reinstated"
CREDITED = "credited_to_funds"


def awaits_bank_transfer(order):
    """True for an order whose remainder is to come by bank transfer (even if it was cancelled meanwhile)."""
    return order.payment_method == BANK and order.bank_amount > 0 and order.paid_at is None


def receive_bank_transfer(order, actor, now=None):
    """The owner saw the order's bank transfer arrive: pay the order; returns the outcome.

    Acts once: a second call (double click, two owners) raises OrderError and
    moves nothing.
    """
    now = now or utcnow()
    with write_transaction():
        order = Order.get_by_id(order.id)
        if not awaits_bank_transfer(order) or order.status not in (PENDING_PAYMENT, CANCELLED):
            raise OrderError(
                gettext("Order %(number)s isn't waiting for a bank transfer.", number=order.number)
            )
        outcome = PAID_OUTCOME
        if order.status == CANCELLED:
            outcome = (
                REINSTATED
                if reinstate(order, now, "the bank transfer arrived after cancellation")
                else CREDITED
            )
            order = Order.get_by_id(order.id)
        bank = system_account(BANK_TRANSFERS)
        if outcome == CREDITED:
            transfer(
                f"order-bank-refund:{order.id}",
                "order_bank_refund",
                [
                    Leg(bank, -order.bank_amount, "refund_in"),
                    Leg(account_for(order.user), order.bank_amount, "refund_in"),
                ],
                memo=f"Bank transfer for order {order.number}, which was cancelled",
                actor=actor,
                now=now,
            )
            record_event(
                order,
                CANCELLED,
                CANCELLED,
                actor,
                f"Bank transfer of {format_money(order.bank_amount)} received and credited to account funds",
                now,
            )
        else:
            transfer(
                f"order-bank:{order.id}",
                "order_bank",
                [
                    Leg(bank, -order.bank_amount, "spend"),
                    Leg(system_account(SALES), order.bank_amount, "spend"),
                ],
                memo=f"Order {order.number} by bank transfer",
                actor=actor,
                now=now,
            )
            mark_paid(
                order, actor, now, "Bank transfer received", receipt=False
            )  # order_bank_received says it
        order = Order.get_by_id(order.id)
        mail_customer(
            order,
            "order_bank_received",
            lazy_gettext("Order %(number)s: we received your payment", number=order.number),
            outcome=outcome,
        )
    return outcome


def dispatch(orders, actor, note="", now=None):
    """Mark paid orders dispatched; returns those that changed (others are left as they were)."""
    return _advance(orders, PAID, DISPATCHED, "dispatched_at", actor, note or "Dispatched", now, email=True)


def complete(orders, actor, note="", now=None):
    """Mark dispatched orders completed: delivered (a pickup: collected), which starts the 14 days
    to withdraw (withdrawal_period.py); returns those that changed."""
    return _advance(orders, DISPATCHED, COMPLETED, "completed_at", actor, note or "Delivered", now)


def _advance(orders, from_status, to_status, stamp, actor, note, now, email=False):
    now = now or utcnow()
    changed = []
    with write_transaction():
        for order in orders:
            stamps = {getattr(Order, stamp): now}
            if to_status == COMPLETED:
                stamps[Order.delivered_at] = now
            moved = (
                Order.update({Order.status: to_status, **stamps})
                .where((Order.id == order.id) & (Order.status == from_status))
                .execute()
            )
            if not moved:
                continue
            fresh = Order.get_by_id(order.id)
            record_event(fresh, from_status, to_status, actor, note, now)
            if email and fresh.channel == "shop":  # marketplaces talk to their own customers
                subject = (
                    lazy_gettext("Order %(number)s is ready to collect", number=fresh.number)
                    if fresh.delivery_pickup
                    else lazy_gettext("Order %(number)s is on its way", number=fresh.number)
                )
                mail_customer(fresh, "order_dispatched", subject, note=note)
            changed.append(fresh)
    return changed
