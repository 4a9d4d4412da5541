"""Payment reminder rules (models/reminders/, models/reminders/batches.py) with `now` passed in.

The shop's time zone in the tests is Europe/London. Monday 23 November 2026 is
in winter time (shop time = UTC): 10:05 is inside the default 10:00–11:00
window before the 11:00 dispatch. Orders are written as rows
(tests/factories.py); each rule test builds the situation, checks that
`plan(at)` excludes the order with exactly that reason, then changes the one
fact and checks the order is reminded.

Daylight saving: 2026-03-29 (01:00 GMT → 02:00 BST) and 2026-10-25 (02:00 BST
→ 01:00 GMT) are Sundays; the tests set Sunday dispatch times in the
01:00–02:59 range and run `run_due` on every minute of the night.
"""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import event
from hypothesis import example
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.base import as_aware_utc
from models.base import db
from models.base import to_naive_utc
from models.groups.group import CustomerGroup
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.reminders.batches import plan_batch
from models.reminders.batches import run_due
from models.reminders.plan import plan
from models.reminders.plan import REASONS
from models.reminders.records import CANCELLED as REMINDER_CANCELLED
from models.reminders.records import PLANNED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import AFTER_ORDER
from models.reminders.windows import next_window
from models.reminders.windows import open_window
from models.shop.outbox import OutboxMessage
from models.users.user import User
from tests.factories import local
from tests.factories import long_ago
from tests.factories import MARKETPLACE
from tests.factories import monday
from tests.factories import new_cancelled_order
from tests.factories import new_card_payment
from tests.factories import new_customer
from tests.factories import new_group
from tests.factories import new_order
from tests.factories import new_paid_order
from tests.factories import reasons
from tests.factories import reminded
from tests.factories import reminder_row
from tests.factories import set_reminder_settings
from tests.factories import tz

UTC = datetime.UTC
ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)


def reason_of(at, order):
    """The plan's verdict on `order` at `at`: its reason, or "reminded"."""
    verdicts = reasons(plan(at))
    assert order.id in verdicts, f"order {order.id} is missing from the plan"
    return verdicts[order.id]


def update(order, **fields):
    """Change fields of an order row; aware datetimes are stored as naive UTC."""
    values = {
        name: to_naive_utc(value) if isinstance(value, datetime.datetime) else value
        for name, value in fields.items()
    }
    Order.update(**values).where(Order.id == order.id).execute()


@pytest.fixture
def at(app):
    """Monday 23 November 2026, 10:05 shop time: inside the window before the 11:00 dispatch."""
    return monday(10, 5)


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


# One test per reason --------------------------------------------------------------------------


def test_a_plain_unpaid_order_is_reminded(at):
    customer = new_customer()
    order = new_order(customer)
    the_plan = plan(at)
    assert the_plan.excluded == []
    [item] = the_plan.reminders
    assert (item.order_id, item.order_number, item.customer_id, item.email) == (
        order.id,
        order.number,
        customer.id,
        customer.email,
    )
    assert (item.segment, item.template, item.reminder_number) == ("new", "new", 1)


def test_marketplace(at):
    order = new_order(new_customer(), channel=MARKETPLACE)
    assert reason_of(at, order) == "marketplace"
    update(order, channel="shop", external_ref=None)
    assert reason_of(at, order) == "reminded"


def test_marketplace_order_never_hides_the_customers_shop_order(at):
    customer = new_customer()
    shop = new_order(customer, long_ago())
    newer = new_order(customer, long_ago() + HOUR, channel=MARKETPLACE)
    assert reasons(plan(at)) == {shop.id: "reminded", newer.id: "marketplace"}


def test_cancelled(at):
    """An order whose automatic cancellation is overdue (the cancel job has not run yet)."""
    order = new_order(new_customer(), auto_cancel_at=at - MINUTE)
    assert reason_of(at, order) == "cancelled"
    update(order, auto_cancel_at=at + datetime.timedelta(hours=7))
    assert reason_of(at, order) == "reminded"


def test_a_cancelled_or_paid_order_is_not_awaiting_payment_at_all(at):
    customer = new_customer()
    waiting = new_order(customer, long_ago() - HOUR)
    gone = new_cancelled_order(customer, long_ago() + HOUR, created_at=long_ago())
    done = new_paid_order(new_customer(), long_ago() + HOUR, created_at=long_ago())
    assert reasons(plan(at)) == {waiting.id: "reminded"}
    update(gone, status=PENDING_PAYMENT, cancelled_at=None, auto_cancel_at=at + datetime.timedelta(days=1))
    assert reasons(plan(at)) == {waiting.id: "not_newest", gone.id: "reminded"}
    assert done.id not in reasons(plan(at))


def test_not_newest(at):
    customer = new_customer()
    older = new_order(customer, long_ago())
    newer = new_order(customer, long_ago() + HOUR)
    assert reasons(plan(at)) == {older.id: "not_newest", newer.id: "reminded"}
    update(newer, status=CANCELLED, cancelled_at=at - HOUR, auto_cancel_at=None)
    assert reasons(plan(at)) == {older.id: "reminded"}


def test_other_customers_orders_do_not_make_an_order_older(at):
    first, second = new_customer(), new_customer()
    mine = new_order(first, long_ago())
    theirs = new_order(second, long_ago() + HOUR)
    assert reasons(plan(at)) == {mine.id: "reminded", theirs.id: "reminded"}


def test_payment_confirming(at):
    order = new_order(new_customer())
    payment = new_card_payment(order, at - datetime.timedelta(minutes=20))
    assert reason_of(at, order) == "payment_confirming"
    # The same payment started over an hour ago was abandoned: remind.
    payment.created_at = to_naive_utc(at - datetime.timedelta(minutes=61))
    payment.save()
    assert reason_of(at, order) == "reminded"


def test_a_failed_card_payment_is_not_being_confirmed(at):
    order = new_order(new_customer())
    new_card_payment(order, at - datetime.timedelta(minutes=20), state="failed")
    assert reason_of(at, order) == "reminded"


def test_cancel_soon(at):
    order = new_order(new_customer(), auto_cancel_at=at + datetime.timedelta(hours=6) - MINUTE)
    assert reason_of(at, order) == "cancel_soon"
    update(order, auto_cancel_at=at + datetime.timedelta(hours=6))
    assert reason_of(at, order) == "reminded"
    set_reminder_settings(cancel_margin_hours=7)
    assert reason_of(at, order) == "cancel_soon"


def test_too_recent(at):
    order = new_order(new_customer(), at - datetime.timedelta(minutes=59))
    assert reason_of(at, order) == "too_recent"
    update(order, created_at=at - datetime.timedelta(minutes=60))
    assert reason_of(at, order) == "reminded"
    set_reminder_settings(min_age_minutes=90)
    assert reason_of(at, order) == "too_recent"


