"""Cancelling an unpaid order (by the customer, the shop or the clock), and reinstating one."""

from flask_babel import lazy_gettext

from models.base import db
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import Declined
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.messages import mail_customer
from models.orders.order import CANCELLED
from models.orders.order import hold_key
from models.orders.order import note_text
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.shop.settings import load_settings
from models.storefront.catalog import Product


def cancel_order(order, actor=None, note="", now=None, notify=True):
    """Cancel an unpaid order: release its hold, put the stock back. Returns True if it changed."""
    now = now or utcnow()
    with write_transaction():
        order = Order.get_by_id(order.id)
        changed = (
            Order.update(status=CANCELLED, cancelled_at=now, auto_cancel_at=None)
            .where((Order.id == order.id) & (Order.status == PENDING_PAYMENT))
            .execute()
        )
        if not changed:
            return False
        order = Order.get_by_id(order.id)  # the row is ours now: what it holds after any payment
        if order.held:
            transfer(
                hold_key(order, "release"),
                "order_release",
                [
                    Leg(system_account(FUNDS_ON_HOLD), -order.held, "release"),
                    Leg(account_for(order.user), order.held, "release"),
                ],
                memo=f"Order {order.number} cancelled (hold released)",
                actor=actor,
                now=now,
            )
        for line in order.lines.where(OrderLine.kind == "product"):
            Product.update(stock=Product.stock + line.quantity).where(Product.id == line.product_id).execute()
        record_event(order, PENDING_PAYMENT, CANCELLED, actor, note, now)
        if notify:
            mail_customer(
                Order.get_by_id(order.id),
                "order_cancelled",
                lazy_gettext("Order %(number)s cancelled", number=order.number),
                note=note_text(note),
            )
    return True


def auto_cancel_due(now):
    """Cancel unpaid orders whose time is up; returns how many. `now` is timezone-aware."""
    cutoff = to_naive_utc(now) if now.tzinfo else now
    due = Order.select().where((Order.status == PENDING_PAYMENT) & (Order.auto_cancel_at <= cutoff))
    count = 0
    for order in due:
        hours = load_settings().auto_cancel_hours
        count += cancel_order(order, None, f"Not paid within {hours} hours", now=cutoff)
    return count


def reinstate(order, now, why="a card payment arrived after cancellation"):
    """Take the stock and the hold again for a cancelled order; False (nothing changed) if either fails."""
    try:
        with db.atomic():  # a savepoint: all or nothing
            for line in order.lines.where(OrderLine.kind == "product"):
                taken = (
                    Product.update(stock=Product.stock - line.quantity)
                    .where((Product.id == line.product_id) & (Product.stock >= line.quantity))
                    .execute()
                )
                if not taken:
                    raise _NotReinstated
            Order.update(status=PENDING_PAYMENT, cancelled_at=None, hold_round=Order.hold_round + 1).where(
                Order.id == order.id
            ).execute()
            order = Order.get_by_id(order.id)
            if order.held:
                transfer(
                    hold_key(order, "hold"),
                    "order_hold",
                    [
                        Leg(account_for(order.user), -order.held, "hold"),
                        Leg(system_account(FUNDS_ON_HOLD), order.held, "hold"),
                    ],
                    memo=f"Order {order.number} reinstated (on hold)",
                    now=now,
                )
            record_event(
                order,
                CANCELLED,
                PENDING_PAYMENT,
                None,
                f"Reinstated: {why}",
                now,
            )
    except (_NotReinstated, Declined):
        return False
    return True


class _NotReinstated(Exception):
    pass
