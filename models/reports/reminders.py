"""Reminders: sent, paid within 48 hours, amount recovered, by segment and dispatch window."""

import datetime
from collections import defaultdict

from flask_babel import gettext
from flask_babel import lazy_gettext

from models.base import db
from models.orders.order import Order
from models.reminders.batches import recovered_orders
from models.reminders.plan import SEGMENTS
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reports.scope import as_date
from models.reports.scope import as_datetime
from models.reports.scope import bucket_labels
from models.reports.scope import bucket_start
from models.reports.scope import bucket_starts
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import customers_in
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import share_of
from models.reports.scope import where_all
from models.shop.settings import load_settings

SEGMENT_LABELS = {
    "new": lazy_gettext("New"),
    "returning": lazy_gettext("Returning"),
    "loyal": lazy_gettext("Loyal"),
}


def reminders(scope):
    """Reminders sent in the period, the orders paid within 48 hours of one, and the money."""
    query = where_all(
        Reminder.select(
            Reminder.order,
            Reminder.segment,
            Reminder.batch,
            Reminder.local_date,
            Reminder.decided_at,
            Order.paid_at,
            Order.total,
        )
        .join(Order, on=(Reminder.order == Order.id))
        .where((Reminder.state == SENT) & Reminder.local_date.between(scope.first, scope.last))
        .order_by(Reminder.decided_at, Reminder.id),
        customers_in(scope, Reminder.user),
    )
    sent = [  # straight from the cursor: Peewee's conversions cost more than the report
        (order_id, (segment, batch_id, as_date(day)), as_datetime(sent_at), as_datetime(paid_at), total)
        for order_id, segment, batch_id, day, sent_at, paid_at, total in db.execute(query)
    ]
    windows = _window_labels({key[1] for _, key, *_ in sent})
    table = defaultdict(lambda: {"sent": 0, "paid": 0, "amount": 0})
    per_bucket = defaultdict(lambda: {"sent": 0, "paid": 0, "amount": 0})
    for _, (segment, batch_id, day), *_ in sent:
        table[segment, windows[batch_id]]["sent"] += 1
        per_bucket[bucket_start(day, scope.bucket)]["sent"] += 1
    for (segment, batch_id, day), total in recovered_orders(sent).values():
        for figures in (table[segment, windows[batch_id]], per_bucket[bucket_start(day, scope.bucket)]):
            figures["paid"] += 1
            figures["amount"] += total
    segment_order = {segment: number for number, segment in enumerate(SEGMENTS)}
    rows = [
        {
            "segment": str(SEGMENT_LABELS.get(segment, segment)),
            "window": window,
            "sent": figures["sent"],
            "paid": figures["paid"],
            "rate": share_of(figures["paid"], figures["sent"]),
            "amount": figures["amount"],
        }
        for (segment, window), figures in sorted(
            table.items(), key=lambda item: (segment_order.get(item[0][0], 9), item[0][1])
        )
    ]
    starts = bucket_starts(scope)
    sent_total = sum(row["sent"] for row in rows)
    paid_total = sum(row["paid"] for row in rows)
    return Report(
        key="reminders",
        title=gettext("Payment reminders"),
        columns=[
            Column("segment", gettext("Customers"), "text"),
            Column("window", gettext("Dispatch window"), "text"),
            Column("sent", gettext("Sent"), "count"),
            Column("paid", gettext("Paid within 48 h"), "count"),
            Column("rate", gettext("Paid share"), "percent"),
            Column("amount", gettext("Amount recovered")),
        ],
        rows=rows,
        chart=Chart(
            gettext("Reminders sent and orders paid within 48 hours"),
            bucket_labels(scope),
            [
                Series(gettext("Sent"), [per_bucket[start]["sent"] for start in starts], "series-3"),
                Series(
                    gettext("Paid within 48 h"), [per_bucket[start]["paid"] for start in starts], "series-1"
                ),
            ],
            kind="count",
        ),
        summary=[
            (gettext("Reminders sent"), sent_total, "count"),
            (gettext("Orders paid within 48 h"), paid_total, "count"),
            (gettext("Paid share"), share_of(paid_total, sent_total), "percent"),
            (gettext("Amount recovered"), sum(row["amount"] for row in rows), "money"),
        ],
        notes=[
            gettext(
                "An order paid within 48 hours of a reminder counts once, for the last reminder sent before "
                "the payment."
            )
        ],
    )


def _window_labels(batch_ids):
    """{batch id: its window as the owner set it up}."""
    zone = load_settings().tz
    batches = ReminderBatch.select(
        ReminderBatch.id,
        ReminderBatch.mode,
        ReminderBatch.dispatch_at,
        ReminderBatch.window_start,
        ReminderBatch.window_end,
    )
    labels, batch_ids = {}, sorted(batch_ids)
    for chunk_start in range(0, len(batch_ids), 500):
        chunk = batch_ids[chunk_start : chunk_start + 500]
        for batch in batches.where(ReminderBatch.id.in_(chunk)):
            labels[batch.id] = _window_label(
                batch.mode, batch.dispatch_at, batch.window_start, batch.window_end, zone
            )
    return labels


def _window_label(mode, dispatch_at, window_start, window_end, zone):
    """A batch's window as the owner set it up: the dispatch it comes before, or its hour."""
    if mode == "dispatch":
        local = (dispatch_at or window_end).replace(tzinfo=datetime.UTC).astimezone(zone)
        return gettext("before the %(time)s dispatch", time=f"{local:%H:%M}")
    local = window_start.replace(tzinfo=datetime.UTC).astimezone(zone)
    return gettext("%(time)s (hours after the order)", time=f"{local:%H:%M}")