def test_opted_out(at):
    customer = new_customer(opted_out_at=at - datetime.timedelta(days=3))
    order = new_order(customer)
    assert reason_of(at, order) == "opted_out"
    User.update(reminders_opted_out_at=None).where(User.id == customer.id).execute()
    assert reason_of(at, order) == "reminded"


def test_group_off(at):
    quiet = new_group(reminders_enabled=False)
    customer = new_customer(group=quiet)
    order = new_order(customer)
    other = new_order(new_customer())  # default group: reminders on
    assert reasons(plan(at)) == {order.id: "group_off", other.id: "reminded"}
    CustomerGroup.update(reminders_enabled=True).where(CustomerGroup.id == quiet.id).execute()
    assert reason_of(at, order) == "reminded"


def test_paid_today(at):
    customer = new_customer()
    order = new_order(customer)
    earlier = new_paid_order(customer, monday(9, 0), created_at=long_ago() - HOUR)  # placed before it
    assert reason_of(at, order) == "paid_today"
    update(earlier, paid_at=local(2026, 11, 22, 23, 30))  # yesterday evening
    assert reason_of(at, order) == "reminded"


def test_paid_today_is_the_shop_day_not_the_utc_day(app):
    # Summer time: 00:30 BST on Monday 22 June is 23:30 UTC on Sunday.
    at = local(2026, 6, 22, 10, 5)
    customer = new_customer()
    order = new_order(customer, local(2026, 6, 21, 15, 0))
    earlier = new_paid_order(customer, local(2026, 6, 22, 0, 30), created_at=local(2026, 6, 21, 14, 0))
    assert reason_of(at, order) == "paid_today"
    update(earlier, paid_at=local(2026, 6, 21, 23, 30))  # 22:30 UTC Sunday: yesterday in both
    assert reason_of(at, order) == "reminded"
    update(earlier, paid_at=local(2026, 6, 21, 23, 59))
    assert reason_of(at, order) == "reminded"


def test_paying_a_marketplace_order_today_counts_as_paying(at):
    customer = new_customer()
    order = new_order(customer)
    new_paid_order(customer, monday(8, 0), channel=MARKETPLACE)
    assert reason_of(at, order) == "paid_today"


def test_paid_reorder(app_context):
    """The seed's complaint: the customer placed A at 20:00, ordered again as B and paid B at
    20:40; the next morning's batch asked them to pay A. A paid order placed soon after is a re-order."""
    customer = new_customer()
    first = new_order(customer, local(2026, 11, 22, 20, 0))
    second = new_order(customer, local(2026, 11, 22, 20, 35))
    at = monday(10, 0)  # the next morning, as the 10:00–11:00 window opens
    assert reasons(plan(at)) == {first.id: "not_newest", second.id: "reminded"}
    update(second, status=PAID, paid_at=local(2026, 11, 22, 20, 40), auto_cancel_at=None)
    assert reasons(plan(at)) == {first.id: "paid_reorder"}
    assert run_due(at) == 0
    assert Reminder.select().count() == 0
    # The rule is the owner's: 0 turns it off.
    set_reminder_settings(reorder_hours=0)
    assert reason_of(at, first) == "reminded"


def test_paid_reorder_is_placed_within_the_reorder_time_after_the_order(at):
    customer = new_customer()
    order = new_order(customer, local(2026, 11, 21, 10, 0), auto_cancel_at=at + 3 * DAY)
    later = new_paid_order(customer, local(2026, 11, 22, 10, 30), created_at=local(2026, 11, 22, 10, 0))
    assert reason_of(at, order) == "paid_reorder"  # placed 24 hours after: still within
    update(later, created_at=local(2026, 11, 22, 10, 0, 1))  # one second more
    assert reason_of(at, order) == "reminded"
    set_reminder_settings(reorder_hours=25)
    assert reason_of(at, order) == "paid_reorder"


def test_paid_reorder_paid_at_any_time_since_but_not_yet_paid_does_not_count(at):
    """The re-order may be paid days later (a bank transfer); a plan for a moment before the
    payment doesn't count it."""
    customer = new_customer()
    order = new_order(customer, local(2026, 11, 20, 9, 0), auto_cancel_at=at + 3 * DAY)
    new_paid_order(customer, local(2026, 11, 22, 18, 0), created_at=local(2026, 11, 20, 9, 30))
    assert reason_of(at, order) == "paid_reorder"
    assert reason_of(local(2026, 11, 20, 16, 5), order) == "reminded"


def test_paid_reorder_only_an_order_placed_after_this_one_counts(at):
    """A paid order placed before this one is not a re-order of it, even if paid after it was placed."""
    customer = new_customer()
    before = new_paid_order(customer, local(2026, 11, 22, 15, 30), created_at=local(2026, 11, 22, 14, 0))
    order = new_order(customer, local(2026, 11, 22, 15, 0))
    assert reason_of(at, order) == "reminded"
    update(before, created_at=local(2026, 11, 22, 15, 1))
    assert reason_of(at, order) == "paid_reorder"


def test_paid_reorder_only_the_same_customer(at):
    customer, other = new_customer(), new_customer()
    order = new_order(customer, local(2026, 11, 22, 15, 0))
    theirs = new_paid_order(other, local(2026, 11, 22, 15, 40), created_at=local(2026, 11, 22, 15, 30))
    assert reason_of(at, order) == "reminded"
    update(theirs, user=customer.id)
    assert reason_of(at, order) == "paid_reorder"


def test_paid_reorder_counts_real_hours_across_a_daylight_saving_change(app):
    """Clocks go back at 02:00 BST on Sunday 25 October 2026: from Saturday 20:00 to Sunday 20:00
    is 24 hours on the clock but 25 real hours, more than the re-order time."""
    customer = new_customer()
    order = new_order(customer, local(2026, 10, 24, 20, 0))
    later = new_paid_order(customer, local(2026, 10, 25, 20, 15), created_at=local(2026, 10, 25, 20, 0))
    at = local(2026, 10, 26, 10, 5)
    assert reason_of(at, order) == "reminded"
    update(later, created_at=local(2026, 10, 25, 19, 0, 1))  # 24 real hours and a second
    assert reason_of(at, order) == "reminded"
    update(later, created_at=local(2026, 10, 25, 19, 0))  # 23 hours on the clock, 24 real
    assert reason_of(at, order) == "paid_reorder"


def test_already_sent(at):
    customer = new_customer()
    order = new_order(customer)
    window = open_window(at)
    batch, created = plan_batch(window, at)
    assert created
    [row] = Reminder.select().where(Reminder.batch == batch.id)
    assert (row.order_id, row.state) == (order.id, PLANNED)
    later = at + datetime.timedelta(minutes=10)
    assert reason_of(later, order) == "already_sent"
    Reminder.update(state=REMINDER_CANCELLED, cancel_reason="test").where(Reminder.id == row.id).execute()
    assert reason_of(later, order) == "reminded"


