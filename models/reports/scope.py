"""What every report shares: its scope (period, buckets, group or customer), the shapes of its
figures (columns, series, chart), and the queries that keep a report to its scope.
"""

import datetime
from dataclasses import dataclass
from dataclasses import field

from babel.dates import format_date
from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import Case
from peewee import fn

from models.funds.ledger import Entry
from models.funds.ledger import LedgerAccount
from models.orders.order import Order
from models.shop.language import active_locale
from models.shop.settings import load_settings
from models.users.user import User

BUCKETS = {"day": lazy_gettext("Day"), "week": lazy_gettext("Week"), "month": lazy_gettext("Month")}


PRESETS = {
    "7d": lazy_gettext("Last 7 days"),
    "this_month": lazy_gettext("This month"),
    "last_month": lazy_gettext("Last month"),
    "this_year": lazy_gettext("This year"),
    "custom": lazy_gettext("Between dates…"),
}


MAX_DAYS = 366 * 2  # longer ranges are cut to this many days, with a note


EARLIEST = datetime.date(2000, 1, 1)


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
    css: str = ""  # a class for its cells (a sentence needs room to wrap)


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
    links: list = field(default_factory=list)  # (text, key of another report), under the notes
    lead: str = ""  # the report's answer in a sentence, shown above the figures
    variants: list = field(default_factory=list)  # the reminders report's wording A against B


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


def customers_in(scope, user_column):
    """The condition that keeps rows of the scope's customers (None: everyone)."""
    if scope.customer_id is not None:
        return user_column == scope.customer_id
    if scope.group_id is not None:
        return user_column.in_(User.select(User.id).where(User.group == scope.group_id))
    return None


def where_all(query, *conditions):
    for condition in conditions:
        if condition is not None:
            query = query.where(condition)
    return query


def customer_accounts(scope):
    accounts = LedgerAccount.select(LedgerAccount.id).where(LedgerAccount.user.is_null(False))
    return where_all(accounts, customers_in(scope, LedgerAccount.user))


def customer_entries(scope, *columns):
    """Entries on the scope's customers' accounts (system accounts never count)."""
    return Entry.select(*columns).where(Entry.account.in_(customer_accounts(scope)))


def in_period(query, scope):
    return query.where(Entry.local_date.between(scope.first, scope.last))


def sums_by_day_and_category(scope, categories):
    """{(shop day, category): (count, total)} of customers' entries in the period."""
    query = in_period(
        customer_entries(scope, Entry.local_date, Entry.category, fn.COUNT(Entry.id), fn.SUM(Entry.amount)),
        scope,
    ).where(Entry.category.in_(categories))
    query = query.group_by(Entry.local_date, Entry.category).tuples()
    return {(as_date(day), category): (count, total) for day, category, count, total in query}


def bucketed(scope, by_day):
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
    day = format_date(first, day_format, locale=locale)
    if scope.bucket == "week":
        # "w/c": the week commencing on that day; "from": a week cut by the period's first day.
        return gettext("from %(day)s", day=day) if first != start else gettext("w/c %(day)s", day=day)
    return day


def bucket_labels(scope):
    """The buckets' labels in the page's language (a CSV is written in the language of the page it
    is downloaded from)."""
    locale = active_locale()
    return [bucket_label(start, scope, locale) for start in bucket_starts(scope)]


def column_of(rows, key):
    """One column of a report's rows, for its chart."""
    return [row[key] for row in rows]


def average_of(total, count):
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


def share_of(part, whole):
    """A percentage with one decimal, as a number (None when there is no whole)."""
    return round(part * 100 / whole, 1) if whole else None


def positive_part(value):
    return Case(None, [(value > 0, value)], 0)


# An order's goods value before the funds discount (its subtotal): delivery is reported apart
# (Order.delivery_price; marketplace orders have none, their shipping is in their own total).
ORDER_VALUE = Order.total + Order.funds_discount - Order.delivery_price


def paid_orders(scope, *columns):
    query = Order.select(*columns).where(
        (Order.local_date >= scope.first) & (Order.local_date <= scope.last) & Order.paid_at.is_null(False)
    )
    return where_all(query, customers_in(scope, Order.user))
