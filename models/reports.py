"""The owner's reports: what the shop holds for customers, how it is used, and whether reminders pay.

Every report is computed for a `Scope`: a period of shop days (first and last
day, both included), how the days are grouped in the chart and table (day,
ISO week starting Monday, or month), and optionally one customer group or one
customer. A group means the customers in it now.

Ledger figures come from the entries on customers' accounts, chosen and
bucketed by their shop day (`local_date`, written with each entry); the index
by (category, local_date, account, amount, credit_part) answers those sums
without reading the table (migration 0016). Order figures use the orders placed
in the period (their shop day) that have been paid, refunded or not, also from
an index that holds the amounts. Every report returns a table whose rows are
exactly what the CSV download contains, and a chart of the same figures.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field

from babel.dates import format_date
from peewee import Case
from peewee import fn

from models.audit import AuditEntry
from models.base import db
from models.credit import CreditRequest
from models.dialect import integers_aggregate
from models.dialect import integers_of
from models.funds import CATEGORY_LABELS
from models.ledger import CATEGORIES
from models.ledger import Entry
from models.ledger import LedgerAccount
from models.orders import Order
from models.orders import PENDING_PAYMENT
from models.reminder_batches import recovered_orders
from models.reminders import Reminder
from models.reminders import ReminderBatch
from models.reminders import SEGMENTS
from models.reminders import SENT
from models.settings import load_settings
from models.user import User

BUCKETS = {"day": "Day", "week": "Week", "month": "Month"}
PRESETS = {
    "7d": "Last 7 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_year": "This year",
    "custom": "Between dates…",
}
MAX_DAYS = 366 * 2  # longer ranges are cut to this many days, with a note
EARLIEST = datetime.date(2000, 1, 1)

# What each ledger category does to customers' balances, in roll-forward order.
ROLL_FORWARD_LINES = (
    ("deposit", "Deposits (top-ups)"),
    ("repayment", "Paid back (credit repayments)"),
    ("bonus", "Bonuses"),
    ("bonus_reversal", "Bonuses taken back"),
    ("reward", "Affiliate rewards"),
    ("refund_in", "Refunds into funds"),
    ("adjustment", "Adjustments"),
    ("hold", "Spent on orders (held)"),
    ("release", "Holds released (cancelled orders)"),
    ("refund_out", "Refunded out to cards"),
)
SEGMENT_LABELS = {"new": "New", "returning": "Returning", "loyal": "Loyal"}


@dataclass(frozen=True)
class Scope:
    first: datetime.date
    last: datetime.date
    bucket: str = "day"
    group_id: int | None = None
    customer_id: int | None = None

    @property
    def days(self):
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "money"  # money | count | percent | text


@dataclass
class Series:
    label: str
    values: list
    css: str  # the class that colours it (static/css/shop.css)


@dataclass
class Chart:
    title: str
    labels: list
    series: list
    kind: str = "money"  # how the axis reads: money | count
    markers: list = field(default_factory=list)  # (bucket index, text)


@dataclass
class Report:
    key: str
    title: str
    columns: list
    rows: list  # dicts keyed by column key: exactly the CSV's rows
    chart: Chart | None = None
    summary: list = field(default_factory=list)  # (label, value, kind)
    notes: list = field(default_factory=list)


# Periods ----------------------------------------------------------------------------


def preset_days(preset, today):
    """(first, last) shop days of a preset period."""
    if preset == "7d":
        return today - datetime.timedelta(days=6), today
    if preset == "last_month":
        last = today.replace(day=1) - datetime.timedelta(days=1)
        return last.replace(day=1), last
    if preset == "this_year":
        return today.replace(month=1, day=1), today
    return today.replace(day=1), today  # this_month


def default_bucket(days):
    if days <= 31:
        return "day"
    if days <= 120:
        return "week"
    return "month"


def bucket_start(day, bucket):
    if bucket == "week":
        return day - datetime.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def bucket_starts(scope):
    """The first day of every bucket the period touches, in order."""
    starts = []
    day = bucket_start(scope.first, scope.bucket)
    while day <= scope.last:
        starts.append(day)
        if scope.bucket == "week":
            day += datetime.timedelta(days=7)
        elif scope.bucket == "month":
            day = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        else:
            day += datetime.timedelta(days=1)
    return starts


def instants(scope):
    """The period as naive-UTC instants [start, end): local midnights in the shop's zone."""
    zone = load_settings().tz

    def midnight(day):
        local = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
        return local.astimezone(datetime.UTC).replace(tzinfo=None)

    return midnight(scope.first), midnight(scope.last + datetime.timedelta(days=1))


