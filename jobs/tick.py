"""The minute tick: one short job that asks the database what is due and does it.

State lives in the database, so restarts, missed ticks and daylight-saving
changes cost nothing. A new piece of due work is a function `work(now)` in its area's
module, added to DUE_WORK here.
"""

import logging

from jobs import credit
from jobs import funds
from jobs import housekeeping
from jobs import ledger
from jobs import orders
from jobs import reminders
from models.operations.health import TICK
from models.shop.heartbeat import beat

log = logging.getLogger("shop.jobs")

# Every piece of due work, in the order each tick runs it.
DUE_WORK = (
    reminders.send_payment_reminders,
    credit.credit_terms,
    funds.deliver_sandbox_notifications,
    funds.reconcile_pending_top_ups,
    orders.reconcile_pending_order_payments,
    orders.email_orders_without_payment_outcome,  # after reconciliation: decided payments email first
    funds.retry_pending_refunds,
    housekeeping.tidy_accounts,
    ledger.nightly_ledger_check,
    orders.cancel_unpaid_orders,
    orders.retry_order_card_refunds,
    orders.new_order_digest,
)


def tick(now):
    """Run each piece of due work, then record the heartbeat.

    One piece failing (a bug in one feature) must not stop the others: its
    error is logged and the rest still run. Each piece opens its own write
    transactions, so a failure rolls back only its own work.
    """
    for work in DUE_WORK:
        try:
            work(now)
        except Exception:
            log.exception("due work %s failed", getattr(work, "__qualname__", work))
    beat(TICK, now)
