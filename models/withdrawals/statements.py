"""The withdrawal statement: what the customer may choose, and recording it.

A statement names the customer, the order, the lines and quantities withdrawn, the email
address the acknowledgement goes to and where the refund goes (back the way they paid, the
default, or to their account funds). Nothing is saved before the customer confirms it; the
confirmation carries a key made when the summary was shown, so a double click records one
statement. Recording it adds an order event, emails the acknowledgement at once (the statement
repeated, its date and time in the shop's time zone, what happens next) and tells the owner
(the shop's contact address), all in one transaction.

A line may be chosen when its product wasn't excluded from the right of withdrawal when ordered
(`OrderLine.withdrawal_exclusion`) and some of its quantity isn't in an earlier statement.
"""

import datetime
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import record_event
from models.orders.withdrawal_period import withdrawal_open
from models.refunds.orders import DESTINATIONS
from models.refunds.orders import OrderRefund
from models.refunds.orders import TO_ORIGINAL
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import load_settings
from models.storefront.catalog import WITHDRAWAL_EXCLUSIONS
from models.users.user import User

RECEIVED, REFUNDED = "received", "refunded"
NAME_MAX = 120
REFUND_DAYS = 14  # the shop refunds within 14 days of the statement (models/withdrawals/refunds.py)


class Withdrawal(BaseModel):
    order = ForeignKeyField(Order, on_delete="RESTRICT", index=True, backref="withdrawals")
    name = CharField()
    email = CharField()
    destination = CharField(default=TO_ORIGINAL)  # models/refunds/orders.py DESTINATIONS
    stated_at = DateTimeField(default=utcnow, index=True)
    state = CharField(default=RECEIVED, index=True)  # received | refunded
    refund = ForeignKeyField(OrderRefund, null=True, on_delete="RESTRICT")
    refunded_at = DateTimeField(null=True)
    idempotency_key = CharField(unique=True)

    class Meta:
        table_name = "withdrawal"

    @property
    def refund_due(self):
        """The last moment (naive UTC) to refund: 14 days after the statement."""
        return self.stated_at + datetime.timedelta(days=REFUND_DAYS)


class WithdrawalLine(BaseModel):
    withdrawal = ForeignKeyField(Withdrawal, on_delete="CASCADE", index=True, backref="lines")
    order_line = ForeignKeyField(OrderLine, on_delete="RESTRICT", index=True)
    quantity = IntegerField()

    class Meta:
        table_name = "withdrawal_line"


class WithdrawalError(Exception):
    """A statement that can't be recorded as it stands; the message is for the customer."""


@dataclass(frozen=True)
class Choice:
    """One product line of the order as the statement offers it."""

    line: OrderLine
    available: int  # the quantity not withdrawn yet
    excluded: object  # why it can't be chosen (lazy text), or None

    @property
    def choosable(self):
        return self.excluded is None and self.available > 0


def withdrawn_quantities(order):
    """{order line id: quantity in the order's statements so far}."""
    rows = (
        WithdrawalLine.select(WithdrawalLine.order_line, fn.SUM(WithdrawalLine.quantity).alias("done"))
        .join(Withdrawal)
        .where(Withdrawal.order == order.id)
        .group_by(WithdrawalLine.order_line)
        .tuples()
    )
    return dict(rows)


def choosable_lines(order):
    """[Choice] for each product line of the order, in the order they were added."""
    done = withdrawn_quantities(order)
    lines = order.lines.where(OrderLine.kind == "product").order_by(OrderLine.id)
    return [
        Choice(
            line=line,
            available=line.quantity - done.get(line.id, 0),
            excluded=WITHDRAWAL_EXCLUSIONS.get(line.withdrawal_exclusion, line.withdrawal_exclusion or None),
        )
        for line in lines
    ]


def can_withdraw(order, now=None):
    """Whether the customer can withdraw from (some of) the order now."""
    return withdrawal_open(order, now) and any(choice.choosable for choice in choosable_lines(order))


def withdrawals_of(order):
    return list(Withdrawal.select().where(Withdrawal.order == order.id).order_by(Withdrawal.id))


def statement_lines(withdrawal):
    """[(order line, quantity)] of a statement."""
    rows = withdrawal.lines.join(OrderLine).order_by(OrderLine.id)
    return [(row.order_line, row.quantity) for row in rows]


def checked_items(order, items):
    """`items` ({order line id: quantity}) as [(Choice, quantity)], or WithdrawalError."""
    choices = {choice.line.id: choice for choice in choosable_lines(order)}
    chosen = []
    for line_id, quantity in items.items():
        choice = choices.get(line_id)
        if choice is None or not choice.choosable or not 0 < quantity <= choice.available:
            raise WithdrawalError(
                gettext("Choose the items to withdraw from the list, with their quantities.")
            )
        chosen.append((choice, quantity))
    if not chosen:
        raise WithdrawalError(gettext("Choose at least one item to withdraw."))
    return sorted(chosen, key=lambda pair: pair[0].line.id)


def record_withdrawal(order, name, email, items, destination, key, now=None):
    """Record the confirmed statement; returns the Withdrawal (the first one again for a key
    already used). Raises WithdrawalError when the period has closed or the items can't be chosen."""
    now = now or utcnow()
    with write_transaction():
        earlier = Withdrawal.get_or_none(Withdrawal.idempotency_key == key)
        if earlier is not None:
            return earlier
        order = Order.get_by_id(order.id)
        if not withdrawal_open(order, now):
            raise WithdrawalError(gettext("The time to withdraw from this order has passed."))
        chosen = checked_items(order, items)
        withdrawal = Withdrawal.create(
            order=order,
            name=name,
            email=email,
            destination=destination if destination in DESTINATIONS else TO_ORIGINAL,
            stated_at=now,
            idempotency_key=key,
        )
        for choice, quantity in chosen:
            WithdrawalLine.create(withdrawal=withdrawal, order_line=choice.line.id, quantity=quantity)
        customer = User.get_by_id(order.user_id)
        record_event(order, order.status, order.status, customer, "Withdrawal received", now)
        audit(
            customer,
            "withdrawal_received",
            f"order {order.number}",
            after={"withdrawal": withdrawal.id, "lines": {c.line.id: q for c, q in chosen}},
        )
        _acknowledge(order, withdrawal)
        _tell_owner(order, withdrawal)
    return withdrawal


def _acknowledge(order, withdrawal):
    """The acknowledgement, at once, to the address in the statement, in the order's language."""
    send_templated(
        withdrawal.email,
        "order_withdrawal",
        lazy_gettext("Order %(number)s: we received your withdrawal", number=order.number),
        "order_withdrawal",
        language=order.language or None,
        order=order,
        withdrawal=withdrawal,
        withdrawn=statement_lines(withdrawal),
        order_url=absolute_url("orders.show", order_id=order.id),
    )


def _tell_owner(order, withdrawal):
    settings = load_settings()
    if not settings.contact_email:
        return
    send_templated(
        settings.contact_email,
        "order_withdrawal_owner",
        lazy_gettext("Withdrawal from order %(number)s", number=order.number),
        "order_withdrawal_owner",
        order=order,
        withdrawal=withdrawal,
        withdrawn=statement_lines(withdrawal),
        approvals_url=absolute_url("admin.approvals.index"),
    )