def test_order_limit(at):
    customer = new_customer()
    order = new_order(customer, local(2026, 11, 19, 9, 0), auto_cancel_at=at + datetime.timedelta(days=3))
    reminder_row(order, local(2026, 11, 19, 10, 5))
    reminder_row(order, local(2026, 11, 20, 10, 5))
    assert reason_of(at, order) == "order_limit"
    set_reminder_settings(max_per_order=3)
    assert reason_of(at, order) == "reminded"
    assert reminded(plan(at))[order.id].reminder_number == 3


def test_a_cancelled_reminder_does_not_count_towards_the_limit(at):
    order = new_order(
        new_customer(), local(2026, 11, 19, 9, 0), auto_cancel_at=at + datetime.timedelta(days=3)
    )
    reminder_row(order, local(2026, 11, 19, 10, 5))
    second = reminder_row(order, local(2026, 11, 20, 10, 5))
    assert reason_of(at, order) == "order_limit"
    Reminder.update(state=REMINDER_CANCELLED).where(Reminder.id == second.id).execute()
    assert reason_of(at, order) == "reminded"
    assert reminded(plan(at))[order.id].reminder_number == 2


def test_daily_limit(at):
    customer = new_customer()
    order = new_order(customer)
    reminder_row(order, monday(10, 5))
    afternoon = monday(16, 5)
    assert reason_of(afternoon, order) == "daily_limit"
    tomorrow = local(2026, 11, 24, 10, 5)
    assert reason_of(tomorrow, order) == "reminded"
    assert reminded(plan(tomorrow))[order.id].reminder_number == 2


def test_daily_limit_covers_a_newer_order_of_the_same_customer(at):
    customer = new_customer()
    first = new_order(customer)
    reminder_row(first, monday(10, 5))
    second = new_order(customer, monday(11, 30))
    afternoon = monday(16, 5)
    assert reasons(plan(afternoon)) == {first.id: "not_newest", second.id: "daily_limit"}
    # Another customer's reminder today does not count.
    Reminder.update(user=new_customer()).execute()
    assert reasons(plan(afternoon)) == {first.id: "not_newest", second.id: "reminded"}


def test_outside_window(at):
    order = new_order(new_customer())
    assert reason_of(monday(11, 0), order) == "outside_window"
    assert reason_of(monday(10, 59), order) == "reminded"
    set_reminder_settings(enabled=False)
    assert reason_of(monday(10, 59), order) == "outside_window"


def test_disabled_reminders_plan_no_batch(app_context, at):
    new_order(new_customer())
    set_reminder_settings(enabled=False)
    assert run_due(at) == 0
    assert ReminderBatch.select().count() == 0
    set_reminder_settings(enabled=True)
    assert run_due(at) == 1
    assert ReminderBatch.select().count() == 1


def test_every_reason_is_tested_here():
    tested = {
        name.removeprefix("test_")
        for name, value in globals().items()
        if name.startswith("test_") and callable(value)
    }
    assert set(REASONS) <= tested


# Reason precedence: the first rule in REASONS wins --------------------------------------------


def test_one_reason_per_order_the_first_that_applies(at):
    later = at + datetime.timedelta(hours=2)  # 12:05: outside any window too
    quiet = new_group(reminders_enabled=False)
    customer = new_customer(group=quiet, opted_out_at=at - HOUR)
    order = new_order(customer, later - datetime.timedelta(minutes=10), auto_cancel_at=later + HOUR)
    new_card_payment(order, later - datetime.timedelta(minutes=5))
    new_paid_order(customer, monday(9, 0))
    # Each fact in turn is put right; the next reason in REASONS order shows.
    fixes = [
        ("payment_confirming", lambda: OrderPayment.update(state="failed").execute()),
        ("cancel_soon", lambda: update(order, auto_cancel_at=at + datetime.timedelta(days=2))),
        ("too_recent", lambda: update(order, created_at=long_ago())),
        (
            "opted_out",
            lambda: User.update(reminders_opted_out_at=None).where(User.id == customer.id).execute(),
        ),
        (
            "group_off",
            lambda: (
                CustomerGroup.update(reminders_enabled=True).where(CustomerGroup.id == quiet.id).execute()
            ),
        ),
        (
            "paid_today",
            lambda: (  # placed an hour after the unpaid order instead, and paid yesterday evening
                Order.update(
                    created_at=to_naive_utc(long_ago() + HOUR),
                    paid_at=to_naive_utc(local(2026, 11, 22, 23, 0)),
                )
                .where(Order.status == PAID)
                .execute()
            ),
        ),
        ("paid_reorder", lambda: set_reminder_settings(reorder_hours=0)),
    ]
    for reason, fix in fixes:
        assert reason_of(later, order) == reason
        fix()
    assert reason_of(later, order) == "outside_window"
    assert reason_of(at, order) == "reminded"


# Segments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid", "segment"),
    [(0, "new"), (1, "returning"), (2, "loyal"), (5, "loyal")],
)
def test_segment_by_paid_orders(at, paid, segment):
    customer = new_customer()
    for day in range(paid):
        new_paid_order(customer, local(2026, 10, 1 + day, 12, 0))
    order = new_order(customer)
    item = reminded(plan(at))[order.id]
    assert (item.segment, item.template) == (segment, segment)


def test_segments_side_by_side_and_cancelled_or_unpaid_orders_do_not_count(at):
    newcomer, regular, loyal = new_customer(), new_customer(), new_customer()
    new_cancelled_order(newcomer, local(2026, 10, 2, 12, 0))
    new_paid_order(regular, local(2026, 10, 2, 12, 0))
    new_paid_order(loyal, local(2026, 10, 2, 12, 0))
    new_paid_order(loyal, local(2026, 10, 9, 12, 0))
    orders = {customer.id: new_order(customer) for customer in (newcomer, regular, loyal)}
    segments = {item.customer_id: item.segment for item in plan(at).reminders}
    assert segments == {newcomer.id: "new", regular.id: "returning", loyal.id: "loyal"}
    assert set(reminded(plan(at))) == {order.id for order in orders.values()}


# Windows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "key"),
    [
        ((2026, 11, 23, 9, 59), None),
        ((2026, 11, 23, 10, 0), "dispatch:2026-11-23T11:00"),
        ((2026, 11, 23, 10, 5), "dispatch:2026-11-23T11:00"),
        ((2026, 11, 23, 10, 59), "dispatch:2026-11-23T11:00"),
        ((2026, 11, 23, 11, 0), None),
        ((2026, 11, 23, 15, 59), None),
        ((2026, 11, 23, 16, 0), "dispatch:2026-11-23T17:00"),
        ((2026, 11, 23, 16, 59), "dispatch:2026-11-23T17:00"),
        ((2026, 11, 23, 17, 0), None),
        ((2026, 11, 27, 16, 30), "dispatch:2026-11-27T17:00"),  # Friday
        ((2026, 11, 28, 10, 30), None),  # Saturday
        ((2026, 11, 29, 10, 30), None),  # Sunday
        ((2026, 11, 29, 16, 30), None),
    ],
)
def test_default_dispatch_windows(app, when, key):
    at = local(*when)
    window = open_window(at)
    if key is None:
        assert window is None
        return
    assert window.key == key
    dispatch = int(key[-5:-3])
    assert window.start == local(*when[:3], dispatch - 1, 0).astimezone(UTC)
    assert window.end == window.dispatch_at == local(*when[:3], dispatch, 0).astimezone(UTC)