def as_date(value):
    """A date column's value: a date on PostgreSQL, ISO text on SQLite's raw cursor."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def as_datetime(value):
    """A stored naive-UTC instant: a datetime on PostgreSQL, ISO text on SQLite's raw cursor."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(value)


# Who is in scope ---------------------------------------------------------------------


def _customers_in(scope, user_column):
    """The condition that keeps rows of the scope's customers (None: everyone)."""
    if scope.customer_id is not None:
        return user_column == scope.customer_id
    if scope.group_id is not None:
        return user_column.in_(User.select(User.id).where(User.group == scope.group_id))
    return None


def _where(query, *conditions):
    for condition in conditions:
        if condition is not None:
            query = query.where(condition)
    return query


def _customer_accounts(scope):
    accounts = LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.user.is_null(False))
    return _where(accounts, _customers_in(scope, LedgerAccount.user))


def _customer_entries(scope, *columns):
    """Entries on the scope's customers' accounts (system accounts never count)."""
    return Entry.select(*columns).where(Entry.account.in_(_customer_accounts(scope)))


def _in_period(query, scope):
    return query.where(Entry.local_date.between(scope.first, scope.last))


def _sums_by_day_and_category(scope, categories):
    """{(shop day, category): (count, total)} of customers' entries in the period."""
    query = _in_period(
        _customer_entries(scope, Entry.local_date, Entry.category, fn.COUNT(Entry.id), fn.SUM(Entry.amount)),
        scope,
    ).where(Entry.category.in_(categories))
    query = query.group_by(Entry.local_date, Entry.category).tuples()
    return {(as_date(day), category): (count, total) for day, category, count, total in query}


def _bucketed(scope, by_day):
    """{bucket start: [values of each day in it]} for a {day: value} mapping."""
    buckets = {start: [] for start in bucket_starts(scope)}
    for day, value in by_day.items():
        buckets[bucket_start(day, scope.bucket)].append(value)
    return buckets


def bucket_label(start, scope, locale):
    """A bucket as people read it: its first day inside the period (a week or month cut by the
    period's start says so), with the year when the period spans more than one."""
    if scope.bucket == "month":
        return format_date(start, "MMM y", locale=locale)
    first = max(start, scope.first)
    day_format = "d MMM y" if scope.first.year != scope.last.year else "d MMM"
    if scope.bucket == "week":
        return ("from " if first != start else "w/c ") + format_date(first, day_format, locale=locale)
    return format_date(first, day_format, locale=locale)


def _labels(scope):
    locale = load_settings().locale
    return [bucket_label(start, scope, locale) for start in bucket_starts(scope)]


def _column(rows, key):
    """One column of a report's rows, for its chart."""
    return [row[key] for row in rows]


def _average(total, count):
    return (total + count // 2) // count if count else 0  # half up, in whole minor units


def median(values):
    """The middle value; of an even count the mean of the middle two, rounded half up."""
    if not values:
        return 0
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle] + 1) // 2


def _share(part, whole):
    """A percentage with one decimal, as a number (None when there is no whole)."""
    return round(part * 100 / whole, 1) if whole else None


# Deposits -----------------------------------------------------------------------------


