"""Paying an unpaid order from the account later: funds (with their discount) and credit.

The checkout's rules, applied to what is still due: `quote` (models/orders/breakdown.py) on the
order's remainder gives the funds it may use, the discount those funds earn on the part they pay,
and the credit for the rest if the customer asks. The order's figures grow by that breakdown
(funds and credit used, discount, a smaller total and remainder), its discount line with them,
and the money is held like the checkout's hold: one more `order_hold` journal of the same round,
captured or released with the others (models/orders/paid.py, cancelling.py use `order.held`).
When nothing is left to pay, the order is paid now.

Only the order's customer, signed in, pays from their account; never while a card payment may
still succeed (it would pay the same remainder twice).
"""

from flask_babel import gettext

from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import customer_account
from models.funds.ledger import Declined
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import settings_for
from models.orders.breakdown import quote
from models.orders.card_payments import card_payment_in_progress
from models.orders.card_payments import card_payment_started
from models.orders.card_payments import CardPaymentPending
from models.orders.order import add_funds_discount
from models.orders.order import BANK
from models.orders.order import FUNDS
from models.orders.order import hold_key
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.orders.paid import mark_paid
from models.orders.vat import record_order_vat
from models.shop.language import format_money


def account_quote(order, funds_wanted=None, use_credit=False):
    """The breakdown of what is still due on `order` if its customer pays from their account now.
    Raises OrderError(field=…) like the checkout.

    Only goods can earn the funds discount (breakdown.py): the goods in what is due are those
    funds have not covered yet (funds pay goods first: covered value = funds used + discount), at
    most what is due; the rest of it is delivery, paid at face value."""
    goods = min(order.due, max(0, order.subtotal - order.funds_discount - order.funds_used))
    return quote(order.user, goods, funds_wanted, use_credit, delivery=order.due - goods)


def can_pay_from_account(order):
    """Whether the customer has funds or credit that could pay part of this unpaid order.
    Only reads: a customer without a ledger account has neither."""
    if order.status != PENDING_PAYMENT or not order.due or not settings_for(order.user).may_transact:
        return False
    if customer_account(order.user) is None:
        return False
    breakdown = account_quote(order)
    return bool(breakdown.funds_max or breakdown.credit_available)


def payment_key(order, idempotency_key):
    """The hold journal's key: one per form, so a second click or tab pays once."""
    return f"{hold_key(order, 'hold')}/{idempotency_key}"


def pay_from_account(order, idempotency_key, funds_wanted=None, use_credit=False, now=None):
    """Pay part or all of an unpaid order from the customer's funds and credit; the fresh order.

    Raises OrderError (with the field to show it at) when the order can't be paid this way now,
    CardPaymentPending while a card payment for it may still succeed.
    """
    now = now or utcnow()
    key = payment_key(order, idempotency_key)
    if Journal.select().where(Journal.idempotency_key == key).exists():
        return Order.get_by_id(order.id)  # this form was sent already
    if not settings_for(order.user).may_transact:
        raise OrderError(gettext("Your account can't pay orders right now. Please contact the shop."))
    pending = card_payment_in_progress(order, now)  # asks the provider; may pay the order
    if pending is not None:
        raise CardPaymentPending(pending)
    try:
        with write_transaction():
            fresh = Order.get_by_id(order.id)
            if Journal.select().where(Journal.idempotency_key == key).exists():
                return fresh  # the same form, sent twice at once: the first one paid
            if fresh.status != PENDING_PAYMENT or not fresh.due:
                raise OrderError(gettext("This order has nothing left to pay."))
            started = card_payment_started(fresh, now)  # in another tab since the provider was asked
            if started is not None:
                raise CardPaymentPending(started)
            breakdown = account_quote(fresh, funds_wanted, use_credit)
            from_account = breakdown.paid_from_account
            if not from_account:
                raise OrderError(
                    gettext("Enter an amount of funds to use, or choose to pay on account."), "funds"
                )
            _apply(fresh, breakdown, now)
            transfer(
                key,
                "order_hold",
                [
                    Leg(account_for(fresh.user), -from_account, "hold"),
                    Leg(system_account(FUNDS_ON_HOLD), from_account, "hold"),
                ],
                memo=f"Order {fresh.number} (on hold)",
                actor=fresh.user,
                now=now,
            )
            paid = Order.get_by_id(fresh.id)
            if not paid.due:
                mark_paid(paid, paid.user, now, "Paid from your account")
    except Declined:
        raise OrderError(
            gettext("Your balance has just changed. Please check the amounts and try again."), "funds"
        ) from None
    return Order.get_by_id(order.id)


def _apply(order, breakdown, now):
    """The order's figures after paying `breakdown` from the account; refused if it changed."""
    rest = breakdown.remainder
    changed = (
        Order.update(
            funds_used=Order.funds_used + breakdown.funds_used,
            credit_used=Order.credit_used + breakdown.credit_used,
            funds_discount=Order.funds_discount + breakdown.discount,
            total=Order.total - breakdown.discount,
            card_amount=rest if order.payment_method != BANK else 0,
            bank_amount=rest if order.payment_method == BANK else 0,
            payment_method=order.payment_method if rest else FUNDS,
            auto_cancel_at=order.auto_cancel_at if rest else None,
        )
        .where(
            (Order.id == order.id)
            & (Order.status == PENDING_PAYMENT)
            & (Order.card_amount == order.card_amount)
            & (Order.bank_amount == order.bank_amount)
        )
        .execute()
    )
    if not changed:
        raise OrderError(gettext("This order changed a moment ago. Please check it again."))
    if breakdown.discount:
        add_funds_discount(order, breakdown.discount, breakdown.discount_bp)
        record_order_vat(order)  # a smaller total: the same rates, shared again
    parts = [f"{format_money(breakdown.funds_used)} from account funds"] if breakdown.funds_used else []
    if breakdown.credit_used:
        parts.append(f"{format_money(breakdown.credit_used)} on account")
    record_event(order, PENDING_PAYMENT, PENDING_PAYMENT, order.user, "Paid " + " and ".join(parts), now)
