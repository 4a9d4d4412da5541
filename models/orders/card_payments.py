"""Paying an order's remainder by card: starting a payment, acting on the provider's answer exactly
once (paid, reinstated, or credited to funds when the order can no longer take it), asking the
provider again, and switching between card and bank transfer without ever paying twice.
"""

import datetime

from flask_babel import gettext
from peewee import IntegrityError

from models.base import db
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.cancelling import cancel_order
from models.orders.cancelling import reinstate
from models.orders.messages import tell_about_late_payment
from models.orders.messages import tell_card_failed
from models.orders.messages import tell_order_placed
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderPayment
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.orders.paid import mark_paid
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.settings import load_settings
from payments import configured_name as configured_provider
from payments import FAILED
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider
from payments import SUCCEEDED

RECONCILE_AFTER = datetime.timedelta(minutes=3)


def start_card_payment(order, idempotency_key, return_url=None):
    """Record a card payment for the order's remainder, then create it at the provider.

    The same form key returns the same payment. Only an unpaid order with a
    remainder can be paid by card; switching from bank transfer moves the due
    amount to card.
    """
    key = f"{order.user_id}:{idempotency_key}"
    payment = OrderPayment.get_or_none(OrderPayment.idempotency_key == key)
    if payment is None:
        payment = _still_open_payment(order)
    if payment is None:
        with write_transaction():
            order = Order.get_by_id(order.id)
            if order.status != PENDING_PAYMENT or not order.due:
                raise OrderError(gettext("This order has nothing left to pay."))
            if order.payment_method != CARD:
                Order.update(payment_method=CARD, card_amount=order.due, bank_amount=0).where(
                    Order.id == order.id
                ).execute()
            try:
                with db.atomic():
                    payment = OrderPayment.create(
                        order=order,
                        user=order.user_id,
                        amount=order.due,
                        currency=order.currency,
                        provider=configured_provider(),
                        idempotency_key=key,
                    )
            except IntegrityError:
                payment = OrderPayment.get(OrderPayment.idempotency_key == key)
    if payment.provider_payment_id is None and payment.state == PENDING:
        url = (return_url or _default_return_url)(payment)
        payment_id, redirect_url = payment_provider(payment.provider).create_payment(
            payment.amount, payment.currency, f"order-{order.number}", f"order-payment:{payment.id}", url
        )
        with write_transaction():
            OrderPayment.update(
                provider_payment_id=payment_id, redirect_url=redirect_url, updated_at=utcnow()
            ).where(OrderPayment.id == payment.id).execute()
        payment = OrderPayment.get_by_id(payment.id)
    return payment


def _still_open_payment(order):
    """An earlier card payment of the order the provider may still take: never start a second
    charge while one can succeed (ask the provider first; a decided one is acted on)."""
    earlier = (
        OrderPayment.select()
        .where((OrderPayment.order == order.id) & (OrderPayment.state == PENDING))
        .order_by(OrderPayment.id.desc())
        .first()
    )
    if earlier is None:
        return None
    earlier = refresh_card_payment(earlier)
    fresh = Order.get_by_id(order.id)
    if earlier.state == PENDING and earlier.amount == fresh.due and fresh.status == PENDING_PAYMENT:
        return earlier
    return None


def _default_return_url(payment):
    return absolute_url("orders.payment_status", order_id=payment.order_id, payment_id=payment.id)


def complete_card_payment(payment, now=None):
    """The provider says the payment succeeded: act on it exactly once; returns the fresh payment.

    Pays the unpaid order; reinstates a cancelled one if stock and the
    customer's funds allow; otherwise the money goes to the customer's funds.
    """
    now = now or utcnow()
    with write_transaction():
        payment = OrderPayment.get_by_id(payment.id)
        if payment.state == SUCCEEDED:
            return payment
        order = Order.get_by_id(payment.order_id)
        clearing = system_account(PROVIDER_CLEARING)
        outcome = "credited_to_funds"
        if order.status == CANCELLED:
            if reinstate(order, now):
                order = Order.get_by_id(order.id)
                outcome = "reinstated"
        if order.status == PENDING_PAYMENT and payment.amount == order.due:
            transfer(
                f"order-card:{payment.id}",
                "order_card",
                [
                    Leg(clearing, -payment.amount, "spend"),
                    Leg(system_account(SALES), payment.amount, "spend"),
                ],
                memo=f"Order {order.number} by card",
                actor=order.user,
                now=now,
            )
            # A reinstated order's email (order_late_payment) says it is paid: no receipt besides.
            mark_paid(order, None, now, "Card payment received", receipt=outcome != "reinstated")
            if outcome != "reinstated":
                outcome = "paid_order"
        else:
            outcome = "credited_to_funds"
            transfer(
                f"order-card-refund:{payment.id}",
                "order_card_refund",
                [
                    Leg(clearing, -payment.amount, "refund_in"),
                    Leg(account_for(order.user), payment.amount, "refund_in"),
                ],
                memo=f"Card payment for order {order.number}, which was {STATUS_WORDS[order.status]}",
                now=now,
            )
            record_event(
                order,
                order.status,
                order.status,
                None,
                f"Card payment of {format_money(payment.amount)} credited to account funds",
            )
        OrderPayment.update(state=SUCCEEDED, outcome=outcome, updated_at=now).where(
            OrderPayment.id == payment.id
        ).execute()
        if outcome in ("reinstated", "credited_to_funds"):
            tell_about_late_payment(Order.get_by_id(order.id), payment, outcome)
    return OrderPayment.get_by_id(payment.id)


