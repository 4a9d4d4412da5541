"""Refunds of paid orders, full or partial, to the customer's funds or to how they paid.

What an order refund takes back
    A paid order was paid in up to four parts: funds (positive balance),
    credit (below zero), card and bank transfer. Each refund is split across
    the parts still unrefunded, in proportion to what is left of each
    (largest remainder, so the parts add up to the refund to the cent and
    none ever goes beyond what that part paid); a refund of everything left
    gives every part back exactly. The funds discount is not refunded: the
    customer gets back what they paid, never more.

Where it goes
    - To funds: everything goes into the customer's account (credit used is
      paid back first, as any money into the account is).
    - To how they paid: the funds and credit parts go back into the account,
      the card part back to the card through the payment provider, and the
      bank part is for the shop to pay back by bank transfer (the owner is
      reminded on the order page; the ledger moves it to BANK_TRANSFERS).

The affiliate reward the order earned (if it was the referred customer's first paid
shop order) is taken back, once, when the order is refunded in full or cancelled after
payment, in the same transaction: models/refunds/gifts.py. A partial refund leaves it.

Money (through models/funds/ledger.py): one journal per refund [order-refund:<id>],
REFUNDS → customer (`refund_in`), → PROVIDER_CLEARING and → BANK_TRANSFERS
(`refund_out`). The order's `refunded` total is raised in the same
transaction by a conditional update, so two owners refunding at once can
never refund more than was paid.

A card refund follows the funds refunds' rules (models/refunds/top_ups.py): the
provider is asked under the key `order-refund:<id>` after the money has left
the books; refused → a correcting journal [order-refund-reversed:<id>] puts
the card part back and it can be refunded again; no answer → it stays
"being confirmed" and the jobs tick asks again.
"""

import datetime
import logging

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.credit import BANK_TRANSFERS
from models.funds.customer_accounts import account_for
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import REFUNDS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.messages import mail_customer
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.refunds.credit_notes import issue_credit_note
from models.refunds.gifts import CANCELLED_AFTER_PAYMENT
from models.refunds.gifts import REFUNDED_IN_FULL
from models.refunds.gifts import take_back_reward
from models.shop.audit import audit
from models.shop.language import format_money
from models.storefront.catalog import Product
from models.users.user import User
from payments import FAILED
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider
from payments import SUCCEEDED

log = logging.getLogger("shop.order_refunds")

TO_FUNDS = "funds"
TO_ORIGINAL = "original"
DESTINATIONS = (TO_FUNDS, TO_ORIGINAL)
PARTS = ("funds", "credit", "card", "bank")
RETRY_AFTER = datetime.timedelta(minutes=1)


