"""How orders are paid: the share paid with funds, with credit and by other methods, and the funds discount."""

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import fn

from models.orders.order import Order
from models.reports.scope import as_date
from models.reports.scope import bucket_labels
from models.reports.scope import bucketed
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import column_of
from models.reports.scope import paid_orders
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import share_of

PAYMENT_PARTS = (
    ("funds_used", lazy_gettext("Funds")),
    ("credit_used", lazy_gettext("Credit")),
    ("card_amount", lazy_gettext("Card")),
    ("bank_amount", lazy_gettext("Bank transfer")),
    ("marketplace_amount", lazy_gettext("Marketplace")),
)


def usage(scope):
    columns = [Order.local_date, fn.COUNT(Order.id), fn.SUM(Order.total), fn.SUM(Order.funds_discount)]
    columns += [fn.SUM(getattr(Order, part)) for part, _ in PAYMENT_PARTS]
    by_day = {}
    for day, count, total, discount, *parts in (
        paid_orders(scope, *columns).group_by(Order.local_date).tuples()
    ):
        by_day[as_date(day)] = (count, total, discount, parts)
    rows = []
    for (start, values), label in zip(bucketed(scope, by_day).items(), bucket_labels(scope), strict=True):
        del start
        row = {"period": label, "orders": sum(v[0] for v in values), "value": sum(v[1] for v in values)}
        for number, (part, _) in enumerate(PAYMENT_PARTS):
            row[part] = sum(v[3][number] for v in values)
        row["discount"] = sum(v[2] for v in values)
        row["funds_share"] = share_of(row["funds_used"], row["value"])
        rows.append(row)
    totals = {key: sum(row[key] for row in rows) for key in ("orders", "value", "discount")}
    totals.update({part: sum(row[part] for row in rows) for part, _ in PAYMENT_PARTS})
    other = totals["card_amount"] + totals["bank_amount"] + totals["marketplace_amount"]
    return Report(
        key="usage",
        title=gettext("How orders are paid"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("orders", gettext("Orders"), "count"),
            Column("value", gettext("Value")),
        ]
        + [Column(part, str(label)) for part, label in PAYMENT_PARTS]
        + [
            Column("discount", gettext("Funds discount")),
            Column("funds_share", gettext("Funds share"), "percent"),
        ],
        rows=rows,
        chart=Chart(
            gettext("Order value by how it was paid"),
            column_of(rows, "period"),
            [
                Series(gettext("Funds"), column_of(rows, "funds_used"), "series-1"),
                Series(gettext("Credit"), column_of(rows, "credit_used"), "series-2"),
                Series(
                    gettext("Other methods"),
                    [row["card_amount"] + row["bank_amount"] + row["marketplace_amount"] for row in rows],
                    "series-3",
                ),
            ],
        ),
        summary=[
            (gettext("Paid orders"), totals["orders"], "count"),
            (gettext("Order value"), totals["value"], "money"),
            (gettext("Paid with funds"), share_of(totals["funds_used"], totals["value"]), "percent"),
            (gettext("Paid with credit"), share_of(totals["credit_used"], totals["value"]), "percent"),
            (gettext("Paid other ways"), share_of(other, totals["value"]), "percent"),
            (gettext("Discount for paying with funds"), totals["discount"], "money"),
        ],
        notes=[gettext("Orders placed in the period and paid (later refunds are not taken off).")],
    )