def deposits(scope):
    sums = _sums_by_day_and_category(scope, ["deposit", "bonus"])
    per_bucket = defaultdict(lambda: {"count": 0, "total": 0, "bonus": 0})
    for (day, category), (count, total) in sums.items():
        bucket = per_bucket[bucket_start(day, scope.bucket)]
        if category == "deposit":
            bucket["count"] += count
            bucket["total"] += total
        else:
            bucket["bonus"] += total
    rows = []
    for start, label in zip(bucket_starts(scope), _labels(scope), strict=True):
        figures = per_bucket[start]
        rows.append(
            {
                "period": label,
                "count": figures["count"],
                "total": figures["total"],
                "average": _average(figures["total"], figures["count"]),
                "bonus": figures["bonus"],
            }
        )
    count = sum(row["count"] for row in rows)
    total = sum(row["total"] for row in rows)
    bonus = sum(row["bonus"] for row in rows)
    return Report(
        key="deposits",
        title="Deposits",
        columns=[
            Column("period", "Period", "text"),
            Column("count", "Top-ups", "count"),
            Column("total", "Deposited"),
            Column("average", "Average top-up"),
            Column("bonus", "Bonus given"),
        ],
        rows=rows,
        chart=Chart(
            "Deposited and bonus given",
            _column(rows, "period"),
            [
                Series("Deposited", _column(rows, "total"), "series-1"),
                Series("Bonus given", _column(rows, "bonus"), "series-2"),
            ],
        ),
        summary=[
            ("Top-ups", count, "count"),
            ("Deposited", total, "money"),
            ("Average top-up", _average(total, count), "money"),
            ("Bonus given", bonus, "money"),
        ],
        notes=["Top-ups paid by card; bonuses are the shop's money and shown apart."],
    )


# Funds roll-forward -----------------------------------------------------------------------


def roll_forward(scope):
    """Opening balance + every movement of the period by category = closing balance.

    The opening balance and the lines are sums of entries; the closing balance it
    is checked against comes from the accounts' cached balances less what moved
    after the period, so a difference shows drift between the two.
    """
    opening = _entries_sum(scope, Entry.local_date < scope.first)
    moved = dict(
        _customer_entries(scope, Entry.category, fn.SUM(Entry.amount))
        .where(Entry.category.in_(CATEGORIES) & Entry.local_date.between(scope.first, scope.last))
        .group_by(Entry.category)
        .tuples()
    )
    lines = list(ROLL_FORWARD_LINES) + [
        (category, CATEGORY_LABELS.get(category, category))
        for category in sorted(moved)
        if category not in dict(ROLL_FORWARD_LINES)
    ]
    computed = opening + sum(moved.values())
    closing = _cached_balances(scope) - _entries_sum(scope, Entry.local_date > scope.last)
    rows = [{"line": "Opening balance", "amount": opening}]
    rows += [{"line": label, "amount": moved.get(category, 0)} for category, label in lines]
    rows.append({"line": "Closing balance", "amount": computed})
    held, owed = _held_and_owed_on(scope)
    notes = [
        "Customers' account balances: money they hold is positive, credit they owe negative. "
        "Money on hold for unpaid orders has left their balances (Spent on orders) and comes "
        "back if the order is cancelled."
    ]
    if closing != computed:
        notes.append("The lines do not add up to the accounts' balances: run the ledger check.")
    return Report(
        key="roll-forward",
        title="Funds roll-forward",
        columns=[Column("line", "Line", "text"), Column("amount", "Amount")],
        rows=rows,
        chart=Chart(
            "Movements in the period",
            [label for _, label in lines],
            [Series("Amount", [moved.get(category, 0) for category, _ in lines], "series-1")],
        ),
        summary=[
            ("Closing balance (accounts)", closing, "money"),
            ("Difference", closing - computed, "money"),
            ("Held for customers at the end", held, "money"),
            ("Owed by customers at the end", owed, "money"),
        ],
        notes=notes,
    )


