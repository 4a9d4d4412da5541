"""The owner's dashboard figures: held for customers, owed on credit, this week against last,
sales, the paid orders waiting to be dispatched, and whether mail can go out.

Sales count what customers ordered, by the day they placed the order (the shop's day, `local_date`,
as every report does), once it is paid, whenever that was: a bank transfer that arrives on Wednesday
adds to Monday's sales. Marketplace orders count with what the customer paid there; refunds are not
taken off (the reports show them). Every figure is one indexed query, so the page stays as fast
with years of orders.
"""

import datetime
from dataclasses import dataclass

from peewee import Case
from peewee import fn

from models.base import to_naive_utc
from models.base import utcnow
from models.funds.ledger import LedgerAccount
from models.orders.order import Order
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.order import SHOP_CHANNEL
from models.reports.scope import paid_orders
from models.reports.scope import positive_part
from models.reports.scope import Scope
from models.reports.scope import sums_by_day_and_category
from models.shop.outbox import FAILED
from models.shop.outbox import OutboxMessage
from models.shop.outbox import QUEUED
from models.shop.outbox import SENDING
from models.shop.outbox import UNKNOWN
from models.shop.settings import load_settings

# Failed and unknown messages older than this no longer raise the dashboard's mail alert: the
# outbox keeps them, but an alert nobody can clear would soon be read past.
MAIL_TROUBLE_DAYS = 7


@dataclass(frozen=True)
class Sales:
    """Paid orders placed in a stretch of shop days: how many, their value, the marketplaces' part."""

    orders: int
    value: int
    marketplace_value: int


@dataclass(frozen=True)
class ToDispatch:
    """Paid orders not dispatched yet, and when the one waiting longest was paid (naive UTC)."""

    shop: int
    marketplace: int
    oldest_paid_at: datetime.datetime | None

    @property
    def count(self):
        return self.shop + self.marketplace

    def oldest_age(self, now=None):
        """How long the order waiting longest has waited since it was paid (None: none waits)."""
        if self.oldest_paid_at is None:
            return None
        return max(datetime.timedelta(0), (to_naive_utc(now) if now else utcnow()) - self.oldest_paid_at)


@dataclass(frozen=True)
class Dashboard:
    today: datetime.date
    held: int  # positive balances: the shop's liability
    owed: int  # debts on credit, as a positive amount
    credit_limits: int  # credit extended to customers
    deposits_week: int
    deposits_week_before: int
    funds_spent_week: int  # order value paid from balances (funds and credit) in the last 7 days
    funds_spent_week_before: int
    unpaid_orders: int
    unpaid_value: int
    to_dispatch: ToDispatch
    sales_today: Sales  # placed today (so far) and paid
    sales_same_time_last_week: Sales  # placed the same weekday a week ago, by the same time of day
    sales_week: Sales  # placed in the last 7 days, today included, and paid
    sales_week_before: Sales


