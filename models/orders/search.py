"""Finding orders for the owner's orders list: by status, channel, period and customer, with totals."""

import datetime
import operator
from dataclasses import dataclass
from functools import reduce

from flask_babel import lazy_gettext
from peewee import fn
from peewee import JOIN

from models.orders.order import Order
from models.users.user import User

PERIODS = {
    "all": lazy_gettext("Any time"),
    "today": lazy_gettext("Today"),
    "7d": lazy_gettext("Last 7 days"),
    "30d": lazy_gettext("Last 30 days"),
    "this_month": lazy_gettext("This month"),
    "last_month": lazy_gettext("Last month"),
    "custom": lazy_gettext("Between dates…"),
}
EARLIEST = datetime.date(2000, 1, 1)
WORDS_MAX = 6


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    channel: str = ""
    period: str = "all"
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    customer: str = ""
    customer_id: int | None = None


@dataclass(frozen=True)
class Totals:
    count: int
    value: int  # sum of order totals
    refunded: int


def period_days(filters, today):
    """(first day, last day) in shop days, either possibly None; custom dates are swapped when inverted."""
    if filters.period == "today":
        return today, today
    if filters.period == "7d":
        return today - datetime.timedelta(days=6), today
    if filters.period == "30d":
        return today - datetime.timedelta(days=29), today
    if filters.period == "this_month":
        return today.replace(day=1), today
    if filters.period == "last_month":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return last.replace(day=1), last
    if filters.period == "custom":
        first, last = filters.date_from, filters.date_to
        if first and last and first > last:
            first, last = last, first
        return first, last
    return None, None


def matching(filters, today):
    """The orders the filters ask for, newest first."""
    query = Order.select(Order, User).join(User, JOIN.INNER, on=(Order.user == User.id))
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.channel:
        query = query.where(Order.channel == filters.channel)
    first, last = period_days(filters, today)
    if first:
        query = query.where(Order.local_date >= first)
    if last:
        query = query.where(Order.local_date <= last)
    if filters.customer_id:
        query = query.where(Order.user == filters.customer_id)
    if filters.customer:
        query = query.where(_customer_match(filters.customer))
    return query.order_by(Order.id.desc())


def _customer_match(text):
    words = []
    for word in text.split()[:WORDS_MAX]:
        variants = sorted({word, word.lower(), word.capitalize()})
        words.append(
            reduce(
                operator.or_,
                [
                    field.contains(variant)
                    for variant in variants
                    for field in (User.first_name, User.last_name, User.email, Order.number)
                ],
            )
        )
    return reduce(operator.and_, words)


def totals(query):
    row = (
        query.select(
            fn.COUNT(Order.id), fn.COALESCE(fn.SUM(Order.total), 0), fn.COALESCE(fn.SUM(Order.refunded), 0)
        )
        .order_by()
        .tuples()
        .get()
    )
    return Totals(*row)


def channels():
    """The channels orders came from, the shop first."""
    found = {row[0] for row in Order.select(Order.channel).distinct().tuples()}
    return ["shop"] + sorted(found - {"shop"})
