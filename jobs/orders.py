"""Orders on the tick: cancel unpaid orders whose time is up (the shop's auto_cancel_hours), and
ask the provider again about card refunds of orders whose answer is unknown.

Card payments of orders are reconciled with the top-ups (models/funds.py runs
the order payments' reconcile hook), so nothing more is needed here for them.
"""

from jobs.tick import due_work
from models.order_refunds import retry_pending_card_refunds
from models.orders import auto_cancel_due


@due_work
def cancel_unpaid_orders(now):
    return auto_cancel_due(now)


@due_work
def retry_order_card_refunds(now):
    return retry_pending_card_refunds(now)