def test_eleven_oclock_itself_is_outside_and_the_next_window_is_the_afternoon(app):
    window = next_window(monday(11, 0))
    assert window.key == "dispatch:2026-11-23T17:00"
    assert not window.is_open(monday(11, 0))
    assert next_window(monday(10, 59)).key == "dispatch:2026-11-23T11:00"


def test_a_sunday_has_no_window(app):
    order = new_order(new_customer(), local(2026, 11, 21, 15, 0), auto_cancel_at=local(2026, 12, 5, 0, 0))
    for hour in range(24):
        for minute in (0, 30):
            at = local(2026, 11, 29, hour, minute)
            assert open_window(at) is None
            assert reason_of(at, order) == "outside_window"
    # The next window after Sunday is Monday's first.
    assert next_window(local(2026, 11, 29, 12, 0)).key == "dispatch:2026-11-30T11:00"


def test_a_sunday_with_dispatch_times_has_its_windows(app):
    set_reminder_settings(dispatch_times=json.dumps({"sun": ["12:00"]}))
    assert open_window(local(2026, 11, 29, 11, 30)).key == "dispatch:2026-11-29T12:00"
    assert open_window(monday(10, 5)) is None  # Monday no longer has any


def test_a_closed_date_has_no_window(app_context, at):
    order = new_order(new_customer())
    set_reminder_settings(closed_dates="2026-12-25\n 2026-11-23 \n")
    for hour in range(24):
        assert open_window(monday(hour, 30)) is None
    assert reason_of(at, order) == "outside_window"
    assert run_due(at) == 0
    assert ReminderBatch.select().count() == 0
    # The day after is open again, and the order is reminded then.
    assert next_window(at).key == "dispatch:2026-11-24T11:00"
    assert reason_of(local(2026, 11, 24, 10, 5), order) == "reminded"
    set_reminder_settings(closed_dates="2026-12-25")
    assert reason_of(at, order) == "reminded"


def test_window_minutes_sets_the_length(app):
    set_reminder_settings(window_minutes=30)
    assert open_window(monday(10, 29)) is None
    window = open_window(monday(10, 30))
    assert (window.start, window.end) == (monday(10, 30).astimezone(UTC), monday(11, 0).astimezone(UTC))


def test_window_keys_are_unique_over_two_weeks(app):
    """Every minute of two weeks: each key names one window, each window one key, no overlap."""
    for mode in ("dispatch", AFTER_ORDER):
        settings_row, zone = set_reminder_settings(mode=mode), tz()
        spans = {}
        start = local(2026, 11, 16, 0, 0).astimezone(UTC)
        for minutes in range(0, 14 * 24 * 60, 5):
            window = open_window(start + datetime.timedelta(minutes=minutes), settings_row, zone)
            if window is not None:
                spans.setdefault(window.key, set()).add((window.start, window.end))
        assert all(len(found) == 1 for found in spans.values())
        ends = sorted(span for found in spans.values() for span in found)
        assert len(ends) == len(set(ends)) == len(spans)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:], strict=False))
        # Dispatch: 2 a day Monday to Friday; hourly: 13 hours a day (08:00–21:00) every day.
        assert len(spans) == (20 if mode == "dispatch" else 14 * 13)


# after_order mode -----------------------------------------------------------------------------


def test_after_order_mode_reminds_hours_after_the_order_outside_quiet_hours(app):
    set_reminder_settings(mode=AFTER_ORDER, hours_after_order=2)
    placed = monday(10, 20)
    order = new_order(new_customer(), placed)
    assert reason_of(placed + datetime.timedelta(minutes=70), order) == "too_recent"  # older than 1 h
    assert reason_of(placed + datetime.timedelta(minutes=119), order) == "too_recent"
    assert reason_of(placed + datetime.timedelta(minutes=120), order) == "reminded"
    window = open_window(monday(12, 40))
    assert (window.key, window.start, window.end) == (
        "hour:2026-11-23T12:00",
        monday(12, 0).astimezone(UTC),
        monday(13, 0).astimezone(UTC),
    )
    set_reminder_settings(hours_after_order=3)
    assert reason_of(placed + datetime.timedelta(minutes=150), order) == "too_recent"


@pytest.mark.parametrize(
    ("when", "quiet"),
    [
        ((2026, 11, 23, 20, 59), False),
        ((2026, 11, 23, 21, 0), True),
        ((2026, 11, 23, 23, 59), True),
        ((2026, 11, 24, 0, 0), True),
        ((2026, 11, 24, 3, 0), True),
        ((2026, 11, 24, 7, 59), True),
        ((2026, 11, 24, 8, 0), False),
        ((2026, 11, 29, 12, 0), False),  # a Sunday: every day has hours in this mode
    ],
)
def test_after_order_quiet_hours_across_midnight(app, when, quiet):
    set_reminder_settings(mode=AFTER_ORDER)
    order = new_order(new_customer(), local(2026, 11, 23, 3, 0), auto_cancel_at=local(2026, 12, 5, 0, 0))
    at = local(*when)
    assert (open_window(at) is None) == quiet
    assert reason_of(at, order) == ("outside_window" if quiet else "reminded")


def test_after_order_quiet_hours_within_a_day(app):
    set_reminder_settings(mode=AFTER_ORDER, quiet_start="12:00", quiet_end="14:00")
    assert open_window(monday(11, 59)) is not None
    assert open_window(monday(12, 0)) is None
    assert open_window(monday(13, 59)) is None
    assert open_window(monday(14, 0)) is not None
    assert open_window(monday(23, 30)) is not None


def test_after_order_quiet_hours_that_start_at_half_past(app):
    set_reminder_settings(mode=AFTER_ORDER, quiet_start="21:30", quiet_end="08:00")
    order = new_order(new_customer(), local(2026, 11, 23, 3, 0), auto_cancel_at=local(2026, 12, 5, 0, 0))
    window = open_window(monday(21, 29))
    assert (window.key, window.end) == ("hour:2026-11-23T21:00", monday(21, 30).astimezone(UTC))
    assert reason_of(monday(21, 29), order) == "reminded"
    at = monday(21, 45)
    assert open_window(at) is None
    assert reason_of(at, order) == "outside_window"


# Daylight-saving nights: run_due on every minute ---------------------------------------------


def run_every_minute(start, end):
    """run_due on every minute from `start` to `end` (aware, real minutes); returns messages queued."""
    queued = 0
    moment = start.astimezone(UTC)
    while moment < end.astimezone(UTC):
        queued += run_due(moment)
        moment += MINUTE
    return queued


