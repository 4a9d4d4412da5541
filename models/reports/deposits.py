"""Deposits: how much customers put into their accounts, by day, week or month (bonuses apart)."""

from collections import defaultdict

from flask_babel import gettext

from models.reports.scope import average_of
from models.reports.scope import bucket_labels
from models.reports.scope import bucket_start
from models.reports.scope import bucket_starts
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import column_of
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import sums_by_day_and_category


def deposits(scope):
    sums = sums_by_day_and_category(scope, ["deposit", "bonus"])
    per_bucket = defaultdict(lambda: {"count": 0, "total": 0, "bonus": 0})
    for (day, category), (count, total) in sums.items():
        bucket = per_bucket[bucket_start(day, scope.bucket)]
        if category == "deposit":
            bucket["count"] += count
            bucket["total"] += total
        else:
            bucket["bonus"] += total
    rows = []
    for start, label in zip(bucket_starts(scope), bucket_labels(scope), strict=True):
        figures = per_bucket[start]
        rows.append(
            {
                "period": label,
                "count": figures["count"],
                "total": figures["total"],
                "average": average_of(figures["total"], figures["count"]),
                "bonus": figures["bonus"],
            }
        )
    count = sum(row["count"] for row in rows)
    total = sum(row["total"] for row in rows)
    bonus = sum(row["bonus"] for row in rows)
    return Report(
        key="deposits",
        title=gettext("Deposits"),
        columns=[
            Column("period", gettext("Period"), "text"),
            Column("count", gettext("Top-ups"), "count"),
            Column("total", gettext("Deposited")),
            Column("average", gettext("Average top-up")),
            Column("bonus", gettext("Bonus given")),
        ],
        rows=rows,
        chart=Chart(
            gettext("Deposited and bonus given"),
            column_of(rows, "period"),
            [
                Series(gettext("Deposited"), column_of(rows, "total"), "series-1"),
                Series(gettext("Bonus given"), column_of(rows, "bonus"), "series-2"),
            ],
        ),
        summary=[
            (gettext("Top-ups"), count, "count"),
            (gettext("Deposited"), total, "money"),
            (gettext("Average top-up"), average_of(total, count), "money"),
            (gettext("Bonus given"), bonus, "money"),
        ],
        notes=[gettext("Top-ups paid by card; bonuses are the shop's money and shown apart.")],
    )
