"""Payment reminders: when they may go (windows), and who gets one (the plan).

A reminder goes out in a *window*. In `dispatch` mode a window is the
`window_minutes` before each of the day's dispatch times (closed dates have
none), so a customer who pays after the reminder still ships in that dispatch.
In `after_order` mode every hour outside the quiet hours is a window, and an
order is reminded once it is `hours_after_order` old. A window's key is its
local date and time, so a window that a daylight-saving change repeats or
shortens is still one batch.

`plan(at)` decides, for every order awaiting payment, whether it gets a
reminder at `at` or why not (one reason per order, from REASONS, first match
wins). It reads and never writes: models/reminder_batches.py turns a plan into
rows and sends them, re-checking each row just before.
"""

import datetime
import json
from collections import namedtuple
from dataclasses import asdict
from dataclasses import dataclass

from peewee import BooleanField
from peewee import Case
from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import JOIN
from peewee import TextField
from peewee import Value

from models.audit import audit_changes
from models.base import BaseModel
from models.base import db
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.catalog import Category
from models.groups import CustomerGroup
from models.orders import CARD_START_GRACE
from models.orders import Order
from models.orders import OrderPayment
from models.orders import PENDING_PAYMENT
from models.outbox import OutboxMessage
from models.settings import load_settings
from models.user import User
from payments import PENDING

UTC = datetime.UTC
DISPATCH, AFTER_ORDER = "dispatch", "after_order"
MODES = (DISPATCH, AFTER_ORDER)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_DISPATCH_TIMES = {day: (["11:00", "17:00"] if day not in ("sat", "sun") else []) for day in WEEKDAYS}

NEW, RETURNING, LOYAL = "new", "returning", "loyal"
SEGMENTS = (NEW, RETURNING, LOYAL)

PLANNED, SENT, CANCELLED = "planned", "sent", "cancelled"

# Why an order awaiting payment gets no reminder, in the order the rules are tried.
REASONS = {
    "marketplace": "Ordered on a marketplace",
    "cancelled": "Cancelled or closed",
    "not_newest": "The customer has a newer unpaid order",
    "payment_confirming": "A card payment is being confirmed",
    "cancel_soon": "Cancelled automatically soon",
    "too_recent": "Placed too recently",
    "opted_out": "The customer opted out (or the account is closed or blocked)",
    "group_off": "The customer's group gets no reminders",
    "paid_today": "The customer paid an order today",
    "already_sent": "Already reminded in this window",
    "order_limit": "Reminded the most times allowed",
    "daily_limit": "The customer was reminded today",
    "outside_window": "No reminder window is open",
}
# A pending card payment this young may still be completed by the customer right now; an
# older one was abandoned (the provider has been asked about it by reconciliation).
CONFIRMING_FOR = datetime.timedelta(hours=1)


class ReminderSettings(BaseModel):
    enabled = BooleanField(default=True)
    mode = CharField(default=DISPATCH)
    dispatch_times = TextField(default="")  # JSON {"mon": ["11:00", "17:00"], …}; "" = the defaults
    closed_dates = TextField(default="")  # one ISO date per line
    window_minutes = IntegerField(default=60)
    hours_after_order = IntegerField(default=2)
    quiet_start = CharField(default="21:00")
    quiet_end = CharField(default="08:00")
    min_age_minutes = IntegerField(default=60)
    cancel_margin_hours = IntegerField(default=6)
    max_per_order = IntegerField(default=2)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reminder_settings"

    def times_by_weekday(self):
        """{0 (Monday) … 6: sorted list of datetime.time}."""
        table = json.loads(self.dispatch_times) if self.dispatch_times else DEFAULT_DISPATCH_TIMES
        return {
            index: sorted(datetime.time.fromisoformat(text) for text in table.get(day, []))
            for index, day in enumerate(WEEKDAYS)
        }

    def closed(self):
        return {
            datetime.date.fromisoformat(line.strip()) for line in self.closed_dates.split() if line.strip()
        }