def fail_card_payment(payment, now=None):
    """A pending payment failed. A succeeded one stays succeeded (`paid` is terminal).

    The order is kept; if nothing was emailed about it yet, the customer is told the payment
    didn't go through and how to pay (messages.py `tell_card_failed`), once.
    """
    now = now or utcnow()
    with write_transaction():
        failed = (
            OrderPayment.update(state=FAILED, updated_at=now)
            .where((OrderPayment.id == payment.id) & (OrderPayment.state == PENDING))
            .execute()
        )
        if failed:
            tell_card_failed(OrderPayment.get_by_id(payment.id), now)
    return OrderPayment.get_by_id(payment.id)


def apply_payment_status(payment, status, now=None):
    if status == SUCCEEDED:
        return complete_card_payment(payment, now)
    if status == FAILED:
        return fail_card_payment(payment, now)
    return OrderPayment.get_by_id(payment.id)


def refresh_card_payment(payment, now=None):
    if payment.state != PENDING or payment.provider_payment_id is None:
        return payment
    status = payment_provider(payment.provider).get_status(payment.provider_payment_id)
    return apply_payment_status(payment, status, now)


def order_payment_by(provider_name, provider_payment_id):
    """The order payment a provider's payment id belongs to, or None."""
    return OrderPayment.get_or_none(
        (OrderPayment.provider == provider_name) & (OrderPayment.provider_payment_id == provider_payment_id)
    )


def reconcile_order_payments(now):
    """Ask the provider about order payments still pending after a few minutes; returns how many changed."""
    cutoff = to_naive_utc(now) if now.tzinfo else now
    pending = OrderPayment.select().where(
        (OrderPayment.state == PENDING) & (OrderPayment.created_at <= cutoff - RECONCILE_AFTER)
    )
    changed = 0
    for payment in pending:
        if payment.provider_payment_id is None:
            continue
        try:
            status = payment_provider(payment.provider).get_status(payment.provider_payment_id)
        except PaymentError:
            continue
        if status != PENDING:
            apply_payment_status(payment, status, cutoff)
            changed += 1
    return changed


# A card payment row without the provider's id yet is a start still on its way to the
# provider for this long; after that nobody was ever sent to pay it, so it can't succeed.
CARD_START_GRACE = datetime.timedelta(minutes=2)


# A status in the ledger's memos, which stay in English (OrderStatus labels are for people).
STATUS_WORDS = {
    "pending_payment": "awaiting payment",
    "paid": "paid",
    "dispatched": "dispatched",
    "completed": "completed",
    "cancelled": "cancelled",
}


class CardPaymentPending(OrderError):
    """A card payment of the order may still succeed: no other way to pay until it is decided."""

    def __init__(self, payment=None):
        if payment is not None:
            message = gettext(
                "A card payment of %(amount)s for this order is being confirmed. You can choose bank "
                "transfer once it is decided, so you never pay twice.",
                amount=format_money(payment.amount),
            )
        else:
            message = gettext(
                "A card payment for this order is being confirmed. You can choose bank transfer once "
                "it is decided, so you never pay twice."
            )
        super().__init__(message)
        self.payment = payment


def _may_still_succeed(order, now):
    """The order's pending card payments for what it owes that someone may be paying right now."""
    return (
        OrderPayment.select()
        .where(
            (OrderPayment.order == order.id)
            & (OrderPayment.state == PENDING)
            & (OrderPayment.amount == order.due)
            & (
                OrderPayment.provider_payment_id.is_null(False)
                | (OrderPayment.created_at >= now - CARD_START_GRACE)
            )
        )
        .order_by(OrderPayment.id.desc())
    )


def card_payment_started(order, now=None):
    """A card payment someone may be paying right now, without asking the provider (inside a
    write transaction, after card_payment_in_progress asked it); None if there is none."""
    return _may_still_succeed(order, now or utcnow()).first()


