"""The owner's dashboard figures: held for customers, owed on credit, this week against last."""

import datetime
from dataclasses import dataclass

from peewee import fn

from models.funds.ledger import LedgerAccount
from models.orders.order import Order
from models.orders.order import PENDING_PAYMENT
from models.reports.scope import paid_orders
from models.reports.scope import positive_part
from models.reports.scope import Scope
from models.reports.scope import sums_by_day_and_category


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
    return sum(total for (_, category), (_, total) in sums_by_day_and_category(scope, ["deposit"]).items())


def _spent_from_accounts(scope):
    return int(paid_orders(scope, fn.COALESCE(fn.SUM(Order.funds_used + Order.credit_used), 0)).scalar())
