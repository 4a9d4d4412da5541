"""Sales: what the shop sold per day, week or month (goods, delivery, the funds discount),
what it refunded, the net, and how the sales were paid.

What counts as a sale
    An order is a sale on the shop day it was paid: `paid_at` (naive UTC) read in the shop's
    time zone, not the day it was placed (a bank transfer may arrive days later). Orders never
    paid are not sales. An order cancelled after payment, or refunded, stays a sale of the
    day it was paid; what was given back appears as refunds on the day it was given back.
    Marketplace orders (channel ≠ "shop") are sales of the day they were ordered (their
    `paid_at`), paid on the marketplace; their shipping is part of their goods (they have no
    delivery line of the shop's).

The figures of a period bucket
    - paid orders: how many orders were paid in it;
    - goods: those orders' subtotal; delivery: their `delivery_price`; funds discount: their
      `funds_discount` (the order line of kind "discount");
    - refunds: refunds made in it (`OrderRefund.created_at` in the shop's time zone), whichever
      day their order was paid. A card part the payment provider refused is not counted: it went
      back on the books and can be refunded again (models/refunds/orders.py);
    - net sales: goods + delivery − funds discount − refunds;
    - paid with funds, on credit, by card, by bank transfer, on a marketplace: how the bucket's
      sales were paid (the order's parts). They add up to goods + delivery − funds discount,
      before refunds.
    A customer group means its members now, as in every report.

How it is counted
    The buckets' edges are the shop's local midnights turned into UTC instants here in Python
    (so daylight-saving days are 23 or 25 hours long, as they are). SQL selects the rows in
    the period by the indexed instant (`order.paid_at`, `order_refund.created_at`), labels each
    with its bucket by comparing it with those edges (`bucket_index`: a balanced tree of CASE
    expressions, about log2(buckets) comparisons a row, the same SQL on SQLite and PostgreSQL)
    and sums per bucket: one query for the orders, one for the refunds, whatever their number.
    No stored "paid local date" is needed, so nothing that marks an order paid has to
    remember to write one.
"""

import datetime
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import Case
from peewee import fn
from peewee import Select
from peewee import SQL
from peewee import Value

from models.base import db
from models.orders.order import Order
from models.refunds.orders import OrderRefund
from models.reports.scope import bucket_labels
from models.reports.scope import bucket_starts
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import column_of
from models.reports.scope import customers_in
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import where_all
from models.shop.settings import load_settings
from payments import FAILED

PAYMENT_PARTS = (
    ("funds_used", lazy_gettext("Funds")),
    ("credit_used", lazy_gettext("Credit")),
    ("card_amount", lazy_gettext("Card")),
    ("bank_amount", lazy_gettext("Bank transfer")),
    ("marketplace_amount", lazy_gettext("Marketplace")),
)
FIGURES = ("orders", "goods", "delivery", "discount", "refunds", "net") + tuple(
    part for part, _ in PAYMENT_PARTS
)


@dataclass
class TotalledReport(Report):
    """A report whose table ends with a totals row (the table's footer and the CSV's last line)."""

    totals: dict | None = None


