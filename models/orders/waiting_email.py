"""The "order placed, waiting for payment" email of a card order whose payment has no outcome 15
minutes after it was placed (the customer closed the tab, the provider is slow), sent by the
jobs' minute tick (jobs/orders.py).

A card order gets no email when it is placed: its customer is on the provider's page that minute,
and its first email follows the outcome (messages.py). If none came within WAIT, the provider is
asked about the order's pending card payments first, so a decided payment sends its own message
(the receipt, or "didn't go through"); otherwise the email says the card payment is being
confirmed (one may still succeed) or that the order waits for payment, with the pay link either
way. `claim_first_email` makes it one email per order, whatever the tick or a payment does at
the same moment.
"""

import datetime

from models.base import to_naive_utc
from models.base import write_transaction
from models.orders.card_payments import card_payment_in_progress
from models.orders.messages import tell_still_waiting
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import PENDING_PAYMENT
from models.orders.order import SHOP_CHANNEL

WAIT = datetime.timedelta(minutes=15)


def orders_waiting_for_their_email(now):
    """Unpaid shop card orders placed at least WAIT before `now` (naive UTC) with no email yet."""
    return (
        Order.select()
        .where(
            Order.placed_email_at.is_null()
            & (Order.status == PENDING_PAYMENT)
            & (Order.channel == SHOP_CHANNEL)
            & (Order.payment_method == CARD)
            & (Order.created_at <= now - WAIT)
        )
        .order_by(Order.id)
    )


def send_waiting_emails(now):
    """Email each card order still without an outcome WAIT after placing; returns how many went.

    `now` is timezone-aware (the tick's). Each order is its own transaction, after the
    provider was asked (outside it: a provider is never waited for while holding the write lock).
    """
    now = to_naive_utc(now) if now.tzinfo else now
    sent = 0
    for order in list(orders_waiting_for_their_email(now)):
        pending = card_payment_in_progress(order, now)  # may pay the order or fail the payment
        with write_transaction():
            fresh = Order.get_by_id(order.id)
            if fresh.status != PENDING_PAYMENT or fresh.placed_email_at is not None:
                continue  # paid, failed or cancelled meanwhile: that event sent its message
            if tell_still_waiting(fresh, pending, now) is not None:
                sent += 1
    return sent