def _entries_sum(scope, condition):
    """The scope's customers' entries that meet `condition` (on local_date), summed from the index."""
    query = _customer_entries(scope, fn.COALESCE(fn.SUM(Entry.amount), 0))
    return int(query.where(Entry.category.in_(CATEGORIES) & condition).scalar())


def _cached_balances(scope):
    query = _where(
        LedgerAccount.select(fn.COALESCE(fn.SUM(LedgerAccount.balance), 0)).where(
            LedgerAccount.user.is_null(False)
        ),
        _customers_in(scope, LedgerAccount.user),
    )
    return int(query.scalar())


def _held_and_owed_on(scope):
    """(sum of positive balances, sum of debts as a positive number) at the end of the last day:
    each account's running balance after its last entry up to then."""
    last_entries = (
        _customer_entries(scope, fn.MAX(Entry.id))
        .where(Entry.local_date <= scope.last)
        .group_by(Entry.account)
    )
    row = (
        Entry.select(
            fn.COALESCE(fn.SUM(_positive(Entry.balance_after)), 0),
            fn.COALESCE(fn.SUM(_positive(0 - Entry.balance_after)), 0),
        )
        .where(Entry.id.in_(last_entries))
        .tuples()
        .get()
    )
    return int(row[0]), int(row[1])


def _positive(value):
    return Case(None, [(value > 0, value)], 0)


# Usage ----------------------------------------------------------------------------------

# An order's value before the funds discount (its subtotal), from the columns the report index holds.
ORDER_VALUE = Order.total + Order.funds_discount

PAYMENT_PARTS = (
    ("funds_used", "Funds"),
    ("credit_used", "Credit"),
    ("card_amount", "Card"),
    ("bank_amount", "Bank transfer"),
    ("marketplace_amount", "Marketplace"),
)


def _paid_orders(scope, *columns):
    query = Order.select(*columns).where(
        (Order.local_date >= scope.first) & (Order.local_date <= scope.last) & Order.paid_at.is_null(False)
    )
    return _where(query, _customers_in(scope, Order.user))


def usage(scope):
    columns = [Order.local_date, fn.COUNT(Order.id), fn.SUM(Order.total), fn.SUM(Order.funds_discount)]
    columns += [fn.SUM(getattr(Order, part)) for part, _ in PAYMENT_PARTS]
    by_day = {}
    for day, count, total, discount, *parts in (
        _paid_orders(scope, *columns).group_by(Order.local_date).tuples()
    ):
        by_day[as_date(day)] = (count, total, discount, parts)
    rows = []
    for (start, values), label in zip(_bucketed(scope, by_day).items(), _labels(scope), strict=True):
        del start
        row = {"period": label, "orders": sum(v[0] for v in values), "value": sum(v[1] for v in values)}
        for number, (part, _) in enumerate(PAYMENT_PARTS):
            row[part] = sum(v[3][number] for v in values)
        row["discount"] = sum(v[2] for v in values)
        row["funds_share"] = _share(row["funds_used"], row["value"])
        rows.append(row)
    totals = {key: sum(row[key] for row in rows) for key in ("orders", "value", "discount")}
    totals.update({part: sum(row[part] for row in rows) for part, _ in PAYMENT_PARTS})
    other = totals["card_amount"] + totals["bank_amount"] + totals["marketplace_amount"]
    return Report(
        key="usage",
        title="How orders are paid",
        columns=[
            Column("period", "Period", "text"),
            Column("orders", "Orders", "count"),
            Column("value", "Value"),
        ]
        + [Column(part, label) for part, label in PAYMENT_PARTS]
        + [Column("discount", "Funds discount"), Column("funds_share", "Funds share", "percent")],
        rows=rows,
        chart=Chart(
            "Order value by how it was paid",
            _column(rows, "period"),
            [
                Series("Funds", _column(rows, "funds_used"), "series-1"),
                Series("Credit", _column(rows, "credit_used"), "series-2"),
                Series(
                    "Other methods",
                    [row["card_amount"] + row["bank_amount"] + row["marketplace_amount"] for row in rows],
                    "series-3",
                ),
            ],
        ),
        summary=[
            ("Paid orders", totals["orders"], "count"),
            ("Order value", totals["value"], "money"),
            ("Paid with funds", _share(totals["funds_used"], totals["value"]), "percent"),
            ("Paid with credit", _share(totals["credit_used"], totals["value"]), "percent"),
            ("Paid other ways", _share(other, totals["value"]), "percent"),
            ("Discount for paying with funds", totals["discount"], "money"),
        ],
        notes=["Orders placed in the period and paid (later refunds are not taken off)."],
    )


