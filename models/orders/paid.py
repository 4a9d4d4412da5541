"""An order becomes paid: everything that follows a payment, in one place.

Whoever took the money (checkout with funds, a card payment, a bank transfer the owner
records) calls `mark_paid` inside its own write transaction. It captures the order's hold,
records the event, issues the invoice with the year's next number (invoice.py), pays the affiliate's reward and emails the customer the receipt ("payment
received", messages.py), all saved with the payment or not at all.
"""

from models.funds.holds import journal_key
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.affiliate_rewards import reward_affiliate
from models.orders.invoice import issue_invoice
from models.orders.messages import send_receipt
from models.orders.order import Order
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event


def mark_paid(order, actor, now, note, receipt=True):
    """Capture the hold and mark the order paid (inside the caller's transaction).

    `receipt=False` for a caller that tells the customer in its own words that the payment
    arrived (a bank transfer received, a late card payment that reinstated the order).
    """
    changed = (
        Order.update(status=PAID, paid_at=now, auto_cancel_at=None)
        .where((Order.id == order.id) & (Order.status == PENDING_PAYMENT))
        .execute()
    )
    if not changed:
        return False
    order = Order.get_by_id(order.id)  # the row is ours now: what it holds after any payment
    if order.held:
        transfer(
            journal_key("capture", order.id),  # once per order, whatever the round
            "order_capture",
            [
                Leg(system_account(FUNDS_ON_HOLD), -order.held, "capture"),
                Leg(system_account(SALES), order.held, "capture"),
            ],
            memo=f"Order {order.number}",
            actor=actor,
            now=now,
        )
    record_event(order, PENDING_PAYMENT, PAID, actor, note, now)
    issue_invoice(order, now)  # its number is taken with the payment or not at all
    reward_affiliate(Order.get_by_id(order.id), now)
    if receipt:
        send_receipt(order, now)
    return True