def batches():
    return list(ReminderBatch.select().order_by(ReminderBatch.window_start))


def customer_per_window(starts, age):
    """One customer per window start, whose order becomes old enough (`age`) right then, so it
    can only be reminded in that window's batch (it is too recent for every earlier one, and one
    reminder per order is allowed, so not in a later one on the next shop day either)."""
    set_reminder_settings(max_per_order=1)
    return [new_order(new_customer(), start - age) for start in starts]


def check_batches(expected_keys, orders, queued):
    found = batches()
    assert [batch.window_key for batch in found] == expected_keys
    for batch, order in zip(found, orders, strict=True):
        assert batch.window_end - batch.window_start == HOUR  # an hour of real time
        assert batch.finished_at is not None
        rows = list(Reminder.select().where(Reminder.batch == batch.id))
        assert [(row.order_id, row.state) for row in rows] == [(order.id, SENT)], batch.window_key
    for earlier, later in zip(found, found[1:], strict=False):
        assert earlier.window_end <= later.window_start
    assert queued == len(orders) == OutboxMessage.select().count()


def test_spring_forward_dispatch_windows_neither_skipped_nor_repeated(app_context):
    # 2026-03-29: 01:00 GMT becomes 02:00 BST. 00:30 is GMT, 02:30 and 03:30 are BST.
    set_reminder_settings(dispatch_times=json.dumps({"sun": ["00:30", "02:30", "03:30"]}))
    starts = [datetime.datetime(2026, 3, 28, 23, 30, tzinfo=UTC)] + [
        datetime.datetime(2026, 3, 29, hour, 30, tzinfo=UTC) for hour in (0, 1)
    ]
    orders = customer_per_window(starts, HOUR)
    queued = run_every_minute(local(2026, 3, 28, 22, 0), local(2026, 3, 29, 6, 0))
    check_batches(
        ["dispatch:2026-03-29T00:30", "dispatch:2026-03-29T02:30", "dispatch:2026-03-29T03:30"],
        orders,
        queued,
    )
    assert [as_aware_utc(batch.dispatch_at) for batch in batches()] == [start + HOUR for start in starts]


def test_spring_forward_a_dispatch_time_the_clocks_skip_still_gets_one_window(app_context):
    # 01:30 does not exist on 2026-03-29: read with the offset before the change, it is 02:30 BST.
    set_reminder_settings(dispatch_times=json.dumps({"sun": ["01:30"]}))
    start = datetime.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    orders = customer_per_window([start], HOUR)
    queued = run_every_minute(local(2026, 3, 28, 22, 0), local(2026, 3, 29, 6, 0))
    check_batches(["dispatch:2026-03-29T01:30"], orders, queued)


def test_spring_forward_a_skipped_time_does_not_hide_an_earlier_dispatch(app_context):
    set_reminder_settings(dispatch_times=json.dumps({"sun": ["01:30", "02:00"]}))
    # 02:00 BST is 01:00 UTC: its window is 00:00-01:00 UTC, whatever 01:30 becomes.
    assert open_window(datetime.datetime(2026, 3, 29, 0, 10, tzinfo=UTC)) is not None
    order = new_order(new_customer(), local(2026, 3, 28, 12, 0))
    queued = run_every_minute(local(2026, 3, 28, 22, 0), local(2026, 3, 29, 6, 0))
    at_utc = datetime.datetime(2026, 3, 29, 0, 0)  # naive UTC, as stored
    assert [(batch.window_key, batch.window_start, batch.window_end) for batch in batches()] == [
        ("dispatch:2026-03-29T02:00", at_utc, at_utc + HOUR),
        ("dispatch:2026-03-29T01:30", at_utc + 30 * MINUTE, at_utc + 90 * MINUTE),
    ]
    # One message: in the first window; the second batch finds the customer reminded today.
    assert queued == 1
    assert [(row.order_id, row.batch.window_key) for row in Reminder.select()] == [
        (order.id, "dispatch:2026-03-29T02:00")
    ]


def test_fall_back_dispatch_windows_neither_skipped_nor_repeated(app_context):
    # 2026-10-25: 02:00 BST becomes 01:00 GMT, so 01:00–01:59 happens twice. The 01:30 dispatch
    # is the first 01:30 (BST, 00:30 UTC), once; 02:30 is GMT (02:30 UTC).
    set_reminder_settings(dispatch_times=json.dumps({"sun": ["00:30", "01:30", "02:30"]}))
    starts = [
        datetime.datetime(2026, 10, 24, 22, 30, tzinfo=UTC),
        datetime.datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        datetime.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ]
    orders = customer_per_window(starts, HOUR)
    queued = run_every_minute(local(2026, 10, 24, 21, 0), local(2026, 10, 25, 5, 0))
    check_batches(
        ["dispatch:2026-10-25T00:30", "dispatch:2026-10-25T01:30", "dispatch:2026-10-25T02:30"],
        orders,
        queued,
    )
    # Nothing open in the repeated hour's second half-hour before 02:30's window, and no second 01:30.
    assert open_window(datetime.datetime(2026, 10, 25, 1, 0, tzinfo=UTC)) is None


def test_spring_forward_hourly_windows(app_context):
    set_reminder_settings(mode=AFTER_ORDER, quiet_start="06:00", quiet_end="06:00")  # no quiet hours
    starts = [datetime.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)] + [
        datetime.datetime(2026, 3, 29, hour, 0, tzinfo=UTC) for hour in (0, 1, 2)
    ]
    orders = customer_per_window(starts, 2 * HOUR)
    queued = run_every_minute(local(2026, 3, 28, 23, 0), local(2026, 3, 29, 4, 0))
    check_batches(
        ["hour:2026-03-28T23:00", "hour:2026-03-29T00:00", "hour:2026-03-29T02:00", "hour:2026-03-29T03:00"],
        orders,
        queued,
    )


def test_fall_back_hourly_windows(app_context):
    set_reminder_settings(mode=AFTER_ORDER, quiet_start="06:00", quiet_end="06:00")
    starts = (
        [datetime.datetime(2026, 10, 24, 22, 0, tzinfo=UTC)]
        + [datetime.datetime(2026, 10, 24, 23, 0, tzinfo=UTC)]
        + [datetime.datetime(2026, 10, 25, hour, 0, tzinfo=UTC) for hour in (0, 1, 2, 3)]
    )
    orders = customer_per_window(starts, 2 * HOUR)
    queued = run_every_minute(local(2026, 10, 24, 23, 0), local(2026, 10, 25, 4, 0))
    check_batches(
        [
            "hour:2026-10-24T23:00",
            "hour:2026-10-25T00:00",
            "hour:2026-10-25T01:00",
            "hour:2026-10-25T01:00b",
            "hour:2026-10-25T02:00",
            "hour:2026-10-25T03:00",
        ],
        orders,
        queued,
    )


