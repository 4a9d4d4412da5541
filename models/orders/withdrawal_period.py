"""How long a customer may withdraw from an order (the EU right of withdrawal, Directive 2011/83/EU
as amended by Directive (EU) 2023/2673), and the emailed link to the withdrawal function.

The period, in one place (`withdrawal_deadline`, `withdrawal_open`):

- It opens when the order is paid (a shop order; marketplace orders are withdrawn on the
  marketplace) and stays open while the order is on its way.
- It ends 14 days after delivery, at the end of that day in the shop's time zone: delivery is
  when the owner marked the order delivered (a pickup: collected; `Order.delivered_at`, set by
  fulfilment.complete). An order dispatched but never marked delivered counts as delivered the
  delivery method's longest delivery time after dispatch (`Order.delivery_max_days`, copied from
  the method at placing); with no method, or a method without that number, 30 days, the longest
  delivery the Consumer Rights Directive (Article 18) allows unless agreed otherwise.
- A cancelled order has nothing to withdraw from.

Which lines may be withdrawn (excluded products, what was withdrawn already) and the statement
itself: models/withdrawals/.

The link: one signed link per order (the order id and its customer's id, under its own salt,
like the pay link in pay_link.py), in the receipt and the dispatch email. It opens the statement
pre-filled without signing in, for as long as the period is open.
"""

import datetime

from itsdangerous import BadData

from models.base import as_aware_utc
from models.base import to_naive_utc
from models.base import utcnow
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.orders.order import PENDING_PAYMENT
from models.orders.order import SHOP_CHANNEL
from models.shop.mail import absolute_url
from models.shop.settings import load_settings
from models.signing import serializer

PERIOD_DAYS = 14
FALLBACK_DELIVERY_DAYS = 30
LINK_SALT = "order-withdrawal-link"


def delivered_or_presumed(order):
    """When the order was delivered, or is taken to be (dispatch + the longest delivery time);
    None while it hasn't been dispatched."""
    if order.delivered_at is not None:
        return order.delivered_at
    if order.dispatched_at is not None:
        days = order.delivery_max_days or FALLBACK_DELIVERY_DAYS
        return order.dispatched_at + datetime.timedelta(days=days)
    return None


def last_day(order):
    """The period's last day (the shop's date): the 14th after delivery; None before dispatch."""
    start = delivered_or_presumed(order)
    if start is None:
        return None
    return as_aware_utc(start).astimezone(load_settings().tz).date() + datetime.timedelta(days=PERIOD_DAYS)


def withdrawal_deadline(order):
    """The first instant (naive UTC) after the period: midnight, shop time, ending its last day.
    None while the order hasn't been dispatched (the period hasn't started)."""
    day = last_day(order)
    if day is None:
        return None
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time(), tzinfo=load_settings().tz
    )
    return to_naive_utc(end)


def may_be_withdrawn(order):
    """Whether the order is one a customer can withdraw from at all: a paid shop order, not cancelled."""
    return (
        order.channel == SHOP_CHANNEL
        and order.paid_at is not None
        and order.status not in (PENDING_PAYMENT, CANCELLED)
    )


def withdrawal_open(order, now=None):
    """Whether the withdrawal period of `order` is open at `now` (naive UTC)."""
    if not may_be_withdrawn(order):
        return False
    deadline = withdrawal_deadline(order)
    return deadline is None or (now or utcnow()) < deadline


def period_closed(order, now=None):
    """True once a withdrawable order's period has passed (the "too late" page, not "not found")."""
    return may_be_withdrawn(order) and not withdrawal_open(order, now)


# The emailed link ----------------------------------------------------------------------


def withdrawal_token(order):
    return serializer(LINK_SALT).dumps([order.id, order.user_id])


def order_for_withdrawal_token(token):
    """The order a withdrawal token names, or None for a token that isn't one of ours."""
    if not token or len(token) > 200:
        return None
    try:
        order_id, user_id = serializer(LINK_SALT).loads(token)
    except (BadData, TypeError, ValueError):
        return None
    if not all(type(value) is int for value in (order_id, user_id)):
        return None
    return Order.get_or_none((Order.id == order_id) & (Order.user == user_id))


def withdrawal_link(order):
    """The absolute URL of the order's withdrawal statement, or None when there is nothing the
    customer could withdraw (closed, or only excluded goods)."""
    if not withdrawal_open(order) or not any(
        line.kind == "product" and not line.withdrawal_exclusion for line in order.lines
    ):
        return None
    return absolute_url("withdrawal.statement", token=withdrawal_token(order))