# Order value ------------------------------------------------------------------------------


def order_value(scope):
    """Average and median order value, paid with funds against without, and what changed."""
    # Every order's total is needed for the medians: one row per day with the day's totals
    # collected in SQL (a year of orders would otherwise be a million rows for Python).
    paid_with_funds = Order.funds_used > 0
    query = _paid_orders(
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
        zip(per_bucket.values(), _labels(scope), strict=True)
    ):
        all_with += with_funds
        all_without += without
        rows.append({**_value_row(label, with_funds, without), "changes": "; ".join(changes[index])})
    return Report(
        key="order-value",
        title="Order value",
        columns=[
            Column("period", "Period", "text"),
            Column("funds_orders", "Orders (funds)", "count"),
            Column("funds_average", "Average (funds)"),
            Column("funds_median", "Median (funds)"),
            Column("other_orders", "Orders (other)", "count"),
            Column("other_average", "Average (other)"),
            Column("other_median", "Median (other)"),
            Column("changes", "Setting changed", "text"),
        ],
        rows=rows,
        chart=Chart(
            "Median order value",
            _column(rows, "period"),
            [
                Series("Paid with funds", _column(rows, "funds_median"), "series-1"),
                Series("Paid without funds", _column(rows, "other_median"), "series-3"),
            ],
            markers=[(marker.bucket_index, marker.text) for marker in markers],
        ),
        summary=[
            ("Median with funds", median(all_with), "money"),
            ("Median without funds", median(all_without), "money"),
            ("Average with funds", _average(sum(all_with), len(all_with)), "money"),
            ("Average without funds", _average(sum(all_without), len(all_without)), "money"),
        ],
        notes=[
            "Order value before the funds discount (what the basket was worth). “Funds”: orders paid "
            "at least in part from the customer's positive balance; “other”: the rest. “Setting "
            "changed”: the funds discount or the top-up minimum, of the shop or a group."
        ],
    )


def _value_row(label, with_funds, without):
    return {
        "period": label,
        "funds_orders": len(with_funds),
        "funds_average": _average(sum(with_funds), len(with_funds)),
        "funds_median": median(with_funds),
        "other_orders": len(without),
        "other_average": _average(sum(without), len(without)),
        "other_median": median(without),
    }


@dataclass(frozen=True)
class Marker:
    day: datetime.date
    bucket_index: int
    text: str


WATCHED_SETTINGS = {"topup_min": "top-up minimum", "funds_discount_bp": "funds discount"}


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
        where = "shop default" if entry.action == "settings_changed" else after.get("name") or entry.target
        text = "; ".join(
            f"{where}: {WATCHED_SETTINGS[name]} {_setting_text(name, before.get(name))} → "
            f"{_setting_text(name, after.get(name))}"
            for name in changed
        )
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
        return f"{int(value) / 100:g} %"
    from models.settings import format_money

    return format_money(int(value))


def order_value_hints(today, days=90):
    """(median order value before the funds discount, most-bought product or None) over the
    last `days` shop days."""
    scope = Scope(today - datetime.timedelta(days=days - 1), today)
    totals = [value for (value,) in db.execute(_paid_orders(scope, ORDER_VALUE).tuples())]
    from models.orders import OrderLine

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


