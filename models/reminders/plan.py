"""Who gets a reminder: the plan.

`plan(at)` decides, for every order awaiting payment, whether it gets a
reminder at `at` or why not (one reason per order, from REASONS, first match
wins). It reads and never writes: batches.py turns a plan into rows and sends
them, re-checking each row just before.
"""

import datetime
from collections import namedtuple
from dataclasses import asdict
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext
from peewee import Case
from peewee import fn
from peewee import JOIN
from peewee import Value

from models.base import db
from models.base import to_naive_utc
from models.groups.group import CustomerGroup
from models.orders.card_payments import CARD_START_GRACE
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PENDING_PAYMENT
from models.reminders.experiment import assignment
from models.reminders.records import DECIDED
from models.reminders.records import PLANNED
from models.reminders.records import REMINDED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import ReminderVariant
from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import load_reminder_settings
from models.reminders.windows import local_moment
from models.reminders.windows import open_window
from models.reminders.windows import Window
from models.shop.settings import load_settings
from models.users.user import User
from payments import PENDING

NEW, RETURNING, LOYAL = "new", "returning", "loyal"


SEGMENTS = (NEW, RETURNING, LOYAL)


# Why an order awaiting payment gets no reminder, in the order the rules are tried.
REASONS = {
    "marketplace": lazy_gettext("Ordered on a marketplace"),
    "cancelled": lazy_gettext("Cancelled or closed"),
    "not_newest": lazy_gettext("The customer has a newer unpaid order"),
    "payment_confirming": lazy_gettext("A card payment is being confirmed"),
    "cancel_soon": lazy_gettext("Cancelled automatically soon"),
    "too_recent": lazy_gettext("Placed too recently"),
    "opted_out": lazy_gettext("The customer opted out (or the account is closed or blocked)"),
    "group_off": lazy_gettext("The customer's group gets no reminders"),
    "paid_today": lazy_gettext("The customer paid an order today"),
    "paid_reorder": lazy_gettext("The customer ordered again soon after and paid that order"),
    "already_sent": lazy_gettext("Already reminded in this window"),
    "order_limit": lazy_gettext("Reminded the most times allowed"),
    "daily_limit": lazy_gettext("The customer was reminded today"),
    "outside_window": lazy_gettext("No reminder window is open"),
}
# Not a reason to leave an order out: a planned reminder of the control group (experiment.py).
HELD_OUT_LABEL = lazy_gettext("Held out (control group): planned, checked, never sent")


# A pending card payment this young may still be completed by the customer right now; an
# older one was abandoned (the provider has been asked about it by reconciliation).
CONFIRMING_FOR = datetime.timedelta(hours=1)


@dataclass(slots=True)
class Planned:
    customer_id: int
    email: str
    order_id: int
    order_number: str
    segment: str
    template: str
    reminder_number: int
    arm: str = REMINDED  # or HELD_OUT: recorded on the row, never sent (experiment.py)
    variant: str = "A"


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
    seed, holdout = settings.experiment_seed, settings.holdout_percent
    with_b = segments_with_variant()
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
    for item in planned:
        item.arm, item.variant = assignment(seed, holdout, item.segment in with_b, item.customer_id)
    return Plan(at, window, planned, excluded)


def segments_with_variant():
    """The segments whose template has the owner's wording B."""
    return {segment for (segment,) in ReminderVariant.select(ReminderVariant.segment).tuples()}


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
        self.paid_reorder = self._followed_by_a_paid_order()
        self.confirming = self._confirming()
        self.sent_counts, self.in_this_batch = self._reminders_so_far()
        self.reminded_today = self._reminded_today()

    def _of_customer(self, column):
        return column == self.user_id if self.user_id is not None else Value(1) == 1

    def _counted(self, reminder):
        """Reminder rows that count: sent or held out (the control group is reminded "as usual"
        but for the sending), or planned in a window still open (one whose window closed was
        never sent, and is cancelled by the next tick), and not the one being checked."""
        still_open = ReminderBatch.select(ReminderBatch.id).where(ReminderBatch.window_end > self.now)
        condition = reminder.state.in_(DECIDED) | (
            (reminder.state == PLANNED) & reminder.batch.in_(still_open)
        )
        if self.ignore_reminder is not None:
            condition &= reminder.id != self.ignore_reminder
        return condition

    def rules(self, window):
        """reason(order): the first rule that keeps the order from a reminder (REASONS' order),
        or None. A closure over the facts: it runs once per unpaid order."""
        newest, confirming, users = self.newest, self.confirming, self.users
        paid_today, in_this_batch, sent_counts = self.paid_today, self.in_this_batch, self.sent_counts
        paid_reorder = self.paid_reorder
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
            if order_id in paid_reorder:
                return "paid_reorder"
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

    def _followed_by_a_paid_order(self):
        """Unpaid orders the customer followed with an order placed at most `reorder_hours` later
        and paid by now: they ordered again and paid the new one, so the old one was left behind.

        The time is real hours between the two orders' placing (instants, so a daylight-saving
        change neither shortens nor stretches it); a paid order placed before this one, or
        another customer's, doesn't count. The join reads only payments made since this order
        was placed (index order(user_id, paid_at)): few, whatever the customer's history."""
        within = datetime.timedelta(hours=self.settings.reorder_hours)
        if not within:
            return set()
        later = Order.alias()
        query = (
            Order.select(Order.id, Order.created_at, fn.MIN(later.created_at))
            .join(later, on=(later.user == Order.user))
            .where(
                (Order.status == PENDING_PAYMENT)
                & self._of_customer(Order.user)
                & (later.paid_at > Order.created_at)
                & (later.paid_at <= self.now)
                & (later.created_at > Order.created_at)
            )
            .group_by(Order.id, Order.created_at)
            .tuples()
        )
        return {order_id for order_id, placed, next_placed in query if next_placed - placed <= within}

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
    """The reason in English words, for the command line (pages show REASONS in their language)."""
    with force_locale("en"):
        return str(REASONS.get(reason, reason))