def dashboard(today, now=None):
    """The owner's figures at a glance: balances now, the last 7 days against the 7 before,
    today's sales against the same day last week by the same time (`now`, default the clock)."""
    held, owed, limits = (
        LedgerAccount.select(
            fn.COALESCE(fn.SUM(positive_part(LedgerAccount.balance)), 0),
            fn.COALESCE(fn.SUM(positive_part(0 - LedgerAccount.balance)), 0),
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
        today=today,
        held=int(held),
        owed=int(owed),
        credit_limits=int(limits),
        deposits_week=_deposited(week),
        deposits_week_before=_deposited(before),
        funds_spent_week=_spent_from_accounts(week),
        funds_spent_week_before=_spent_from_accounts(before),
        unpaid_orders=unpaid,
        unpaid_value=int(unpaid_value),
        to_dispatch=to_dispatch(),
        sales_today=sales(Scope(today, today)),
        sales_same_time_last_week=_sales_last_week_by_now(today, now),
        sales_week=sales(week),
        sales_week_before=sales(before),
    )


def to_dispatch():
    """Paid orders waiting to be dispatched, the shop's and the marketplaces', in one query
    (`status` is indexed; these are the orders of /admin/orders?status=paid)."""
    from_shop = Case(None, [(Order.channel == SHOP_CHANNEL, 1)], 0)
    shop, total, oldest = (
        Order.select(fn.COALESCE(fn.SUM(from_shop), 0), fn.COUNT(Order.id), fn.MIN(Order.paid_at))
        .where(Order.status == PAID)
        .tuples()
        .get()
    )
    oldest = datetime.datetime.fromisoformat(oldest) if isinstance(oldest, str) else oldest
    return ToDispatch(shop=int(shop), marketplace=int(total) - int(shop), oldest_paid_at=oldest)


def sales(scope, placed_before=None):
    """Orders placed on the scope's shop days and paid (from the reports' covering index);
    `placed_before` (naive UTC) keeps those placed before that instant."""
    query = paid_orders(
        scope,
        fn.COUNT(Order.id),
        fn.COALESCE(fn.SUM(Order.total), 0),
        fn.COALESCE(fn.SUM(Order.marketplace_amount), 0),
    )
    if placed_before is not None:
        query = query.where(Order.created_at < placed_before)
    orders, value, marketplace = query.tuples().get()
    return Sales(orders=int(orders), value=int(value), marketplace_value=int(marketplace))


def _sales_last_week_by_now(today, now=None):
    """The same weekday a week ago, orders placed up to the time of day it is now (shop time)."""
    zone = load_settings().tz
    moment = (now or datetime.datetime.now(datetime.UTC)).astimezone(zone)
    day = today - datetime.timedelta(days=7)
    wall_clock = moment.time().replace(tzinfo=None) if moment.date() == today else datetime.time.max
    then = datetime.datetime.combine(day, wall_clock, tzinfo=zone)
    return sales(Scope(day, day), placed_before=to_naive_utc(then))


@dataclass(frozen=True)
class MailStatus:
    """Why mail may not be reaching customers; `trouble` says whether the dashboard alerts."""

    waiting: int  # queued or being sent
    retrying: int  # queued again after a failed attempt (the mail server did not take it)
    failed: int  # failed for good in the last MAIL_TROUBLE_DAYS days
    unknown: int  # sent, but whether it arrived is unknown, in the last MAIL_TROUBLE_DAYS days
    no_server: bool  # no SMTP_HOST: nothing is ever delivered
    jobs_stopped: bool  # the scheduler's heartbeat is stale: nothing is delivered now
    days: int = MAIL_TROUBLE_DAYS

    @property
    def not_delivered(self):
        """Messages are waiting and nothing will send them."""
        return self.waiting > 0 and (self.no_server or self.jobs_stopped)

    @property
    def trouble(self):
        return self.not_delivered or self.retrying > 0 or self.failed > 0 or self.unknown > 0


def mail_status(smtp_configured, scheduler_healthy, now=None):
    """Whether mail goes out: the outbox's unfinished and recently failed messages, in one query
    over the `state` index (sent messages, the bulk of the table, are not read)."""
    since = to_naive_utc(now) if now else utcnow()
    since -= datetime.timedelta(days=MAIL_TROUBLE_DAYS)
    counts = {
        state: (int(n), int(retried or 0), int(recent or 0))
        for state, n, retried, recent in OutboxMessage.select(
            OutboxMessage.state,
            fn.COUNT(OutboxMessage.id),
            fn.SUM(Case(None, [(OutboxMessage.attempts > 0, 1)], 0)),
            fn.SUM(Case(None, [(OutboxMessage.created_at >= since, 1)], 0)),
        )
        .where(OutboxMessage.state.in_((QUEUED, SENDING, FAILED, UNKNOWN)))
        .group_by(OutboxMessage.state)
        .tuples()
    }
    nothing = (0, 0, 0)
    return MailStatus(
        waiting=counts.get(QUEUED, nothing)[0] + counts.get(SENDING, nothing)[0],
        retrying=counts.get(QUEUED, nothing)[1] if smtp_configured else 0,
        failed=counts.get(FAILED, nothing)[2],
        unknown=counts.get(UNKNOWN, nothing)[2],
        no_server=not smtp_configured,
        jobs_stopped=not scheduler_healthy,
    )


def _deposited(scope):
    return sum(total for (_, category), (_, total) in sums_by_day_and_category(scope, ["deposit"]).items())


def _spent_from_accounts(scope):
    return int(paid_orders(scope, fn.COALESCE(fn.SUM(Order.funds_used + Order.credit_used), 0)).scalar())