class ReminderTemplate(BaseModel):
    segment = CharField(unique=True)
    subject = CharField()
    body = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reminder_template"


class CategoryParagraph(BaseModel):
    category = ForeignKeyField(Category, unique=True, on_delete="CASCADE")
    text = TextField()

    class Meta:
        table_name = "reminder_category_paragraph"


class ReminderBatch(BaseModel):
    window_key = CharField(unique=True)
    mode = CharField()
    window_start = DateTimeField()
    window_end = DateTimeField()
    dispatch_at = DateTimeField(null=True)
    local_date = DateField(index=True)
    planned_at = DateTimeField(index=True)
    finished_at = DateTimeField(null=True)
    excluded = IntegerField(default=0)

    class Meta:
        table_name = "reminder_batch"


class Reminder(BaseModel):
    batch = ForeignKeyField(ReminderBatch, on_delete="CASCADE", index=True, backref="reminders")
    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
    segment = CharField()
    template = CharField()
    reminder_number = IntegerField()
    local_date = DateField(index=True)
    state = CharField(default=PLANNED, index=True)
    cancel_reason = CharField(default="")
    outbox_message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
    planned_at = DateTimeField()
    decided_at = DateTimeField(null=True)

    class Meta:
        table_name = "reminder"


def load_reminder_settings():
    settings = ReminderSettings.get_or_none(ReminderSettings.id == 1)
    if settings is not None:
        return settings
    with write_transaction():
        settings = ReminderSettings.get_or_none(ReminderSettings.id == 1)
        if settings is None:
            settings = ReminderSettings.create(id=1)
    return settings


# Windows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime.datetime  # aware UTC
    end: datetime.datetime
    dispatch_at: datetime.datetime | None  # the dispatch it leads to (dispatch mode)

    def is_open(self, at):
        return self.start <= at < self.end


def local_moment(day, time, tz):
    """`time` on `day` in `tz`, as aware UTC. A time a spring-forward skips is read with the
    offset before the change (02:30 becomes 03:30), so it still exists, once."""
    return datetime.datetime.combine(day, time, tzinfo=tz).astimezone(UTC)


def dispatches(settings, tz, first_day, days=15):
    """(local day, dispatch time, aware UTC instant) of every dispatch from `first_day` on."""
    times = settings.times_by_weekday()
    closed = settings.closed()
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        if day in closed:
            continue
        # By instant, not by clock time: on a spring-forward day a skipped 01:30 is 02:30 summer
        # time, later than a 02:00 that comes after it on the clock.
        yield from sorted(
            ((day, time, local_moment(day, time, tz)) for time in times[day.weekday()]), key=lambda d: d[2]
        )


def next_dispatch(at, settings=None, tz=None):
    """The first dispatch at or after `at` (aware UTC), or None if none is set in two weeks."""
    settings = settings or load_reminder_settings()
    tz = tz or load_settings().tz
    for _day, _time, moment in dispatches(settings, tz, at.astimezone(tz).date()):
        if moment > at:
            return moment
    return None