def test_a_missed_tick_does_not_skip_and_a_repeated_tick_does_not_repeat(app_context, at):
    order = new_order(new_customer())
    assert run_due(monday(10, 55)) == 1  # the scheduler was down from 10:00 to 10:55
    assert run_due(monday(10, 55)) == 0
    assert run_due(monday(10, 58)) == 0
    assert [batch.window_key for batch in batches()] == ["dispatch:2026-11-23T11:00"]
    assert [(row.order_id, row.state) for row in Reminder.select()] == [(order.id, SENT)]


# The JSON contract of `flask --app shop reminders plan` ----------------------------------------


PLANNED_KEYS = {
    "customer_id": int,
    "email": str,
    "order_id": int,
    "order_number": str,
    "segment": str,
    "template": str,
    "reminder_number": int,
    "arm": str,  # "reminded" or "held_out" (the control group)
    "variant": str,  # "A" or "B"
}
EXCLUDED_KEYS = {"order_id": int, "order_number": str, "customer_id": int, "reason": str}


def cli(database_url, tmp_path, *args):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "MAIL_", "SHOP_", "DATABASE_", "JOBS_", "FLASK_"))
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="x",
        JOBS_LOCK_PATH=str(tmp_path / "jobs.lock"),
        SHOP_INSTANCE_PATH=str(tmp_path / "cli-instance"),
    )
    return subprocess.run(
        [str(FLASK), "--app", "shop", "reminders", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def row_counts():
    return (Reminder.select().count(), ReminderBatch.select().count(), OutboxMessage.select().count())


def check_contract(document, pending_ids):
    assert set(document) == {"at", "window", "reminders", "excluded"}
    assert isinstance(document["at"], str)
    assert datetime.datetime.fromisoformat(document["at"]).tzinfo is not None
    if document["window"] is not None:
        assert set(document["window"]) == {"start", "end"}
        start, end = (datetime.datetime.fromisoformat(document["window"][k]) for k in ("start", "end"))
        assert start < end and start.tzinfo is not None
    for items, keys in ((document["reminders"], PLANNED_KEYS), (document["excluded"], EXCLUDED_KEYS)):
        assert isinstance(items, list)
        for item in items:
            assert set(item) == set(keys)
            assert all(type(item[name]) is kind for name, kind in keys.items()), item
        ids = [item["order_id"] for item in items]
        assert ids == sorted(ids)
    assert {item["segment"] for item in document["reminders"]} <= {"new", "returning", "loyal"}
    assert {item["reason"] for item in document["excluded"]} <= set(REASONS)
    reminded_ids = [item["order_id"] for item in document["reminders"]]
    excluded_ids = [item["order_id"] for item in document["excluded"]]
    assert sorted(reminded_ids + excluded_ids) == sorted(pending_ids)
    assert len(set(reminded_ids + excluded_ids)) == len(pending_ids)


def shop_with_every_kind_of_order(at):
    """A few customers: reminded ones, excluded ones, and orders that are not awaiting payment."""
    loyal, newcomer, marketplace_buyer, twice = (new_customer() for _ in range(4))
    new_paid_order(loyal, local(2026, 10, 1, 12, 0))
    new_paid_order(loyal, local(2026, 10, 8, 12, 0))
    orders = [
        new_order(twice, long_ago() - HOUR),  # not_newest
        new_order(loyal),
        new_order(newcomer),
        new_order(marketplace_buyer, channel=MARKETPLACE),
        new_order(twice, long_ago()),
        new_order(new_customer(opted_out_at=long_ago())),
    ]
    new_cancelled_order(newcomer, long_ago())
    reminded_before = new_order(new_customer(), local(2026, 11, 20, 9, 0), auto_cancel_at=at + 3 * DAY)
    reminder_row(reminded_before, local(2026, 11, 20, 10, 5))
    return orders


def test_cli_plan_json_contract_and_it_writes_nothing(app, database_url, tmp_path, at):
    shop_with_every_kind_of_order(at)
    pending_ids = [order.id for order in Order.select().where(Order.status == PENDING_PAYMENT)]
    before = row_counts()
    assert before[0] == before[1] == 1  # the earlier reminder's rows: so "unchanged" can fail

    result = cli(database_url, tmp_path, "plan", "--at", "2026-11-23T10:05", "--json")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    document = json.loads(lines[0])
    assert isinstance(document, dict)
    check_contract(document, pending_ids)
    assert datetime.datetime.fromisoformat(document["at"]) == at
    assert document["window"] == {
        "start": monday(10, 0).isoformat(),
        "end": monday(11, 0).isoformat(),
    }
    assert {item["reason"] for item in document["excluded"]} == {"not_newest", "marketplace", "opted_out"}
    assert sorted(item["segment"] for item in document["reminders"]) == ["loyal", "new", "new", "new"]
    assert document == plan(at).as_json(tz())  # the same plan as in process
    assert row_counts() == before


def test_cli_plan_json_between_windows_has_no_window_and_reminds_nobody(app, database_url, tmp_path, at):
    shop_with_every_kind_of_order(at)
    pending_ids = [order.id for order in Order.select().where(Order.status == PENDING_PAYMENT)]
    before = row_counts()
    result = cli(database_url, tmp_path, "plan", "--at", "2026-11-23T12:05", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    check_contract(document, pending_ids)
    assert document["window"] is None and document["reminders"] == []
    assert "outside_window" in {item["reason"] for item in document["excluded"]}
    assert row_counts() == before


def test_cli_plan_names_a_paid_reorder_in_json_and_in_words(app, database_url, tmp_path):
    customer = new_customer()
    first = new_order(customer, local(2026, 11, 22, 20, 0))
    new_paid_order(customer, local(2026, 11, 22, 20, 40), created_at=local(2026, 11, 22, 20, 35))
    result = cli(database_url, tmp_path, "plan", "--at", "2026-11-23T10:00", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["reminders"] == []
    assert document["excluded"] == [
        {
            "order_id": first.id,
            "order_number": first.number,
            "customer_id": customer.id,
            "reason": "paid_reorder",
        }
    ]
    result = cli(database_url, tmp_path, "plan", "--at", "2026-11-23T10:00")
    assert result.returncode == 0, result.stderr
    assert (
        f"order {first.number}: The customer ordered again soon after and paid that order (paid_reorder)"
        in result.stdout
    )


def test_cli_run_sends_once(app, database_url, tmp_path, at):
    order = new_order(new_customer())
    for _ in range(2):
        result = cli(database_url, tmp_path, "run", "--at", "2026-11-23T10:05")
        assert result.returncode == 0, result.stderr
    assert [(row.order_id, row.state) for row in Reminder.select()] == [(order.id, SENT)]
    assert OutboxMessage.select().count() == 1


# Property tests -------------------------------------------------------------------------------

MONDAY_MIDNIGHT = (2026, 11, 23)

customers_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "opted_out": st.sampled_from([False, False, False, True]),
            "group_off": st.sampled_from([False, False, False, True]),
        }
    ),
    min_size=2,
    max_size=5,
)


def orders_strategy(placed):
    """Orders as (customer index, minutes after Monday 00:00 placed, channel, auto-cancel hours,
    fate, minutes until the fate, minutes before `at` a card payment started or None)."""
    return st.lists(
        st.tuples(
            st.integers(0, 4),
            placed,
            st.sampled_from(["shop", "shop", "shop", MARKETPLACE]),
            st.sampled_from([72, 72, 72, 24, 14, 8, 2]),
            st.sampled_from(["pending", "pending", "pending", "paid", "paid", "cancelled"]),
            st.one_of(st.integers(1, 120), st.integers(1, 3 * 1440)),
            st.sampled_from([None, None, None, None, 10, 50, 70]),
        ),
        min_size=2,
        max_size=12,
    )


class Timeline:
    """The model: customers and orders with their times, and what is true at a moment."""

    def __init__(self, customers, drawn):
        self.base = local(*MONDAY_MIDNIGHT)
        self.customers = customers
        self.orders = []
        for index, (who, placed, channel, cancel_hours, fate, fate_after, payment) in enumerate(drawn):
            created = self.base + datetime.timedelta(minutes=placed)
            self.orders.append(
                {
                    "index": index,
                    "customer": who % len(customers),
                    "created": created,
                    "channel": channel,
                    "auto_cancel": created + datetime.timedelta(hours=cancel_hours),
                    "fate": fate,
                    "fate_at": created + datetime.timedelta(minutes=fate_after),
                    "payment": payment,
                    "id": None,
                }
            )
        self.orders.sort(key=lambda order: (order["created"], order["index"]))
        self.users = []
        self.groups = {}

    def create_customers(self):
        off = new_group(reminders_enabled=False)
        for drawn in self.customers:
            self.users.append(
                new_customer(
                    group=off if drawn["group_off"] else None,
                    opted_out_at=self.base - datetime.timedelta(days=30) if drawn["opted_out"] else None,
                )
            )

    def done_by(self, order, moment):
        return order["fate"] != "pending" and order["fate_at"] <= moment

    def insert_until(self, moment):
        """Write the orders placed by `moment` (in placing order) and the fates that happened."""
        for order in self.orders:
            if order["created"] > moment:
                break
            if order["id"] is None:
                row = new_order(
                    self.users[order["customer"]],
                    order["created"],
                    channel=order["channel"],
                    auto_cancel_at=order["auto_cancel"],
                )
                order["id"] = row.id
                order["paid_applied"] = False
            if self.done_by(order, moment) and not order["paid_applied"]:
                order["paid_applied"] = True
                if order["fate"] == "paid":
                    update_row(order["id"], status=PAID, paid_at=order["fate_at"], auto_cancel_at=None)
                else:
                    update_row(
                        order["id"], status=CANCELLED, cancelled_at=order["fate_at"], auto_cancel_at=None
                    )

    def add_card_payments(self, moment):
        """Card payments being confirmed at `moment`, as drawn, for orders still awaiting payment."""
        for order in self.awaiting(moment):
            if order["payment"] is not None:
                started = max(order["created"], moment - datetime.timedelta(minutes=order["payment"]))
                new_card_payment(Order.get_by_id(order["id"]), started)
                order["confirming"] = moment - started < HOUR
            else:
                order["confirming"] = False

    def awaiting(self, moment):
        return [o for o in self.orders if o["created"] <= moment and not self.done_by(o, moment)]

    def shop_order_ok(self, order, moment):
        return order["channel"] == "shop" and order["auto_cancel"] > moment

    def newest(self, customer, moment):
        candidates = [
            o for o in self.awaiting(moment) if o["customer"] == customer and self.shop_order_ok(o, moment)
        ]
        return candidates[-1]["id"] if candidates else None

    def paid_today(self, customer, moment):
        day_start = datetime.datetime.combine(moment.astimezone(tz()).date(), datetime.time(0), tzinfo=tz())
        return any(
            o["customer"] == customer and o["fate"] == "paid" and day_start <= o["fate_at"] <= moment
            for o in self.orders
        )

    def paid_reorder(self, order, moment):
        """Followed, within 24 hours, by an order of the same customer paid by `moment`."""
        return any(
            o["customer"] == order["customer"]
            and o["fate"] == "paid"
            and o["fate_at"] <= moment
            and order["created"] < o["created"] <= order["created"] + datetime.timedelta(hours=24)
            for o in self.orders
        )

    def paid_before(self, customer, moment):
        return sum(
            1
            for o in self.orders
            if o["customer"] == customer and o["fate"] == "paid" and o["fate_at"] <= moment
        )

    def reason(self, order, moment, history=(), window=None, max_per_order=2):
        """The first reason in REASONS order that applies, or None.

        `history`: the reminder rows that count (not cancelled) at `moment`, `window` the one
        open then (None: none is).
        """
        who = order["customer"]
        drawn = self.customers[who]
        local_date = moment.astimezone(tz()).date()
        sent = sum(1 for row in history if row.order_id == order["id"])
        in_batch = window is not None and any(
            row.order_id == order["id"] and row.batch.window_key == window.key for row in history
        )
        checks = (
            ("marketplace", order["channel"] != "shop"),
            ("cancelled", order["auto_cancel"] <= moment),
            ("not_newest", self.newest(who, moment) != order["id"]),
            ("payment_confirming", order.get("confirming", False)),
            ("cancel_soon", order["auto_cancel"] < moment + datetime.timedelta(hours=6)),
            ("too_recent", order["created"] > moment - HOUR),
            ("opted_out", drawn["opted_out"]),
            ("group_off", drawn["group_off"]),
            ("paid_today", self.paid_today(who, moment)),
            ("paid_reorder", self.paid_reorder(order, moment)),
            ("already_sent", in_batch),
            ("order_limit", sent >= max_per_order),
            (
                "daily_limit",
                any(row.user_id == self.users[who].id and row.local_date == local_date for row in history),
            ),
            ("outside_window", window is None),
        )
        return next((name for name, applies in checks if applies), None)

    def verdicts(self, moment, history=(), window=None, max_per_order=2):
        """{order id: the model's reason or "reminded"} for every order awaiting payment."""
        return {
            o["id"]: self.reason(o, moment, history, window, max_per_order) or "reminded"
            for o in self.awaiting(moment)
        }


def update_row(order_id, **fields):
    values = {
        name: to_naive_utc(value) if isinstance(value, datetime.datetime) else value
        for name, value in fields.items()
    }
    Order.update(**values).where(Order.id == order_id).execute()


def check_plan_invariants(the_plan, timeline, moment):
    """What every plan must respect, whatever the rules' details."""
    awaiting_ids = {o["id"] for o in timeline.awaiting(moment)}
    db_awaiting = {order.id for order in Order.select(Order.id).where(Order.status == PENDING_PAYMENT)}
    assert db_awaiting == awaiting_ids
    listed = [item.order_id for item in the_plan.reminders] + [item.order_id for item in the_plan.excluded]
    assert sorted(listed) == sorted(awaiting_ids)  # each order awaiting payment exactly once
    assert {item.reason for item in the_plan.excluded} <= set(REASONS)
    by_id = {o["id"]: o for o in timeline.orders}
    customers = [item.customer_id for item in the_plan.reminders]
    assert len(customers) == len(set(customers))  # one message per customer
    for item in the_plan.reminders:
        order = by_id[item.order_id]
        assert order["channel"] == "shop"
        assert not timeline.paid_today(order["customer"], moment)
        assert not timeline.paid_reorder(order, moment)
        assert timeline.newest(order["customer"], moment) == item.order_id
        assert item.customer_id == timeline.users[order["customer"]].id


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    customers=customers_strategy,
    drawn=orders_strategy(st.one_of(st.integers(-2 * 1440, 540), st.integers(-300, 620))),
)
@example(
    customers=[
        {"opted_out": False, "group_off": False},
        {"opted_out": True, "group_off": False},
        {"opted_out": False, "group_off": True},
        {"opted_out": False, "group_off": False},
        {"opted_out": False, "group_off": False},
        {"opted_out": False, "group_off": False},
        {"opted_out": False, "group_off": False},
    ],
    drawn=[
        (0, -1440, "shop", 72, "pending", 1, None),  # not_newest
        (0, 300, "shop", 72, "pending", 1, None),  # reminded
        (0, 350, MARKETPLACE, 72, "pending", 1, None),  # marketplace
        (1, 100, "shop", 72, "pending", 1, None),  # opted_out
        (1, -2000, "shop", 8, "pending", 1, None),  # cancelled (overdue)
        (2, 100, "shop", 72, "pending", 1, None),  # group_off
        (3, 200, "shop", 72, "pending", 1, None),  # paid_today
        (3, 400, "shop", 72, "paid", 60, None),
        (4, -1000, "shop", 30, "pending", 1, None),  # cancel_soon
        (5, 580, "shop", 72, "pending", 1, None),  # too_recent
        (6, -500, "shop", 72, "pending", 1, 10),  # payment_confirming
        (2, -3000, "shop", 72, "paid", 10, None),
        (3, -3000, "shop", 72, "paid", 10, None),
        (3, -2000, "shop", 72, "paid", 10, None),
    ],
)
@example(
    customers=[{"opted_out": False, "group_off": False}, {"opted_out": False, "group_off": False}],
    drawn=[
        (0, -840, "shop", 72, "pending", 1, None),  # paid_reorder: followed by the next one
        (0, -800, "shop", 72, "paid", 30, None),
        (1, -2000, "shop", 72, "pending", 1, None),  # reminded: the next one came 25 hours later
        (1, -500, "shop", 72, "paid", 60, None),
    ],
)
def test_property_the_plan_in_a_window(app, customers, drawn):
    at = monday(10, 5)
    with db.atomic() as transaction:
        timeline = Timeline(customers, drawn)
        timeline.create_customers()
        timeline.insert_until(at)
        timeline.add_card_payments(at)
        the_plan = plan(at)
        check_plan_invariants(the_plan, timeline, at)
        # And exactly the model's verdicts, reason for reason.
        assert reasons(the_plan) == timeline.verdicts(at, window=open_window(at))
        event(f"reminders in the plan: {min(len(the_plan.reminders), 3)}")
        for item in the_plan.reminders:
            customer = next(i for i, user in enumerate(timeline.users) if user.id == item.customer_id)
            paid = timeline.paid_before(customer, at)
            assert item.segment == ("loyal" if paid >= 2 else "returning" if paid == 1 else "new")
            assert item.reminder_number == 1
        transaction.rollback()


