"""Orders on the tick: cancel unpaid orders whose time is up (the shop's auto_cancel_hours), ask
the provider about card payments still pending, and again about card refunds whose answer is
unknown; the "waiting for payment" email of card orders with no outcome 15 minutes after placing;
the owner's daily digest of new orders."""

from models.orders.cancelling import auto_cancel_due
from models.orders.card_payments import reconcile_order_payments
from models.orders.owner_emails import send_new_order_digest
from models.orders.waiting_email import send_waiting_emails
from models.refunds.orders import retry_pending_card_refunds


def cancel_unpaid_orders(now):
    return auto_cancel_due(now)


def retry_order_card_refunds(now):
    return retry_pending_card_refunds(now)


def reconcile_pending_order_payments(now):
    return reconcile_order_payments(now)


def email_orders_without_payment_outcome(now):
    return send_waiting_emails(now)


def new_order_digest(now):
    return send_new_order_digest(now)