def _is_quiet(local_time, settings):
    start = datetime.time.fromisoformat(settings.quiet_start)
    end = datetime.time.fromisoformat(settings.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end  # across midnight


def next_window(at, settings=None, tz=None):
    """The window open at `at`, else the next one to open (None if none in two weeks)."""
    settings = settings or load_reminder_settings()
    tz = tz or load_settings().tz
    at = at.astimezone(UTC)
    if settings.mode == AFTER_ORDER:
        return _next_hour_window(at, settings, tz)
    length = datetime.timedelta(minutes=settings.window_minutes)
    for day, time, moment in dispatches(settings, tz, at.astimezone(tz).date() - datetime.timedelta(days=1)):
        if moment > at:
            key = f"dispatch:{day.isoformat()}T{time:%H:%M}"
            return Window(key, moment - length, moment, moment)
    return None


def _next_hour_window(at, settings, tz):
    local = at.astimezone(tz)
    hour = local.replace(minute=0, second=0, microsecond=0)
    for _ in range(48):
        start = hour.astimezone(UTC)
        if not _is_quiet(hour.time(), settings):
            fold = "b" if hour.fold else ""  # the repeated hour of a fall-back is its own window
            end = start + datetime.timedelta(hours=1)
            # Quiet hours starting within the hour (21:30) end its window there.
            quiet_from = local_moment(hour.date(), datetime.time.fromisoformat(settings.quiet_start), tz)
            if start < quiet_from < end:
                end = quiet_from
            return Window(f"hour:{hour:%Y-%m-%dT%H}:00{fold}", start, end, None)
        hour = (start + datetime.timedelta(hours=1)).astimezone(tz)
    return None


def open_window(at, settings=None, tz=None):
    window = next_window(at, settings, tz)
    return window if window is not None and window.is_open(at.astimezone(UTC)) else None


# The plan ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Planned:
    customer_id: int
    email: str
    order_id: int
    order_number: str
    segment: str
    template: str
    reminder_number: int


@dataclass(slots=True)
class Excluded:
    order_id: int
    order_number: str
    customer_id: int
    reason: str


@dataclass
class Plan:
    at: datetime.datetime  # aware, shop time
    window: Window | None
    reminders: list
    excluded: list

    def as_json(self, tz):
        def iso(moment):
            return moment.astimezone(tz).isoformat()

        return {
            "at": iso(self.at),
            "window": None
            if self.window is None
            else {"start": iso(self.window.start), "end": iso(self.window.end)},
            "reminders": [asdict(item) for item in self.reminders],
            "excluded": [asdict(item) for item in self.excluded],
        }


def segment_for(paid_orders):
    if paid_orders >= 2:
        return LOYAL
    return RETURNING if paid_orders == 1 else NEW


def shop_day_start(at, tz):
    """The start of `at`'s shop day, as aware UTC."""
    return local_moment(at.astimezone(tz).date(), datetime.time(0), tz)


def plan(at, window=None, batch_id=None, user_id=None, ignore_reminder=None):
    """Who gets a reminder at `at` (aware), and why every other order awaiting payment doesn't.

    `window` defaults to the window open at `at`; `batch_id` is that window's batch if it
    was planned already (its rows count as `already_sent`). `user_id` limits the plan to
    one customer (every rule depends only on the customer's own orders and reminders), and
    `ignore_reminder` leaves out one reminder row: the one being checked before it is sent.
    """
    settings = load_reminder_settings()
    tz = load_settings().tz
    at = at.astimezone(tz)
    if window is None:
        window = open_window(at, settings, tz)
    if batch_id is None and window is not None:
        batch = ReminderBatch.get_or_none(ReminderBatch.window_key == window.key)
        batch_id = batch.id if batch is not None else None
    facts = _Facts(at, settings, tz, batch_id, user_id, ignore_reminder)
    reminders, excluded = [], []
    reason_for = facts.rules(window)
    for order in facts.orders:
        reason = reason_for(order)
        if reason:
            excluded.append(Excluded(order.id, order.number, order.user_id, reason))
        else:
            reminders.append(order)
    paid_counts = facts.paid_order_counts()
    planned = [
        Planned(
            customer_id=order.user_id,
            email=facts.users[order.user_id].email,
            order_id=order.id,
            order_number=order.number,
            segment=(segment := segment_for(paid_counts.get(order.user_id, 0))),
            template=segment,
            reminder_number=facts.sent_counts.get(order.id, 0) + 1,
        )
        for order in reminders
    ]
    return Plan(at, window, planned, excluded)


# The rules' own rows: namedtuples, the cheapest to make by the hundred thousand.
_UnpaidOrder = namedtuple("_UnpaidOrder", "id number user_id from_shop overdue cancel_soon too_recent")
_Customer = namedtuple("_Customer", "email opted_out group_off")


class _Facts:
    """What the rules need, read with a handful of set-based queries (no query per order)."""

    def __init__(self, at, settings, tz, batch_id, user_id=None, ignore_reminder=None):
        self.user_id = user_id
        self.ignore_reminder = ignore_reminder
        self.at = at
        self.now = to_naive_utc(at)
        self.settings = settings
        self.batch_id = batch_id
        self.day_start = to_naive_utc(shop_day_start(at, tz))
        self.local_date = at.date()
        self.orders = self._unpaid_orders()
        self.newest = {}
        for order in self.orders:  # ascending id: the last one seen is the newest
            if order.from_shop and not order.overdue:
                self.newest[order.user_id] = order.id
        self.users = self._customers()
        self.paid_today = self._paid_today()
        self.confirming = self._confirming()
        self.sent_counts, self.in_this_batch = self._reminders_so_far()
        self.reminded_today = self._reminded_today()

    def _of_customer(self, column):
        return column == self.user_id if self.user_id is not None else Value(1) == 1

    def _counted(self, reminder):
        """Reminder rows that count: sent, or planned in a window still open (one whose window
        closed was never sent, and is cancelled by the next tick), and not the one being checked."""
        still_open = ReminderBatch.select(ReminderBatch.id).where(ReminderBatch.window_end > self.now)
        condition = (reminder.state == SENT) | ((reminder.state == PLANNED) & reminder.batch.in_(still_open))
        if self.ignore_reminder is not None:
            condition &= reminder.id != self.ignore_reminder
        return condition

    def rules(self, window):
        """reason(order): the first rule that keeps the order from a reminder (REASONS' order),
        or None. A closure over the facts: it runs once per unpaid order."""
        newest, confirming, users = self.newest, self.confirming, self.users
        paid_today, in_this_batch, sent_counts = self.paid_today, self.in_this_batch, self.sent_counts
        reminded_today, max_per_order = self.reminded_today, self.settings.max_per_order
        window_closed = window is None or not window.is_open(self.at) or not self.settings.enabled

        def reason(order):
            order_id, user_id = order.id, order.user_id
            if not order.from_shop:
                return "marketplace"
            if order.overdue:
                return "cancelled"
            if newest.get(user_id) != order_id:
                return "not_newest"
            if order_id in confirming:
                return "payment_confirming"
            if order.cancel_soon:
                return "cancel_soon"
            if order.too_recent:
                return "too_recent"
            customer = users.get(user_id)
            if customer is None:  # its last unpaid order was paid or cancelled between two reads
                return "cancelled"
            if customer.opted_out:
                return "opted_out"
            if customer.group_off:
                return "group_off"
            if user_id in paid_today:
                return "paid_today"
            if order_id in in_this_batch:
                return "already_sent"
            if sent_counts.get(order_id, 0) >= max_per_order:
                return "order_limit"
            if user_id in reminded_today:
                return "daily_limit"
            if window_closed:
                return "outside_window"
            return None

        return reason

    def _unpaid_orders(self):
        min_age = datetime.timedelta(minutes=self.settings.min_age_minutes)
        if self.settings.mode == AFTER_ORDER:
            min_age = max(min_age, datetime.timedelta(hours=self.settings.hours_after_order))
        margin = datetime.timedelta(hours=self.settings.cancel_margin_hours)
        query = (
            Order.select(
                Order.id,
                Order.number,
                Order.user,
                Order.channel == "shop",
                Order.auto_cancel_at.is_null(False) & (Order.auto_cancel_at <= self.now),
                Order.auto_cancel_at.is_null(False) & (Order.auto_cancel_at < self.now + margin),
                Order.created_at > self.now - min_age,
            )
            .where((Order.status == PENDING_PAYMENT) & self._of_customer(Order.user))
            .order_by(Order.id)
        )
        # Straight from the cursor: Peewee's per-column conversion costs more than the query.
        return [
            _UnpaidOrder(id_, number, user_id, shop == 1, overdue == 1, soon == 1, recent == 1)
            for id_, number, user_id, shop, overdue, soon, recent in db.execute(query)
        ]

    def _customers(self):
        groups_off = {
            group_id
            for (group_id,) in CustomerGroup.select(CustomerGroup.id)
            .where(CustomerGroup.reminders_enabled == False)  # noqa: E712
            .tuples()
        }
        # A closed or blocked account is treated as opted out: it gets no reminders.
        no_reminders = (
            User.reminders_opted_out_at.is_null(False)
            | User.deleted_at.is_null(False)
            | User.blocked_at.is_null(False)
        )
        query = User.select(User.id, User.email, User.group, no_reminders).where(
            User.id.in_(self._with_unpaid())
        )
        return {
            user_id: _Customer(email, off == 1, group_id in groups_off)
            for user_id, email, group_id, off in db.execute(query)
        }

    def _with_unpaid(self):
        return Order.select(Order.user).where(
            (Order.status == PENDING_PAYMENT) & self._of_customer(Order.user)
        )

    def _paid_today(self):
        query = (
            Order.select(Order.user)
            .where(
                (Order.paid_at >= self.day_start)
                & (Order.paid_at <= self.now)
                & self._of_customer(Order.user)
            )
            .distinct()
            .tuples()
        )
        return {user_id for (user_id,) in query}

    def _confirming(self):
        query = (
            OrderPayment.select(OrderPayment.order)
            .join(Order, on=(OrderPayment.order == Order.id))
            .where(
                (Order.status == PENDING_PAYMENT)
                & self._of_customer(Order.user)
                & (OrderPayment.state == PENDING)
                & (OrderPayment.created_at <= self.now)
                & (
                    (
                        OrderPayment.provider_payment_id.is_null(False)
                        & (OrderPayment.created_at > self.now - CONFIRMING_FOR)
                    )
                    | (OrderPayment.created_at > self.now - CARD_START_GRACE)
                )
            )
            .tuples()
        )
        return {order_id for (order_id,) in query}

    def _reminders_so_far(self):
        """{order id: reminders sent or planned} and the orders with one in this batch.

        From the unpaid orders to their reminders (a cross join keeps SQLite from starting at
        the state index, which would read every reminder ever sent)."""
        in_batch = Case(None, [(Reminder.batch == (self.batch_id or 0), 1)], 0)
        query = (
            Order.select(Order.id, fn.COUNT(Reminder.id), fn.MAX(in_batch))
            .join(Reminder, JOIN.CROSS)
            .where(
                (Reminder.order == Order.id)
                & (Order.status == PENDING_PAYMENT)
                & self._counted(Reminder)
                & self._of_customer(Order.user)
            )
            .group_by(Order.id)
        )
        counts, in_this_batch = {}, set()
        for order_id, count, in_batch_flag in db.execute(query):
            counts[order_id] = count
            if in_batch_flag:
                in_this_batch.add(order_id)
        return counts, in_this_batch

    def _reminded_today(self):
        query = (
            Reminder.select(Reminder.user)
            .where(
                (Reminder.local_date == self.local_date)
                & self._counted(Reminder)
                & self._of_customer(Reminder.user)
            )
            .tuples()
        )
        return {user_id for (user_id,) in query}

    def paid_order_counts(self):
        """{customer id: paid orders so far} for every customer with an unpaid order (one
        index-only query on order(user_id, paid_at), no list of ids)."""
        query = (
            Order.select(Order.user, fn.COUNT(Order.id))
            .where(
                Order.user.in_(self._with_unpaid())
                & Order.paid_at.is_null(False)
                & (Order.paid_at <= self.now)
            )
            .group_by(Order.user)
        )
        return dict(db.execute(query))


def describe_reason(reason):
    return REASONS.get(reason, reason)


def update_reminder_settings(changes, actor=None):
    """Apply the owner's changes to the reminder settings in one write (audited); returns the row."""
    load_reminder_settings()
    with write_transaction():
        current = ReminderSettings.get_by_id(1)
        changed = audit_changes(actor, "reminder_settings_changed", "payment reminders", current, changes)
        if changed:
            ReminderSettings.update(**changed, updated_at=utcnow()).where(ReminderSettings.id == 1).execute()
    return ReminderSettings.get_by_id(1)