def ticks():
    """Three shop days of ticks: at the start of, inside and after each window."""
    times = ((10, 0), (10, 30), (11, 0), (16, 0), (16, 45), (17, 5))
    return [local(2026, 11, day, hour, minute) for day in (23, 24, 25) for hour, minute in times]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    customers=customers_strategy,
    drawn=orders_strategy(st.one_of(st.integers(-1440, 3 * 1440), st.integers(-300, 2 * 1440))),
    max_per_order=st.integers(1, 3),
)
def test_property_messages_queued_over_three_days(app, customers, drawn, max_per_order):
    with app.app_context(), db.atomic() as transaction:
        set_reminder_settings(max_per_order=max_per_order)
        timeline = Timeline(customers, drawn)
        timeline.create_customers()
        for moment in ticks():
            timeline.insert_until(moment)
            for order in timeline.orders:
                order["confirming"] = False  # no card payments in this one
            the_plan = plan(moment)
            check_plan_invariants(the_plan, timeline, moment)
            history = list(
                Reminder.select(Reminder, ReminderBatch)
                .join(ReminderBatch)
                .where(Reminder.state != REMINDER_CANCELLED)
            )
            expected = timeline.verdicts(moment, history, open_window(moment), max_per_order)
            assert reasons(the_plan) == expected, moment
            batches_before = ReminderBatch.select().count()
            run_due(moment)
            if ReminderBatch.select().count() > batches_before:
                # A new batch: what went out now is exactly what the plan (and the model) said.
                sent_now = {
                    row.order_id
                    for row in Reminder.select().where(
                        (Reminder.state == SENT) & (Reminder.decided_at == to_naive_utc(moment))
                    )
                }
                assert sent_now == set(reminded(the_plan)), moment

        sent = list(Reminder.select().where(Reminder.state == SENT).order_by(Reminder.id))
        by_id = {o["id"]: o for o in timeline.orders}
        per_day, per_order = {}, {}
        for row in sent:
            moment = as_aware_utc(row.decided_at)
            order = by_id[row.order_id]
            assert row.local_date == moment.astimezone(tz()).date()
            per_day[(row.user_id, row.local_date)] = per_day.get((row.user_id, row.local_date), 0) + 1
            per_order[row.order_id] = per_order.get(row.order_id, 0) + 1
            assert order["channel"] == "shop"
            assert not timeline.done_by(order, moment)  # still awaiting payment when sent
            assert not timeline.paid_today(order["customer"], moment)
            assert not timeline.paid_reorder(order, moment)
            assert timeline.newest(order["customer"], moment) == row.order_id
            drawn_customer = timeline.customers[order["customer"]]
            assert not drawn_customer["opted_out"] and not drawn_customer["group_off"]
            message = OutboxMessage.get_by_id(row.outbox_message_id)
            assert message.to_address == User.get_by_id(row.user_id).email
            assert message.kind == f"payment_reminder_{row.segment}"
        event(f"messages queued: {min(len(sent), 4)}")
        assert all(count == 1 for count in per_day.values())
        assert all(count <= max_per_order for count in per_order.values())
        assert OutboxMessage.select().where(OutboxMessage.kind.startswith("payment_reminder")).count() == len(
            sent
        )
        transaction.rollback()