def card_payment_in_progress(order, now=None):
    """The order's card payment that may still succeed, or None.

    As start_card_payment's `_still_open_payment` does, the provider is asked
    first, about every pending payment of the order (normally one at most): a
    payment it has decided is acted on here (the order paid, or the payment
    failed). A payment the provider can't be asked about stays pending and
    counts as in progress: unknown is never "failed".
    """
    now = now or utcnow()
    pending = OrderPayment.select().where(
        (OrderPayment.order == order.id)
        & (OrderPayment.state == PENDING)
        & OrderPayment.provider_payment_id.is_null(False)
    )
    for payment in list(pending.order_by(OrderPayment.id)):
        try:
            refresh_card_payment(payment)
        except PaymentError:
            pass
    fresh = Order.get_by_id(order.id)
    if fresh.status != PENDING_PAYMENT or not fresh.due:
        return None
    return _may_still_succeed(fresh, now).first()


def switch_to_bank(order, actor=None, now=None):
    """Pay the order's remainder by bank transfer instead of card; returns the fresh order.

    Idempotent: an order already waiting for a transfer comes back as it is.
    Refused with CardPaymentPending while a card payment may still succeed (the
    provider is asked first), and with OrderError when nothing is left to pay.
    """
    now = now or utcnow()
    order = Order.get_by_id(order.id)
    if order.status == PENDING_PAYMENT and order.payment_method == BANK and order.due:
        return order
    pending = card_payment_in_progress(order, now) if order.status == PENDING_PAYMENT else None
    if pending is not None:
        raise CardPaymentPending(pending)
    with write_transaction():
        order = Order.get_by_id(order.id)
        if order.status != PENDING_PAYMENT or not order.due:
            raise OrderError(gettext("This order has nothing left to pay."))
        if order.payment_method == BANK:
            return order
        if not load_settings().takes_bank_transfers:
            raise OrderError(
                gettext("The shop doesn't take bank transfers at the moment. Please pay by card.")
            )
        # A card payment started since the provider was asked (another tab): let it be decided first.
        started = _may_still_succeed(order, now).first()
        if started is not None:
            raise CardPaymentPending(started)
        Order.update(payment_method=BANK, bank_amount=order.due, card_amount=0).where(
            (Order.id == order.id) & (Order.status == PENDING_PAYMENT) & (Order.payment_method != BANK)
        ).execute()
        record_event(
            order, PENDING_PAYMENT, PENDING_PAYMENT, actor, "Payment method changed to bank transfer", now
        )
        tell_order_placed(order, now)  # the bank details, if no email about the order went yet
    return Order.get_by_id(order.id)


def pay_order_by_card(order, idempotency_key, return_url=None, actor=None, now=None):
    """start_card_payment (which moves a bank-transfer remainder to card), recording the switch."""
    was_bank = Order.get_by_id(order.id).payment_method == BANK
    payment = start_card_payment(order, idempotency_key, return_url)
    if was_bank and Order.get_by_id(order.id).payment_method == CARD:
        with write_transaction():
            record_event(
                order, PENDING_PAYMENT, PENDING_PAYMENT, actor, "Payment method changed to card", now
            )
    return payment


class CardPaymentBlocksCancel(OrderError):
    """The customer may not cancel: a card payment of the order may still succeed."""

    def __init__(self, payment):
        super().__init__(
            gettext(
                "Your card payment of %(amount)s for this order is being confirmed, so the order "
                "can't be cancelled now. If the payment doesn't go through, you can cancel the order "
                "then.",
                amount=format_money(payment.amount),
            )
        )
        self.payment = payment


def cancel_by_customer(order, customer, now=None):
    """The customer cancels their unpaid order; returns True if it changed (False: it was paid or
    cancelled already).

    Refused with CardPaymentBlocksCancel while a card payment of the order may still succeed:
    cancelling then would be undone by the payment (the order reinstated and charged). The
    provider is asked first, as for switch_to_bank; a payment it has decided is acted on (a paid
    order is then no longer cancellable, a failed payment no longer blocks).
    """
    now = now or utcnow()
    order = Order.get_by_id(order.id)
    if order.status == PENDING_PAYMENT:
        pending = card_payment_in_progress(order, now)
        if pending is not None:
            raise CardPaymentBlocksCancel(pending)
    with write_transaction():
        order = Order.get_by_id(order.id)
        # A card payment started since the provider was asked (another tab): let it be decided first.
        started = _may_still_succeed(order, now).first() if order.status == PENDING_PAYMENT else None
        if started is not None:
            raise CardPaymentBlocksCancel(started)
        return cancel_order(order, customer, "Cancelled by you", now=now)
