"""Order value: average and median, with funds and without, and when the settings that move it changed."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from babel.numbers import format_decimal
from flask_babel import gettext
from peewee import Case
from peewee import fn

from models.base import db
from models.dialect import integers_aggregate
from models.dialect import integers_of
from models.orders.order import Order
from models.orders.order import OrderLine
from models.reports.scope import as_date
from models.reports.scope import average_of
from models.reports.scope import bucket_labels
from models.reports.scope import bucket_start
from models.reports.scope import bucket_starts
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import column_of
from models.reports.scope import instants
from models.reports.scope import median
from models.reports.scope import ORDER_VALUE
from models.reports.scope import paid_orders
from models.reports.scope import Report
from models.reports.scope import Scope
from models.reports.scope import Series
from models.shop.audit import AuditEntry
from models.shop.language import active_locale
from models.shop.language import format_money
from models.shop.settings import load_settings


def order_value(scope):
    """Average and median order value, paid with funds against without, and what changed."""
    # Every order's total is needed for the medians: one row per day with the day's totals
    # collected in SQL (a year of orders would otherwise be a million rows for Python).
    paid_with_funds = Order.funds_used > 0
    query = paid_orders(
        scope,
        Order.local_date,
        integers_aggregate(db, Case(None, [(paid_with_funds, ORDER_VALUE)], None)),
        integers_aggregate(db, Case(None, [(paid_with_funds, None)], ORDER_VALUE)),
    ).group_by(Order.local_date)
    per_bucket = {start: ([], []) for start in bucket_starts(scope)}
    for day, with_funds, without in db.execute(query):
        lists = per_bucket[bucket_start(as_date(day), scope.bucket)]
        lists[0].extend(integers_of(with_funds))
        lists[1].extend(integers_of(without))
    markers = setting_changes(scope)
    changes = defaultdict(list)
    for marker in markers:
        changes[marker.bucket_index].append(marker.text)
    rows = []
    all_with, all_without = [], []
    for index, ((with_funds, without), label) in enumerate(
        zip(per_bucket.values(), bucket_labels(scope), strict=True)
    ):
        all_with += with_funds
        all_without += without
        rows.append({**_value_row(label, with_funds, without), "changes": "; ".join(changes[index])})
    return Report(
        key="order-value",
        title=gettext("Order value"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("funds_orders", gettext("Orders (funds)"), "count"),
            Column("funds_average", gettext("Average (funds)")),
            Column("funds_median", gettext("Median (funds)")),
            Column("other_orders", gettext("Orders (other)"), "count"),
            Column("other_average", gettext("Average (other)")),
            Column("other_median", gettext("Median (other)")),
            Column("changes", gettext("Setting changed"), "text"),
        ],
        rows=rows,
        chart=Chart(
            gettext("Median order value"),
            column_of(rows, "period"),
            [
                Series(gettext("Paid with funds"), column_of(rows, "funds_median"), "series-1"),
                Series(gettext("Paid without funds"), column_of(rows, "other_median"), "series-3"),
            ],
            markers=[(marker.bucket_index, marker.text) for marker in markers],
        ),
        summary=[
            (gettext("Median with funds"), median(all_with), "money"),
            (gettext("Median without funds"), median(all_without), "money"),
            (gettext("Average with funds"), average_of(sum(all_with), len(all_with)), "money"),
            (gettext("Average without funds"), average_of(sum(all_without), len(all_without)), "money"),
        ],
        notes=[
            gettext(
                "Order value before the funds discount (what the basket was worth). “Funds”: orders paid "
                "at least in part from the customer's positive balance; “other”: the rest. “Setting "
                "changed”: the funds discount or the top-up minimum, of the shop or a group."
            )
        ],
    )


def _value_row(label, with_funds, without):
    return {
        "period": label,
        "funds_orders": len(with_funds),
        "funds_average": average_of(sum(with_funds), len(with_funds)),
        "funds_median": median(with_funds),
        "other_orders": len(without),
        "other_average": average_of(sum(without), len(without)),
        "other_median": median(without),
    }


@dataclass(frozen=True)
class Marker:
    day: datetime.date
    bucket_index: int
    text: str


WATCHED_SETTINGS = ("topup_min", "funds_discount_bp")


def _change_text(name, where, before, after):
    """ "shop default: funds discount 0 % → 3 %" in the page's language."""
    values = {"where": where, "before": _setting_text(name, before), "after": _setting_text(name, after)}
    if name == "topup_min":
        return gettext("%(where)s: top-up minimum %(before)s → %(after)s", **values)
    return gettext("%(where)s: funds discount %(before)s → %(after)s", **values)


def setting_changes(scope):
    """Changes to the funds discount or the top-up minimum (shop or group) in the period."""
    start, end = instants(scope)
    entries = AuditEntry.select().where(
        (
            (AuditEntry.action == "settings_changed")
            | ((AuditEntry.action == "group_changed") & _group_target(scope))
        )
        & (AuditEntry.at >= start)
        & (AuditEntry.at < end)
    )
    zone = load_settings().tz
    starts = bucket_starts(scope)
    markers = []
    for entry in entries.order_by(AuditEntry.at):
        before, after = entry.before_data or {}, entry.after_data or {}
        changed = [name for name in WATCHED_SETTINGS if name in after and before.get(name) != after.get(name)]
        if not changed:
            continue
        day = entry.at.replace(tzinfo=datetime.UTC).astimezone(zone).date()
        where = (
            gettext("shop default")
            if entry.action == "settings_changed"
            else after.get("name") or entry.target
        )
        text = "; ".join(_change_text(name, where, before.get(name), after.get(name)) for name in changed)
        index = starts.index(bucket_start(day, scope.bucket))
        markers.append(Marker(day, index, text))
    return markers


def _group_target(scope):
    """Group changes that matter to the scope: its group's only, when it has one."""
    if scope.group_id is None:
        return AuditEntry.target.is_null(False)
    return AuditEntry.target == f"group {scope.group_id}"


def _setting_text(name, value):
    if value is None:
        return "?"
    if name == "funds_discount_bp":
        return gettext("%(number)s %%", number=format_decimal(int(value) / 100, locale=active_locale()))

    return format_money(int(value))


def order_value_hints(today, days=90):
    """(median order value before the funds discount, most-bought product or None) over the
    last `days` shop days."""
    scope = Scope(today - datetime.timedelta(days=days - 1), today)
    totals = [value for (value,) in db.execute(paid_orders(scope, ORDER_VALUE).tuples())]

    top = (
        OrderLine.select(OrderLine.name, OrderLine.unit_price, fn.SUM(OrderLine.quantity).alias("bought"))
        .join(Order, on=(OrderLine.order == Order.id))
        .where(
            (Order.local_date >= scope.first) & Order.paid_at.is_null(False) & (OrderLine.kind == "product")
        )
        .group_by(OrderLine.product_id, OrderLine.name, OrderLine.unit_price)
        .order_by(fn.SUM(OrderLine.quantity).desc())
        .first()
    )
    return median(totals), top
