"""VAT: sales per VAT rate per day, week or month (gross, base, VAT), to fill in the VAT return.

What counts
    As in the sales report (models/reports/sales.py): an order is a sale on the shop day it was
    paid, with the VAT rows it recorded when it was placed (models/orders/vat.py). A refund
    counts on the shop day it was made, minus any card part the provider refused: its amount is
    split over its order's rates with `split_by_rate` (in proportion to the order's gross per
    rate, VAT rounded per rate, as a credit note would be) and taken off those rates.
    Orders placed before VAT was recorded have no rates: their totals show on a line of their
    own ("Not recorded"), without base or VAT, so nothing paid goes missing.
    In "VAT not applicable" mode orders record rate 0 with no VAT: a line "VAT not applicable".
    Top-ups are not sales: account funds are a multi-purpose voucher, VAT is due on the goods
    when the funds are spent (the orders here); deposits are in the Deposits report.

How it is counted
    Orders: one SQL query sums the VAT rows per bucket and rate (buckets as in sales.py).
    Refunds: one query reads the period's refunds, one the rows of their orders; the split is
    done here in Python (refunds are few next to orders).
"""

from flask_babel import gettext
from peewee import fn
from peewee import Select

from models.base import db
from models.orders.order import Order
from models.orders.vat import OrderVat
from models.orders.vat import split_lines
from models.orders.vat import VatLine
from models.refunds.orders import OrderRefund
from models.reports.sales import bucket_edges
from models.reports.sales import bucket_index
from models.reports.sales import TotalledReport
from models.reports.scope import bucket_labels
from models.reports.scope import Column
from models.reports.scope import customers_in
from models.reports.scope import where_all
from models.shop.language import format_percent_bp
from payments import FAILED

NOT_RECORDED = None  # the rate key of orders placed before VAT was recorded
MONEY = ("sales", "refunds", "gross", "base", "vat")


def vat(scope):
    edges = bucket_edges(scope)
    figures = {}  # (bucket, rate_bp) -> {sales, refunds, base, vat}

    def add(bucket, rate_bp, **amounts):
        row = figures.setdefault((bucket, rate_bp), dict.fromkeys(("sales", "refunds", "base", "vat"), 0))
        for name, amount in amounts.items():
            row[name] += int(amount or 0)

    for bucket, rate_bp, gross, base, tax in db.execute(_order_sums(scope, edges)):
        add(bucket, rate_bp, sales=gross, base=base, vat=tax)
    for bucket, total in db.execute(_unrecorded_sums(scope, edges)):
        add(bucket, NOT_RECORDED, sales=total)
    for bucket, line in _refund_lines(scope, edges):
        add(bucket, line.rate_bp, refunds=line.gross, base=-line.base, vat=-line.vat)

    labels = bucket_labels(scope)
    rows = [
        _row(labels[bucket], rate_bp, amounts)
        for (bucket, rate_bp), amounts in sorted(figures.items(), key=_in_order)
        if any(amounts.values())
    ]
    totals = {
        "period": gettext("Total"),
        "rate": "",
        **{key: sum(row[key] or 0 for row in rows) for key in MONEY},
    }
    return TotalledReport(
        key="vat",
        title=gettext("VAT"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("rate", gettext("VAT rate"), "text"),
            Column("sales", gettext("Sales incl. VAT")),
            Column("refunds", gettext("Refunds incl. VAT")),
            Column("gross", gettext("Net incl. VAT")),
            Column("base", gettext("Base excl. VAT")),
            Column("vat", gettext("VAT")),
        ],
        rows=rows,
        totals=totals,
        summary=_per_rate(rows),
        notes=_notes(rows),
        links=[(gettext("Top-ups are not sales: see the Deposits report."), "deposits")],
    )


def _in_order(item):
    (bucket, rate_bp), _ = item
    return bucket, rate_bp is NOT_RECORDED, -(rate_bp or 0)


def rate_label(rate_bp):
    if rate_bp is NOT_RECORDED:
        return gettext("Not recorded")
    if rate_bp == 0:
        return gettext("VAT not applicable")
    return format_percent_bp(rate_bp)