def sales(scope):
    edges = bucket_edges(scope)
    per_bucket = [dict.fromkeys(FIGURES, 0) for _ in edges[:-1]]
    for bucket, orders, goods, delivery, discount, *parts in db.execute(_order_sums(scope, edges)):
        figures = per_bucket[bucket]
        figures.update(orders=orders, goods=goods, delivery=delivery, discount=discount)
        figures.update({part: amount for (part, _), amount in zip(PAYMENT_PARTS, parts, strict=True)})
    for bucket, refunds in db.execute(_refund_sums(scope, edges)):
        per_bucket[bucket]["refunds"] = refunds
    rows = []
    for figures, label in zip(per_bucket, bucket_labels(scope), strict=True):
        figures = {key: int(value or 0) for key, value in figures.items()}
        figures["net"] = figures["goods"] + figures["delivery"] - figures["discount"] - figures["refunds"]
        rows.append({"period": label, **figures})
    totals = {"period": gettext("Total"), **{key: sum(row[key] for row in rows) for key in FIGURES}}
    notes = [
        gettext(
            "Orders: orders paid in the period, counted on the day they were paid, even if they were "
            "cancelled or refunded later. Refunds count on the day they were made. Discount: the "
            "discount for paying with funds. Net sales: goods + delivery − discount − refunds. Funds, "
            "credit, card, bank transfer and marketplace: how the orders were paid, before refunds."
        )
    ]
    if not totals["orders"] and not totals["refunds"]:
        notes.insert(0, gettext("No orders were paid and nothing was refunded in this period."))
    return TotalledReport(
        key="sales",
        title=gettext("Sales"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("orders", gettext("Orders"), "count"),
            Column("goods", gettext("Goods")),
            Column("delivery", gettext("Delivery")),
            Column("discount", gettext("Discount")),
            Column("refunds", gettext("Refunds")),
            Column("net", gettext("Net sales")),
        ]
        + [Column(part, str(label)) for part, label in PAYMENT_PARTS],
        rows=rows,
        totals=totals,
        chart=Chart(
            gettext("Net sales"),
            column_of(rows, "period"),
            [Series(gettext("Net sales"), column_of(rows, "net"), "series-1")],
        ),
        summary=[
            (gettext("Paid orders"), totals["orders"], "count"),
            (gettext("Net sales"), totals["net"], "money"),
            (gettext("Goods"), totals["goods"], "money"),
            (gettext("Delivery"), totals["delivery"], "money"),
            (gettext("Funds discount"), totals["discount"], "money"),
            (gettext("Refunds"), totals["refunds"], "money"),
        ],
        notes=notes,
    )


def bucket_edges(scope):
    """Naive-UTC instants: where each bucket starts (the first cut by the period's first day),
    then where the period ends (the local midnight after its last day)."""
    zone = load_settings().tz

    def midnight(day):
        local = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
        return local.astimezone(datetime.UTC).replace(tzinfo=None)

    starts = [max(start, scope.first) for start in bucket_starts(scope)]
    return [midnight(day) for day in starts] + [midnight(scope.last + datetime.timedelta(days=1))]


def bucket_index(column, edges):
    """SQL for the number of the bucket `column`'s instant falls in, for an instant inside the
    period (`edges` as bucket_edges() makes them): the edge it is at or after, found by halving."""

    def between(low, high):  # the answer is in [low, high]
        if low == high:
            return Value(low)
        middle = (low + high + 1) // 2
        return Case(None, [(column < edges[middle], between(low, middle - 1))], between(middle, high))

    return between(0, len(edges) - 2)


def _summed(inner, names, count=False):
    """SELECT bucket, [COUNT(*),] SUM(name)… FROM (inner) GROUP BY bucket: grouped by the inner
    query's column, so PostgreSQL never has to match the CASE's parameters in a GROUP BY."""
    rows = inner.alias("bucketed")
    sums = [fn.COUNT(SQL("*"))] if count else []
    sums += [fn.SUM(getattr(rows.c, name)) for name in names]
    return Select([rows], [rows.c.bucket, *sums]).group_by(rows.c.bucket)


def _order_sums(scope, edges):
    names = ("goods", "delivery", "discount", *(part for part, _ in PAYMENT_PARTS))
    inner = Order.select(
        bucket_index(Order.paid_at, edges).alias("bucket"),
        Order.subtotal.alias("goods"),
        Order.delivery_price.alias("delivery"),
        Order.funds_discount.alias("discount"),
        *(getattr(Order, part).alias(part) for part, _ in PAYMENT_PARTS),
    ).where((Order.paid_at >= edges[0]) & (Order.paid_at < edges[-1]))
    return _summed(where_all(inner, customers_in(scope, Order.user)), names, count=True)


def _refund_sums(scope, edges):
    refused_card = Case(None, [(OrderRefund.card_state == FAILED, OrderRefund.to_card)], 0)
    inner = OrderRefund.select(
        bucket_index(OrderRefund.created_at, edges).alias("bucket"),
        (OrderRefund.amount - refused_card).alias("refunded"),
    ).where((OrderRefund.created_at >= edges[0]) & (OrderRefund.created_at < edges[-1]))
    return _summed(where_all(inner, customers_in(scope, OrderRefund.user)), ("refunded",))