# Credit ------------------------------------------------------------------------------------


def credit(scope):
    # Drawn: the credit part of the orders placed in the period and paid (a hold of an order
    # later cancelled is given back, so it draws nothing).
    drawn = {
        as_date(day): total
        for day, total in _paid_orders(scope, Order.local_date, fn.SUM(Order.credit_used))
        .group_by(Order.local_date)
        .tuples()
    }
    repaid = {day: total for (day, _), (_, total) in _sums_by_day_and_category(scope, ["repayment"]).items()}
    drawn_buckets, repaid_buckets = _bucketed(scope, drawn), _bucketed(scope, repaid)
    rows = [
        {"period": label, "drawn": sum(drawn_buckets[start]), "repaid": sum(repaid_buckets[start])}
        for start, label in zip(bucket_starts(scope), _labels(scope), strict=True)
    ]
    now = _credit_now(scope)
    decided = _credit_requests_decided(scope)
    return Report(
        key="credit",
        title="Credit",
        columns=[
            Column("period", "Period", "text"),
            Column("drawn", "Drawn on credit"),
            Column("repaid", "Paid back"),
        ],
        rows=rows,
        chart=Chart(
            "Drawn on credit and paid back",
            _column(rows, "period"),
            [
                Series("Drawn", _column(rows, "drawn"), "series-2"),
                Series("Paid back", _column(rows, "repaid"), "series-1"),
            ],
        ),
        summary=[
            ("Customers using credit now", now["using"], "count"),
            ("Owed now", now["owed"], "money"),
            ("Credit limits extended", now["limits"], "money"),
            ("Utilisation", _share(now["owed"], now["limits"]), "percent"),
            ("Credit requests approved", decided["approved"], "count"),
            ("Credit approved", decided["approved_amount"], "money"),
            ("Credit requests declined", decided["declined"], "count"),
        ],
        notes=[
            "Drawn: the part of paid orders (placed in the period) that took balances below zero. "
            "Owed, limits and utilisation are as of now; requests are those decided in the period."
        ],
    )


def _credit_now(scope):
    accounts = _where(
        LedgerAccount.select(
            fn.COALESCE(fn.SUM(_flag(LedgerAccount.balance < 0)), 0),
            fn.COALESCE(fn.SUM(_positive(0 - LedgerAccount.balance)), 0),
            fn.COALESCE(fn.SUM(LedgerAccount.credit_limit), 0),
        ).where(LedgerAccount.user.is_null(False)),
        _customers_in(scope, LedgerAccount.user),
    )
    using, owed, limits = accounts.tuples().get()
    return {"using": int(using or 0), "owed": int(owed), "limits": int(limits)}


def _flag(condition):
    return Case(None, [(condition, 1)], 0)


def _credit_requests_decided(scope):
    start, end = instants(scope)
    query = _where(
        CreditRequest.select(
            CreditRequest.state, fn.COUNT(CreditRequest.id), fn.SUM(CreditRequest.approved_amount)
        )
        .where((CreditRequest.decided_at >= start) & (CreditRequest.decided_at < end))
        .group_by(CreditRequest.state),
        _customers_in(scope, CreditRequest.user),
    )
    counts = {state: (count, amount or 0) for state, count, amount in query.tuples()}
    return {
        "approved": counts.get("approved", (0, 0))[0],
        "approved_amount": counts.get("approved", (0, 0))[1],
        "declined": counts.get("declined", (0, 0))[0],
    }


# Reminders ------------------------------------------------------------------------------------


