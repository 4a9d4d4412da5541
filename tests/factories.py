"""The tests' factories: plain functions that make the data tests need (fixtures, in the
conftest.py files, call them). They need the test's database: ask for `app`.

Rows written straight to the tables, `new_…` (no cart, no ledger movements), which is
all the payment reminder rules and the reports read: customers, groups, orders
(awaiting payment, paid, cancelled), card payments and reminder rows. Every time is an
aware datetime, usually built in shop time with `local(…)`; it is stored as naive UTC
like everything else.

`monday(10, 5)` (Monday 23 November 2026, 10:05 shop time) is inside the default
10:00–11:00 window before the 11:00 dispatch; `long_ago()` is a creation time
(Sunday 15:00) that makes an order old enough and far from its automatic
cancellation (72 hours later) at that moment.
"""

import datetime
import itertools
import uuid

from models.base import to_naive_utc
from models.groups.group import CustomerGroup
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.reminders.records import CANCELLED as REMINDER_CANCELLED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import update_reminder_settings
from models.shop.settings import load_settings
from models.users.user import CUSTOMER
from models.users.user import User
from payments import PENDING

MARKETPLACE = "marketplace-x"
_serial = itertools.count(1)


def tz():
    return load_settings().tz


def local(year, month, day, hour=0, minute=0, second=0, fold=0):
    """An aware datetime in the shop's time zone."""
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=tz(), fold=fold)


def monday(hour=10, minute=5):
    """Monday 23 November 2026 at hour:minute, shop time."""
    return local(2026, 11, 23, hour, minute)


def long_ago():
    """Sunday 22 November 2026, 15:00 shop time: an order placed then is old enough on Monday."""
    return local(2026, 11, 22, 15, 0)


def _unique():
    return f"{next(_serial)}-{uuid.uuid4().hex[:8]}"


def new_customer(group=None, opted_out_at=None, first_name="Rena", **fields):
    """A customer (no password); in the default group unless `group` (a CustomerGroup) is given."""
    if group is not None:
        fields["group"] = group
    return User.create(
        email=f"reminded-{_unique()}@example.com",
        role=CUSTOMER,
        first_name=first_name,
        last_name="Tester",
        reminders_opted_out_at=to_naive_utc(opted_out_at) if opted_out_at else None,
        **fields,
    )


def new_group(reminders_enabled=True):
    return CustomerGroup.create(name=f"Group {_unique()}", reminders_enabled=reminders_enabled)


def new_order(
    customer,
    created_at=None,
    *,
    status=PENDING_PAYMENT,
    channel="shop",
    paid_at=None,
    cancelled_at=None,
    auto_cancel_at="72 hours",
    total=2500,
):
    """An order row as placing one leaves it, awaiting payment by bank transfer unless told otherwise.

    `auto_cancel_at` defaults to 72 hours after `created_at` for an order awaiting payment (the
    shop's default) and to None otherwise; pass an aware datetime or None to choose.
    """
    created_at = created_at or long_ago()
    if auto_cancel_at == "72 hours":
        auto_cancel_at = created_at + datetime.timedelta(hours=72) if status == PENDING_PAYMENT else None
    number = f"R{_unique()}"
    return Order.create(
        user=customer,
        number=number,
        status=status,
        channel=channel,
        external_ref=None if channel == "shop" else f"EXT-{number}",
        payment_method=BANK,
        currency=load_settings().currency,
        subtotal=total,
        total=total,
        bank_amount=total if channel == "shop" else 0,
        marketplace_amount=0 if channel == "shop" else total,
        idempotency_key=f"reminder-test-{number}",
        created_at=to_naive_utc(created_at),
        local_date=created_at.astimezone(tz()).date(),
        auto_cancel_at=to_naive_utc(auto_cancel_at) if auto_cancel_at else None,
        paid_at=to_naive_utc(paid_at) if paid_at else None,
        cancelled_at=to_naive_utc(cancelled_at) if cancelled_at else None,
    )


def new_paid_order(customer, paid_at, created_at=None, channel="shop"):
    """An order the customer paid at `paid_at` (placed an hour earlier unless told)."""
    created_at = created_at or paid_at - datetime.timedelta(hours=1)
    return new_order(customer, created_at, status=PAID, paid_at=paid_at, channel=channel)


def new_cancelled_order(customer, cancelled_at, created_at=None):
    created_at = created_at or cancelled_at - datetime.timedelta(hours=1)
    return new_order(customer, created_at, status=CANCELLED, cancelled_at=cancelled_at)


def new_card_payment(order, created_at, provider_payment_id=True, state=PENDING):
    """A card payment of `order` started at `created_at` (with the provider's id unless told)."""
    key = _unique()
    return OrderPayment.create(
        order=order,
        user=order.user_id,
        amount=order.total,
        currency=order.currency,
        state=state,
        provider="sandbox",
        provider_payment_id=f"test-payment-{key}" if provider_payment_id else None,
        idempotency_key=f"reminder-test-payment-{key}",
        created_at=to_naive_utc(created_at),
        updated_at=to_naive_utc(created_at),
    )


def reminder_row(order, at, state=SENT, number=None, window_minutes=60):
    """A reminder about `order` decided at `at`, in a batch of its own (a window ending after `at`).

    `number` defaults to the next one for the order among rows that count.
    """
    if number is None:
        number = (
            Reminder.select()
            .where((Reminder.order == order.id) & (Reminder.state != REMINDER_CANCELLED))
            .count()
            + 1
        )
    local_at = at.astimezone(tz())
    batch = ReminderBatch.create(
        window_key=f"test:{_unique()}",
        mode="dispatch",
        window_start=to_naive_utc(at - datetime.timedelta(minutes=5)),
        window_end=to_naive_utc(at + datetime.timedelta(minutes=window_minutes)),
        dispatch_at=None,
        local_date=local_at.date(),
        planned_at=to_naive_utc(at),
        finished_at=to_naive_utc(at) if state != "planned" else None,
    )
    return Reminder.create(
        batch=batch,
        user=order.user_id,
        order=order.id,
        segment="new",
        template="new",
        reminder_number=number,
        local_date=local_at.date(),
        state=state,
        planned_at=to_naive_utc(at),
        decided_at=to_naive_utc(at) if state != "planned" else None,
    )


def set_reminder_settings(**changes):
    """Change the reminder settings (the owner's way); returns the fresh row."""
    return update_reminder_settings(changes)


def reasons(the_plan):
    """{order id: reason, or "reminded"} for every order in the plan."""
    result = {item.order_id: item.reason for item in the_plan.excluded}
    for item in the_plan.reminders:
        assert item.order_id not in result, f"order {item.order_id} both reminded and excluded"
        result[item.order_id] = "reminded"
    return result


def reminded(the_plan):
    """{order id: Planned}."""
    return {item.order_id: item for item in the_plan.reminders}
