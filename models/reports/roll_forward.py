"""The funds roll-forward: opening balance + every kind of movement = closing balance, checked."""

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import fn

from models.funds.history import CATEGORY_LABELS
from models.funds.ledger import CATEGORIES
from models.funds.ledger import Entry
from models.funds.ledger import LedgerAccount
from models.reports.scope import Chart
from models.reports.scope import Column
from models.reports.scope import customer_entries
from models.reports.scope import customers_in
from models.reports.scope import positive_part
from models.reports.scope import Report
from models.reports.scope import Series
from models.reports.scope import where_all

# What each ledger category does to customers' balances, in roll-forward order.
ROLL_FORWARD_LINES = (
    ("deposit", lazy_gettext("Deposits (top-ups)")),
    ("repayment", lazy_gettext("Paid back (credit repayments)")),
    ("bonus", lazy_gettext("Bonuses")),
    ("bonus_reversal", lazy_gettext("Bonuses taken back")),
    ("reward", lazy_gettext("Affiliate rewards")),
    ("refund_in", lazy_gettext("Refunds into funds")),
    ("adjustment", lazy_gettext("Adjustments")),
    ("hold", lazy_gettext("Spent on orders (held)")),
    ("release", lazy_gettext("Holds released (cancelled orders)")),
    ("refund_out", lazy_gettext("Refunded out to cards")),
)


def roll_forward(scope):
    """Opening balance + every movement of the period by category = closing balance.

    The opening balance and the lines are sums of entries; the closing balance it
    is checked against comes from the accounts' cached balances less what moved
    after the period, so a difference shows drift between the two.
    """
    opening = _entries_sum(scope, Entry.local_date < scope.first)
    moved = dict(
        customer_entries(scope, Entry.category, fn.SUM(Entry.amount))
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
    rows = [{"line": gettext("Opening balance"), "amount": opening}]
    rows += [{"line": str(label), "amount": moved.get(category, 0)} for category, label in lines]
    rows.append({"line": gettext("Closing balance"), "amount": computed})
    held, owed = _held_and_owed_on(scope)
    notes = [
        gettext(
            "Customers' account balances: money they hold is positive, credit they owe negative. "
            "Money on hold for unpaid orders has left their balances (Spent on orders) and comes "
            "back if the order is cancelled."
        )
    ]
    if closing != computed:
        notes.append(gettext("The lines do not add up to the accounts' balances: run the ledger check."))
    return Report(
        key="roll-forward",
        title=gettext("Funds roll-forward"),
        columns=[Column("line", gettext("Line"), "text"), Column("amount", gettext("Amount"))],
        rows=rows,
        chart=Chart(
            gettext("Movements in the period"),
            [str(label) for _, label in lines],
            [Series(gettext("Amount"), [moved.get(category, 0) for category, _ in lines], "series-1")],
        ),
        summary=[
            (gettext("Closing balance (accounts)"), closing, "money"),
            (gettext("Difference"), closing - computed, "money"),
            (gettext("Held for customers at the end"), held, "money"),
            (gettext("Owed by customers at the end"), owed, "money"),
        ],
        notes=notes,
    )


def _entries_sum(scope, condition):
    """The scope's customers' entries that meet `condition` (on local_date), summed from the index."""
    query = customer_entries(scope, fn.COALESCE(fn.SUM(Entry.amount), 0))
    return int(query.where(Entry.category.in_(CATEGORIES) & condition).scalar())


def _cached_balances(scope):
    query = where_all(
        LedgerAccount.select(fn.COALESCE(fn.SUM(LedgerAccount.balance), 0)).where(
            LedgerAccount.user.is_null(False)
        ),
        customers_in(scope, LedgerAccount.user),
    )
    return int(query.scalar())


def _held_and_owed_on(scope):
    """(sum of positive balances, sum of debts as a positive number) at the end of the last day:
    each account's running balance after its last entry up to then."""
    last_entries = (
        customer_entries(scope, fn.MAX(Entry.id))
        .where(Entry.local_date <= scope.last)
        .group_by(Entry.account)
    )
    row = (
        Entry.select(
            fn.COALESCE(fn.SUM(positive_part(Entry.balance_after)), 0),
            fn.COALESCE(fn.SUM(positive_part(0 - Entry.balance_after)), 0),
        )
        .where(Entry.id.in_(last_entries))
        .tuples()
        .get()
    )
    return int(row[0]), int(row[1])