def _row(period, rate_bp, amounts):
    recorded = rate_bp is not NOT_RECORDED
    return {
        "period": period,
        "rate": rate_label(rate_bp),
        "rate_bp": rate_bp,
        "sales": amounts["sales"],
        "refunds": amounts["refunds"],
        "gross": amounts["sales"] - amounts["refunds"],
        "base": amounts["base"] if recorded else None,
        "vat": amounts["vat"] if recorded else None,
    }


def _per_rate(rows):
    """The period's VAT per rate, for the summary above the table (what goes on the return)."""
    by_rate = {}
    for row in rows:
        if row["rate_bp"]:
            by_rate[row["rate_bp"]] = by_rate.get(row["rate_bp"], 0) + row["vat"]
    summary = [(gettext("VAT"), sum(by_rate.values()), "money")]
    summary += [
        (gettext("VAT at %(rate)s", rate=format_percent_bp(rate_bp)), amount, "money")
        for rate_bp, amount in sorted(by_rate.items(), reverse=True)
    ]
    return summary


def _notes(rows):
    notes = [
        gettext(
            "Orders count on the day they were paid, with the VAT recorded when they were placed; "
            "delivery and the funds discount take the rates of the goods, in proportion. Refunds "
            "count on the day they were made, split over their order's rates in proportion."
        )
    ]
    if not rows:
        notes.insert(0, gettext("No orders were paid and nothing was refunded in this period."))
    if any(row["rate_bp"] is NOT_RECORDED for row in rows):
        notes.append(
            gettext("Not recorded: orders placed before the shop recorded VAT, without base or VAT.")
        )
    return notes


def _in_period(column, edges):
    return (column >= edges[0]) & (column < edges[-1])


def _order_sums(scope, edges):
    inner = (
        OrderVat.select(
            bucket_index(Order.paid_at, edges).alias("bucket"),
            OrderVat.rate_bp.alias("rate_bp"),
            OrderVat.gross.alias("gross"),
            OrderVat.base.alias("base"),
            OrderVat.vat.alias("vat"),
        )
        .join(Order)
        .where(_in_period(Order.paid_at, edges))
    )
    rows = where_all(inner, customers_in(scope, Order.user)).alias("bucketed")
    return Select(
        [rows], [rows.c.bucket, rows.c.rate_bp, *(fn.SUM(rows.c[name]) for name in ("gross", "base", "vat"))]
    ).group_by(rows.c.bucket, rows.c.rate_bp)


def _unrecorded_sums(scope, edges):
    inner = Order.select(
        bucket_index(Order.paid_at, edges).alias("bucket"), Order.total.alias("total")
    ).where(
        _in_period(Order.paid_at, edges)
        & ~fn.EXISTS(OrderVat.select(OrderVat.id).where(OrderVat.order == Order.id))
    )
    rows = where_all(inner, customers_in(scope, Order.user)).alias("bucketed")
    return Select([rows], [rows.c.bucket, fn.SUM(rows.c.total)]).group_by(rows.c.bucket)


def _refund_lines(scope, edges):
    """(bucket, VatLine) of each refund of the period split by its order's rates (rate None for
    an order without VAT rows)."""
    query = OrderRefund.select(
        bucket_index(OrderRefund.created_at, edges).alias("bucket"),
        OrderRefund.order,
        OrderRefund.amount,
        OrderRefund.to_card,
        OrderRefund.card_state,
    ).where(_in_period(OrderRefund.created_at, edges))
    refunds = list(where_all(query, customers_in(scope, OrderRefund.user)).dicts())
    rows_of = {}
    for row in (
        OrderVat.select()
        .where(OrderVat.order.in_(sorted({refund["order"] for refund in refunds})))
        .order_by(OrderVat.rate_bp.desc())
    ):
        rows_of.setdefault(row.order_id, []).append(VatLine(row.rate_bp, row.gross, row.base, row.vat))
    for refund in refunds:
        amount = refund["amount"] - (refund["to_card"] if refund["card_state"] == FAILED else 0)
        lines = split_lines(rows_of.get(refund["order"], []), amount)
        for line in lines or [VatLine(NOT_RECORDED, amount, 0, 0)]:
            yield refund["bucket"], line