class OrderRefund(BaseModel):
    order = ForeignKeyField(Order, on_delete="RESTRICT", index=True, backref="refunds")
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
    amount = IntegerField()
    destination = CharField()
    to_account = IntegerField(default=0)
    to_card = IntegerField(default=0)
    to_bank = IntegerField(default=0)
    funds_part = IntegerField(default=0)
    credit_part = IntegerField(default=0)
    card_part = IntegerField(default=0)
    bank_part = IntegerField(default=0)
    card_payment = ForeignKeyField(OrderPayment, null=True, on_delete="RESTRICT")
    card_state = CharField(default="")  # "" (no card refund) | pending | succeeded | failed
    provider_refund_id = CharField(null=True)
    failure = TextField(default="")
    attempts = IntegerField(default=0)
    last_attempt_at = DateTimeField(null=True)
    note = TextField(default="")
    idempotency_key = CharField(unique=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "order_refund"

    @property
    def journal_key(self):
        return f"order-refund:{self.id}"


class OrderRefundError(Exception):
    """A refund that cannot be made; nothing moved. The message is for the owner."""


# Reading ------------------------------------------------------------------------------


def card_payment_of(order):
    """The card payment that paid the order, or None."""
    return (
        OrderPayment.select()
        .where(
            (OrderPayment.order == order.id)
            & (OrderPayment.state == SUCCEEDED)
            & OrderPayment.outcome.in_(("paid_order", "reinstated"))
        )
        .order_by(OrderPayment.id.desc())
        .first()
    )


def paid_parts(order):
    """{part: amount} of what the shop received for the order (nothing for an unpaid order)."""
    if order.paid_at is None:
        return dict.fromkeys(PARTS, 0)
    card = order.card_amount if order.card_amount and card_payment_of(order) is not None else 0
    return {"funds": order.funds_used, "credit": order.credit_used, "card": card, "bank": order.bank_amount}


def refunded_parts(order):
    """{part: amount} already refunded (a card part the provider refused doesn't count)."""
    totals = dict.fromkeys(PARTS, 0)
    for refund in OrderRefund.select().where(OrderRefund.order == order.id):
        totals["funds"] += refund.funds_part
        totals["credit"] += refund.credit_part
        totals["bank"] += refund.bank_part
        if refund.card_state != FAILED:
            totals["card"] += refund.card_part
    return totals


def left_to_refund(order):
    """{part: amount} still refundable."""
    paid, done = paid_parts(order), refunded_parts(order)
    return {part: paid[part] - done[part] for part in PARTS}


def refundable(order):
    return sum(left_to_refund(order).values())


def refunds_of(order):
    return list(OrderRefund.select().where(OrderRefund.order == order.id).order_by(OrderRefund.id))


def split(amount, left):
    """`amount` split across the parts in proportion to what is left of each (largest remainder).

    Every share is at most what is left of its part, and the shares add up to `amount`.
    """
    total = sum(left.values())
    if not 0 < amount <= total:
        raise ValueError("amount must be above zero and at most what is left")
    shares = {part: left[part] * amount // total for part in PARTS}
    remainders = sorted(PARTS, key=lambda part: (-(left[part] * amount % total), PARTS.index(part)))
    for part in remainders[: amount - sum(shares.values())]:
        shares[part] += 1
    return shares


# Refunding ----------------------------------------------------------------------------


def refund_order(order, amount, destination, note, actor, idempotency_key, now=None):
    """Refund `amount` of a paid order; returns the OrderRefund.

    The same key returns the same refund and moves nothing twice. Raises
    OrderRefundError (nothing moved) for an unpaid order, a marketplace order
    or an amount beyond what is left.
    """
    now = now or utcnow()
    key = f"order:{order.id}:{idempotency_key}"
    refund = OrderRefund.get_or_none(OrderRefund.idempotency_key == key)
    if refund is None:
        try:
            refund = _record_refund(order, amount, destination, note, actor, key, now)
        except IntegrityError:  # the same key from a twin request (PostgreSQL doesn't queue at BEGIN)
            refund = OrderRefund.get_or_none(OrderRefund.idempotency_key == key)
            if refund is None:
                raise
    if refund.card_state == PENDING:
        refund = ask_provider(refund, now)
    return refund


def _check(order, amount, destination):
    if destination not in DESTINATIONS:
        raise OrderRefundError(gettext("Choose where the money goes back to."))
    if order.channel != "shop":
        raise OrderRefundError(
            gettext(
                "This order was paid on %(channel)s: refund it there, where the customer paid.",
                channel=order.channel,
            )
        )
    if order.paid_at is None or order.status == PENDING_PAYMENT:
        raise OrderRefundError(
            gettext("This order isn't paid, so there is nothing to refund. Cancel it instead.")
        )
    if amount <= 0:
        raise OrderRefundError(gettext("Enter an amount above zero."))
    left = refundable(order)
    if amount > left:
        raise OrderRefundError(
            gettext("At most %(amount)s of this order is left to refund.", amount=format_money(left))
            if left
            else gettext("This order has been refunded in full already.")
        )


def _record_refund(order, amount, destination, note, actor, key, now):
    with write_transaction():
        earlier = OrderRefund.get_or_none(OrderRefund.idempotency_key == key)
        if earlier is not None:
            return earlier
        order = Order.get_by_id(order.id)
        _check(order, amount, destination)
        shares = split(amount, left_to_refund(order))
        to_card = shares["card"] if destination == TO_ORIGINAL else 0
        to_bank = shares["bank"] if destination == TO_ORIGINAL else 0
        refund = OrderRefund.create(
            order=order,
            user=order.user_id,
            amount=amount,
            destination=destination,
            to_account=amount - to_card - to_bank,
            to_card=to_card,
            to_bank=to_bank,
            funds_part=shares["funds"],
            credit_part=shares["credit"],
            card_part=shares["card"],
            bank_part=shares["bank"],
            card_payment=card_payment_of(order) if to_card else None,
            card_state=PENDING if to_card else "",
            note=note,
            idempotency_key=key,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        raised = (
            Order.update(refunded=Order.refunded + amount)
            .where((Order.id == order.id) & (Order.refunded + amount <= Order.total))
            .execute()
        )
        if not raised:
            raise OrderRefundError(
                gettext("This order was refunded meanwhile. Check what is left and try again.")
            )
        transfer(
            refund.journal_key, "order_refund", _legs(order, refund), memo=_memo(order), actor=actor, now=now
        )
        record_event(order, order.status, order.status, actor, _describe(refund), now)
        if not to_card:  # made now; a card part waits for the provider (credit_notes.py)
            issue_credit_note(refund, amount, now)
        if refundable(Order.get_by_id(order.id)) == 0:
            why = CANCELLED_AFTER_PAYMENT if order.status == CANCELLED else REFUNDED_IN_FULL
            take_back_reward(order, why, actor, now)
        audit(
            actor,
            "order_refunded",
            f"order {order.number}",
            after={"refund": refund.id, "amount": amount, "destination": destination, "note": note},
        )
        mail_customer(
            Order.get_by_id(order.id),
            "order_refunded",
            lazy_gettext("Order %(number)s: refund", number=order.number),
            refund=refund,
        )
    return refund


def _legs(order, refund):
    legs = [Leg(system_account(REFUNDS), -refund.amount, "refund_out")]
    if refund.to_account:
        legs.append(Leg(account_for(order.user), refund.to_account, "refund_in"))
    if refund.to_card:
        legs.append(Leg(system_account(PROVIDER_CLEARING), refund.to_card, "refund_out"))
    if refund.to_bank:
        legs.append(Leg(system_account(BANK_TRANSFERS), refund.to_bank, "refund_out"))
    return legs


def _memo(order):
    return f"Refund for order {order.number}"


def _describe(refund):
    parts = []
    if refund.to_account:
        parts.append(f"{format_money(refund.to_account)} to account funds")
    if refund.to_card:
        parts.append(f"{format_money(refund.to_card)} to the card")
    if refund.to_bank:
        parts.append(f"{format_money(refund.to_bank)} to be paid back by bank transfer")
    text = f"Refund of {format_money(refund.amount)}: " + ", ".join(parts)
    return text + (f". Note: {refund.note}" if refund.note else "")


# The card part -------------------------------------------------------------------------


def ask_provider(refund, now=None):
    """Ask the provider to refund the card part (same key every time) and settle on its answer."""
    now = now or utcnow()
    with write_transaction():
        OrderRefund.update(attempts=OrderRefund.attempts + 1, last_attempt_at=now).where(
            OrderRefund.id == refund.id
        ).execute()
    payment = OrderPayment.get_by_id(refund.card_payment_id)
    try:
        provider_refund_id = payment_provider(payment.provider).refund(
            payment.provider_payment_id, refund.to_card, refund.journal_key
        )
    except PaymentError as error:
        return _card_refused(refund, str(error) or "The provider refused the refund.", now)
    except Exception:
        log.exception(
            "order refund %s: no answer from the provider; it stays pending and is retried", refund.id
        )
        return OrderRefund.get_by_id(refund.id)
    with write_transaction():
        settled = (
            OrderRefund.update(
                card_state=SUCCEEDED, provider_refund_id=str(provider_refund_id), updated_at=now
            )
            .where((OrderRefund.id == refund.id) & (OrderRefund.card_state == PENDING))
            .execute()
        )
        if settled:
            issue_credit_note(refund, refund.amount, now)
    return OrderRefund.get_by_id(refund.id)


def _card_refused(refund, reason, now):
    """The provider said no: the card part goes back on the books and may be refunded again."""
    with write_transaction():
        fresh = OrderRefund.get_by_id(refund.id)
        if fresh.card_state != PENDING:
            return fresh
        transfer(
            f"order-refund-reversed:{fresh.id}",
            "order_refund_failed",
            [
                Leg(system_account(PROVIDER_CLEARING), -fresh.to_card, "refund_out"),
                Leg(system_account(REFUNDS), fresh.to_card, "refund_out"),
            ],
            memo=f"Card refund for order {fresh.order.number} didn't go through",
            corrects=Journal.get(Journal.idempotency_key == fresh.journal_key),
            now=now,
        )
        Order.update(refunded=Order.refunded - fresh.to_card).where(Order.id == fresh.order_id).execute()
        OrderRefund.update(card_state=FAILED, failure=reason[:500], updated_at=now).where(
            OrderRefund.id == fresh.id
        ).execute()
        issue_credit_note(fresh, fresh.amount - fresh.to_card, now)  # what did go back, if anything
        record_event(
            fresh.order,
            fresh.order.status,
            fresh.order.status,
            None,
            f"The card refund of {format_money(fresh.to_card)} was refused by the payment provider: {reason[:200]}",
            now,
        )
    return OrderRefund.get_by_id(refund.id)


def retry_pending_card_refunds(now):
    """Ask the provider again about card refunds whose answer is unknown; returns how many settled."""
    now = now.astimezone(datetime.UTC).replace(tzinfo=None) if now.tzinfo else now
    due = OrderRefund.select().where(
        (OrderRefund.card_state == PENDING)
        & (OrderRefund.last_attempt_at.is_null() | (OrderRefund.last_attempt_at <= now - RETRY_AFTER))
    )
    return sum(
        ask_provider(refund, now).card_state != PENDING for refund in list(due.order_by(OrderRefund.id))
    )


# Cancelling a paid order ----------------------------------------------------------------


def cancel_paid_order(order, destination, note, actor, idempotency_key, now=None):
    """Cancel a paid, not yet dispatched order: refund what is left, put the stock back."""
    now = now or utcnow()
    key = f"order:{order.id}:cancel:{idempotency_key}"
    with write_transaction():
        earlier = OrderRefund.get_or_none(OrderRefund.idempotency_key == key)
        if earlier is not None:  # a double click: the first one cancelled and refunded
            return earlier
        order = Order.get_by_id(order.id)
        if order.status != PAID:
            raise OrderRefundError(
                gettext(
                    "Only a paid order that hasn't been dispatched can be cancelled this way (this one "
                    "is %(status)s).",
                    status=str(order.status_label).lower(),
                )
            )
        Order.update(status=CANCELLED, cancelled_at=now).where(Order.id == order.id).execute()
        for line in order.lines.where(OrderLine.kind == "product"):
            Product.update(stock=Product.stock + line.quantity).where(Product.id == line.product_id).execute()
        record_event(order, PAID, CANCELLED, actor, note or "Cancelled by the shop", now)
        order = Order.get_by_id(order.id)
        left = refundable(order)
        refund = None
        if left:  # the refund's email tells the customer the order is cancelled
            refund = _record_refund(order, left, destination, note, actor, key, now)
        take_back_reward(
            order, CANCELLED_AFTER_PAYMENT, actor, now
        )  # once: the refund may have taken it back
    if refund is not None and refund.card_state == PENDING:
        refund = ask_provider(refund, now)
    return refund
