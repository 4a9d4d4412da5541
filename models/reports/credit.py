"""Credit: drawn by paid orders, paid back, owed, limits and their use, requests decided."""

from flask_babel import gettext
from peewee import Case
from peewee import fn

from models.funds.credit_requests import CreditRequest
from models.funds.ledger import LedgerAccount
from models.orders.order import Order
from models.reports.scope import as_date
from models.reports.scope import bucket_labels
from models.reports.scope import bucket_starts
from models.reports.scope import bucketed
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import column_of
from models.reports.scope import customers_in
from models.reports.scope import instants
from models.reports.scope import paid_orders
from models.reports.scope import positive_part
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import share_of
from models.reports.scope import sums_by_day_and_category
from models.reports.scope import where_all


def credit(scope):
    # Drawn: the credit part of the orders placed in the period and paid (a hold of an order
    # later cancelled is given back, so it draws nothing).
    drawn = {
        as_date(day): total
        for day, total in paid_orders(scope, Order.local_date, fn.SUM(Order.credit_used))
        .group_by(Order.local_date)
        .tuples()
    }
    repaid = {day: total for (day, _), (_, total) in sums_by_day_and_category(scope, ["repayment"]).items()}
    drawn_buckets, repaid_buckets = bucketed(scope, drawn), bucketed(scope, repaid)
    rows = [
        {"period": label, "drawn": sum(drawn_buckets[start]), "repaid": sum(repaid_buckets[start])}
        for start, label in zip(bucket_starts(scope), bucket_labels(scope), strict=True)
    ]
    now = _credit_now(scope)
    decided = _credit_requests_decided(scope)
    return Report(
        key="credit",
        title=gettext("Credit"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("drawn", gettext("Drawn on credit")),
            Column("repaid", gettext("Paid back")),
        ],
        rows=rows,
        chart=Chart(
            gettext("Drawn on credit and paid back"),
            column_of(rows, "period"),
            [
                Series(gettext("Drawn"), column_of(rows, "drawn"), "series-2"),
                Series(gettext("Paid back"), column_of(rows, "repaid"), "series-1"),
            ],
        ),
        summary=[
            (gettext("Customers using credit now"), now["using"], "count"),
            (gettext("Owed now"), now["owed"], "money"),
            (gettext("Credit limits extended"), now["limits"], "money"),
            (gettext("Utilisation"), share_of(now["owed"], now["limits"]), "percent"),
            (gettext("Credit requests approved"), decided["approved"], "count"),
            (gettext("Credit approved"), decided["approved_amount"], "money"),
            (gettext("Credit requests declined"), decided["declined"], "count"),
        ],
        notes=[
            gettext(
                "Drawn: the part of paid orders (placed in the period) that took balances below zero. "
                "Owed, limits and utilisation are as of now; requests are those decided in the period."
            )
        ],
    )


def _credit_now(scope):
    accounts = where_all(
        LedgerAccount.select(
            fn.COALESCE(fn.SUM(_flag(LedgerAccount.balance < 0)), 0),
            fn.COALESCE(fn.SUM(positive_part(0 - LedgerAccount.balance)), 0),
            fn.COALESCE(fn.SUM(LedgerAccount.credit_limit), 0),
        ).where(LedgerAccount.user.is_null(False)),
        customers_in(scope, LedgerAccount.user),
    )
    using, owed, limits = accounts.tuples().get()
    return {"using": int(using or 0), "owed": int(owed), "limits": int(limits)}


def _flag(condition):
    return Case(None, [(condition, 1)], 0)


def _credit_requests_decided(scope):
    start, end = instants(scope)
    query = where_all(
        CreditRequest.select(
            CreditRequest.state, fn.COUNT(CreditRequest.id), fn.SUM(CreditRequest.approved_amount)
        )
        .where((CreditRequest.decided_at >= start) & (CreditRequest.decided_at < end))
        .group_by(CreditRequest.state),
        customers_in(scope, CreditRequest.user),
    )
    counts = {state: (count, amount or 0) for state, count, amount in query.tuples()}
    return {
        "approved": counts.get("approved", (0, 0))[0],
        "approved_amount": counts.get("approved", (0, 0))[1],
        "declined": counts.get("declined", (0, 0))[0],
    }
