"""Reminders: orders reminded and held out, paid within 48 hours, the difference reminders make
with its uncertainty and the money it is worth, by segment and dispatch window; wording A
against wording B (models/reminders/statistics.py has the interval and its rules)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import ngettext
from peewee import fn

from models.base import db
from models.orders.order import Order
from models.reminders.batches import recovered_orders
from models.reminders.batches import RECOVERY_WINDOW
from models.reminders.plan import SEGMENTS
from models.reminders.plan import segments_with_variant
from models.reminders.records import DECIDED
from models.reminders.records import HELD_OUT
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import load_reminder_settings
from models.reminders.statistics import difference
from models.reminders.statistics import in_hundred
from models.reminders.statistics import MAX_HALF_WIDTH
from models.reminders.statistics import MIN_ORDERS
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
    """Reminders in the period: per segment and dispatch window, the orders reminded and the
    orders held out (the control group), the share of each paid within 48 hours, the difference
    with its 95 % interval and the money it is worth; wording A against wording B."""
    decided = _decided_rows(scope)
    windows = _window_labels({row.batch_id for row in decided})
    orders = _orders(decided, _replaced({row.order_id for row in decided}))
    table = defaultdict(_Tally)
    for order in orders.values():
        table[order.segment, windows[order.batch_id]].add(order)
    segment_order = {segment: number for number, segment in enumerate(SEGMENTS)}
    rows = [
        _comparison_row(SEGMENT_LABELS.get(segment, segment), window, tally)
        for (segment, window), tally in sorted(
            table.items(), key=lambda item: (segment_order.get(item[0][0], 9), item[0][1])
        )
    ]
    overall = _Tally()
    for order in orders.values():
        overall.add(order)
    sent = [row.as_sent() for row in decided if row.state == SENT]
    per_bucket = _per_bucket(sent, scope)
    starts = bucket_starts(scope)
    total = _comparison_row("", "", overall)
    return Report(
        key="reminders",
        title=gettext("Payment reminders"),
        columns=_columns(),
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
            (gettext("Orders reminded"), overall.reminded, "count"),
            (gettext("Paid within 48 h"), total["rate"], "percent"),
            (gettext("Orders held out"), overall.held_out, "count"),
            (gettext("Paid within 48 h when held out"), total["held_out_rate"], "percent"),
            (gettext("Amount recovered"), overall.amount, "money"),
            (gettext("Attributable to reminders"), total["attributable"], "money"),
            (gettext("Reminders sent"), len(sent), "count"),
        ],
        lead=total["verdict"] if overall.held_out else "",
        notes=[
            gettext(
                "Each order counts once, in the segment and window of its first reminder in the period, and "
                "as paid within 48 hours when it was paid within 48 hours of any of its reminders. Held-out "
                "orders were planned and checked like the others, but never sent a reminder."
            ),
            gettext(
                "Difference: the share paid within 48 hours when reminded minus the share when held out, in "
                "orders in 100, with its likely range, the 95 %% interval (Newcombe’s score method). Attributable to reminders "
                "= the difference × the amount of the orders reminded. “Not enough orders yet to tell”: "
                "fewer than %(minimum)s orders in a group, or an interval wider than ± %(width)s.",
                minimum=MIN_ORDERS,
                width=in_hundred(MAX_HALF_WIDTH),
            ),
            gettext(
                "Orders the customer replaced (ordered again within the re-order time and paid the new "
                "order) are in neither group."
            ),
        ],
        variants=_variants(orders.values()),
    )


def _columns():
    return [
        Column("segment", gettext("Customers"), "text"),
        Column("window", gettext("Dispatch window"), "text", css="report-table__words"),
        Column("reminded", gettext("Orders reminded"), "count"),
        Column("rate", gettext("Paid within 48 h"), "percent"),
        Column("held_out", gettext("Orders held out"), "count"),
        Column("held_out_rate", gettext("Paid within 48 h when held out"), "percent"),
        Column("difference", gettext("Difference in 100 orders (likely range)"), "text", css="num"),
        Column("amount", gettext("Amount recovered")),
        Column("attributable", gettext("Attributable to reminders")),
        Column("verdict", gettext("What it means"), "text", css="report-table__sentence"),
    ]


class _Row:
    """A decided reminder row as the report reads it."""

    __slots__ = (
        "order_id",
        "segment",
        "batch_id",
        "day",
        "decided_at",
        "paid_at",
        "total",
        "state",
        "arm",
        "variant",
    )

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)

    def as_sent(self):
        return (self.order_id, self.day, self.decided_at, self.paid_at, self.total)


def _decided_rows(scope):
    query = where_all(
        Reminder.select(
            Reminder.order,
            Reminder.segment,
            Reminder.batch,
            Reminder.local_date,
            Reminder.decided_at,
            Order.paid_at,
            Order.total,
            Reminder.state,
            Reminder.arm,
            Reminder.variant,
        )
        .join(Order, on=(Reminder.order == Order.id))
        .where(Reminder.state.in_(DECIDED) & Reminder.local_date.between(scope.first, scope.last))
        .order_by(Reminder.decided_at, Reminder.id),
        customers_in(scope, Reminder.user),
    )
    # Straight from the cursor: Peewee's conversions cost more than the report.
    return [
        _Row(order_id, segment, batch_id, as_date(day), as_datetime(at), as_datetime(paid), total, *rest)
        for order_id, segment, batch_id, day, at, paid, total, *rest in db.execute(query)
    ]


class _Order:
    """An order in the comparison: its first decided row's segment, window, group and wording,
    and whether it was paid within 48 hours of any of its rows."""

    __slots__ = ("segment", "batch_id", "arm", "variant", "total", "paid")

    def __init__(self, first):
        self.segment, self.batch_id, self.arm = first.segment, first.batch_id, first.arm
        self.variant, self.total, self.paid = first.variant, first.total, False


def _orders(decided, replaced):
    orders = {}
    for row in decided:
        if row.order_id in replaced:
            continue
        order = orders.setdefault(row.order_id, _Order(row))
        paid_at = row.paid_at
        if paid_at is not None and row.decided_at <= paid_at < row.decided_at + RECOVERY_WINDOW:
            order.paid = True
    return orders


def _replaced(order_ids):
    """The orders among `order_ids` their customer followed, within the re-order time, with an
    order that was paid (plan.py's "paid_reorder", whenever the payment came)."""
    within = datetime.timedelta(hours=load_reminder_settings().reorder_hours)
    if not within or not order_ids:
        return set()
    later = Order.alias()
    replaced, ids = set(), sorted(order_ids)
    for chunk_start in range(0, len(ids), 500):
        query = (
            Order.select(Order.id, Order.created_at, fn.MIN(later.created_at))
            .join(later, on=(later.user == Order.user))
            .where(
                Order.id.in_(ids[chunk_start : chunk_start + 500])
                & later.paid_at.is_null(False)
                & (later.created_at > Order.created_at)
            )
            .group_by(Order.id, Order.created_at)
            .tuples()
        )
        replaced |= {
            order_id
            for order_id, placed, next_placed in query
            if as_datetime(next_placed) - as_datetime(placed) <= within
        }
    return replaced


class _Tally:
    def __init__(self):
        self.reminded = self.paid = self.amount = self.reminded_amount = 0
        self.held_out = self.held_out_paid = 0

    def add(self, order):
        if order.arm == HELD_OUT:
            self.held_out += 1
            self.held_out_paid += order.paid
            return
        self.reminded += 1
        self.reminded_amount += order.total
        if order.paid:
            self.paid += 1
            self.amount += order.total


def _comparison_row(segment, window, tally):
    uplift = difference(tally.paid, tally.reminded, tally.held_out_paid, tally.held_out)
    return {
        "segment": str(segment),
        "window": window,
        "reminded": tally.reminded,
        "rate": share_of(tally.paid, tally.reminded),
        "amount": tally.amount,
        "held_out": tally.held_out,
        "held_out_rate": share_of(tally.held_out_paid, tally.held_out),
        "difference": interval_text(uplift),
        "attributable": round(uplift.estimate * tally.reminded_amount) if uplift else None,
        "verdict": holdout_verdict(uplift) if tally.held_out else "",
    }


def interval_text(result):
    """ "+14 (8 to 20)": the difference and its interval in orders in 100, or "" without one."""
    if result is None:
        return ""
    return gettext(
        "%(estimate)s (%(low)s to %(high)s)",
        estimate=_signed(result.estimate),
        low=_signed(result.low),
        high=_signed(result.high),
    )


def _signed(fraction):
    number = in_hundred(fraction)
    return f"+{number}" if number > 0 else f"{number}".replace("-", "−")


def holdout_verdict(uplift):
    """The comparison in a sentence an owner can act on."""
    if uplift is None or not uplift.enough:
        return gettext("Not enough orders yet to tell.")
    estimate, margin = in_hundred(uplift.estimate), in_hundred(uplift.half_width)
    if estimate < 0:
        return ngettext(
            "Reminders brought about %(num)d fewer paid order in 100, give or take %(margin)d.",
            "Reminders brought about %(num)d fewer paid orders in 100, give or take %(margin)d.",
            -estimate,
            margin=margin,
        )
    return ngettext(
        "Reminders brought about %(num)d more paid order in 100, give or take %(margin)d.",
        "Reminders brought about %(num)d more paid orders in 100, give or take %(margin)d.",
        estimate,
        margin=margin,
    )


def wording_verdict(result):
    """Wording B against A in a sentence: which one works better, once that is clear."""
    if result is None or not result.enough:
        return gettext("Not enough orders yet to tell.")
    margin = in_hundred(result.half_width)
    estimate = in_hundred(abs(result.estimate))
    if not result.clear:
        return gettext(
            "No clear difference yet: the interval includes none (give or take %(margin)d in 100).",
            margin=margin,
        )
    if result.estimate > 0:
        return ngettext(
            "Wording B works better: about %(num)d more paid order in 100, give or take %(margin)d.",
            "Wording B works better: about %(num)d more paid orders in 100, give or take %(margin)d.",
            estimate,
            margin=margin,
        )
    return ngettext(
        "Wording A works better: about %(num)d more paid order in 100, give or take %(margin)d.",
        "Wording A works better: about %(num)d more paid orders in 100, give or take %(margin)d.",
        estimate,
        margin=margin,
    )


@dataclass
class WordingResult:
    """Wording A against B among the reminded orders of one segment."""

    segment: str
    label: str
    a_orders: int
    a_rate: float | None
    b_orders: int
    b_rate: float | None
    difference: str
    verdict: str
    has_b: bool  # the segment has a wording B now (it can be promoted)


def _variants(orders):
    """Per segment with a wording B now or reminders sent with one: A against B."""
    with_b = segments_with_variant()
    counts = defaultdict(lambda: {"A": [0, 0], "B": [0, 0]})
    for order in orders:
        if order.arm != HELD_OUT:
            tally = counts[order.segment][order.variant if order.variant == "B" else "A"]
            tally[0] += 1
            tally[1] += order.paid
    results = []
    for segment in SEGMENTS:
        (a_orders, a_paid), (b_orders, b_paid) = counts[segment]["A"], counts[segment]["B"]
        if segment not in with_b and not b_orders:
            continue
        result = difference(b_paid, b_orders, a_paid, a_orders)
        results.append(
            WordingResult(
                segment=segment,
                label=str(SEGMENT_LABELS.get(segment, segment)),
                a_orders=a_orders,
                a_rate=share_of(a_paid, a_orders),
                b_orders=b_orders,
                b_rate=share_of(b_paid, b_orders),
                difference=interval_text(result),
                verdict=wording_verdict(result),
                has_b=segment in with_b,
            )
        )
    return results


def _per_bucket(sent, scope):
    """Reminders sent per bucket, and orders paid within 48 hours of one on the bucket of the
    last reminder before the payment (batches.recovered_orders)."""
    per_bucket = defaultdict(lambda: {"sent": 0, "paid": 0})
    for _, day, *_ in sent:
        per_bucket[bucket_start(day, scope.bucket)]["sent"] += 1
    for day, _ in recovered_orders(sent).values():
        per_bucket[bucket_start(day, scope.bucket)]["paid"] += 1
    return per_bucket


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
