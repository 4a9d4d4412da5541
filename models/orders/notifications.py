"""A payment provider's signed notification: verified, then acted on by the payment it names.

The payment is a top-up (models/funds/top_ups.py) or an order's card payment
(card_payments.py); either acts on the status exactly once. A notification that names no
payment of ours, or another amount or currency, moves no money.
"""

from models.funds.top_ups import apply_status
from models.funds.top_ups import top_up_paid_by
from models.orders.card_payments import apply_payment_status
from models.orders.card_payments import order_payment_by
from payments import PaymentError
from payments import provider as payment_provider


class NotificationRejected(Exception):
    """A notification that moves no money (answered 400)."""


def handle_notification(provider_name, body, signature):
    """Verify a provider's notification and act on the top-up or order payment it names."""
    try:
        event = payment_provider(provider_name).verify_notification(body, signature)
    except PaymentError as error:
        raise NotificationRejected(str(error)) from None
    top_up = top_up_paid_by(provider_name, event.provider_payment_id)
    if top_up is not None:
        _check_amount(top_up, event)
        return apply_status(top_up, event.status)
    payment = order_payment_by(provider_name, event.provider_payment_id)
    if payment is not None:
        _check_amount(payment, event)
        return apply_payment_status(payment, event.status)
    raise NotificationRejected("unknown payment")


def _check_amount(payment, event):
    if event.amount != payment.amount or event.currency != payment.currency:
        raise NotificationRejected("amount or currency mismatch")