def reminders(scope):
    """Reminders sent in the period, the orders paid within 48 hours of one, and the money."""
    query = _where(
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
        _customers_in(scope, Reminder.user),
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
            "segment": SEGMENT_LABELS.get(segment, segment),
            "window": window,
            "sent": figures["sent"],
            "paid": figures["paid"],
            "rate": _share(figures["paid"], figures["sent"]),
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
        title="Payment reminders",
        columns=[
            Column("segment", "Customers", "text"),
            Column("window", "Dispatch window", "text"),
            Column("sent", "Sent", "count"),
            Column("paid", "Paid within 48 h", "count"),
            Column("rate", "Paid share", "percent"),
            Column("amount", "Amount recovered"),
        ],
        rows=rows,
        chart=Chart(
            "Reminders sent and orders paid within 48 hours",
            _labels(scope),
            [
                Series("Sent", [per_bucket[start]["sent"] for start in starts], "series-3"),
                Series("Paid within 48 h", [per_bucket[start]["paid"] for start in starts], "series-1"),
            ],
            kind="count",
        ),
        summary=[
            ("Reminders sent", sent_total, "count"),
            ("Orders paid within 48 h", paid_total, "count"),
            ("Paid share", _share(paid_total, sent_total), "percent"),
            ("Amount recovered", sum(row["amount"] for row in rows), "money"),
        ],
        notes=[
            "An order paid within 48 hours of a reminder counts once, for the last reminder sent before "
            "the payment."
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
        return f"before the {local:%H:%M} dispatch"
    local = window_start.replace(tzinfo=datetime.UTC).astimezone(zone)
    return f"{local:%H:%M} (hours after the order)"


REPORTS = {
    "deposits": deposits,
    "roll-forward": roll_forward,
    "usage": usage,
    "order-value": order_value,
    "credit": credit,
    "reminders": reminders,
}
REPORT_TITLES = {
    "deposits": "Deposits",
    "roll-forward": "Funds roll-forward",
    "usage": "How orders are paid",
    "order-value": "Order value",
    "credit": "Credit",
    "reminders": "Reminders",
}


# The dashboard ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    held: int  # positive balances: the shop's liability
    owed: int  # debts on credit, as a positive amount
    credit_limits: int  # credit extended to customers
    deposits_week: int
    deposits_week_before: int
    funds_spent_week: int  # order value paid from balances (funds and credit) in the last 7 days
    funds_spent_week_before: int
    unpaid_orders: int
    unpaid_value: int


def dashboard(today):
    """The owner's figures at a glance: balances now, the last 7 days against the 7 before."""
    held, owed, limits = (
        LedgerAccount.select(
            fn.COALESCE(fn.SUM(_positive(LedgerAccount.balance)), 0),
            fn.COALESCE(fn.SUM(_positive(0 - LedgerAccount.balance)), 0),
            fn.COALESCE(fn.SUM(LedgerAccount.credit_limit), 0),
        )
        .where(LedgerAccount.user.is_null(False))
        .tuples()
        .get()
    )
    week = Scope(today - datetime.timedelta(days=6), today)
    before = Scope(today - datetime.timedelta(days=13), today - datetime.timedelta(days=7))
    unpaid, unpaid_value = (
        Order.select(fn.COUNT(Order.id), fn.COALESCE(fn.SUM(Order.total), 0))
        .where(Order.status == PENDING_PAYMENT)
        .tuples()
        .get()
    )
    return Dashboard(
        held=int(held),
        owed=int(owed),
        credit_limits=int(limits),
        deposits_week=_deposited(week),
        deposits_week_before=_deposited(before),
        funds_spent_week=_spent_from_accounts(week),
        funds_spent_week_before=_spent_from_accounts(before),
        unpaid_orders=unpaid,
        unpaid_value=int(unpaid_value),
    )


def _deposited(scope):
    return sum(total for (_, category), (_, total) in _sums_by_day_and_category(scope, ["deposit"]).items())


def _spent_from_accounts(scope):
    return int(_paid_orders(scope, fn.COALESCE(fn.SUM(Order.funds_used + Order.credit_used), 0)).scalar())
