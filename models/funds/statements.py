"""Monthly credit statements: what a customer owed at the end of each month, emailed once.

On the first days of a month the tick issues last month's statements for
every customer who owed money at some point of it. A statement lists the
month's movements, the opening and closing balance, the amount due and the
due date (`credit_terms_days` after the month's end). One row per customer
and month (UNIQUE), written in the same transaction as its email, so a
crash or a second run never sends twice.
"""

import datetime
from dataclasses import dataclass

from babel.dates import format_skeleton
from flask_babel import gettext
from flask_babel import LazyString
from peewee import fn
from peewee import IntegrityError

from models.base import to_naive_utc
from models.base import write_transaction
from models.funds.credit import CreditStatement
from models.funds.credit import settle_statements
from models.funds.history import described
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.shop.heartbeat import beat
from models.shop.heartbeat import last_beat
from models.shop.language import active_locale
from models.shop.language import in_language
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import load_settings
from models.users.user import User

EMAIL_LINES = 60  # longer months point to the full history instead


@dataclass(frozen=True)
class Period:
    start: datetime.date  # first day of the month
    end: datetime.date  # first day of the next month
    opened_at: datetime.datetime  # naive UTC
    closed_at: datetime.datetime

    @property
    def key(self):
        return f"statements:{self.start:%Y-%m}"


def previous_month(now):
    """The shop-time month before the one `now` (aware) falls in."""
    tz = load_settings().tz
    end = now.astimezone(tz).date().replace(day=1)
    start = (end - datetime.timedelta(days=1)).replace(day=1)

    def midnight(day):
        return to_naive_utc(datetime.datetime.combine(day, datetime.time(0), tzinfo=tz))

    return Period(start, end, midnight(start), midnight(end))


def balance_at(account_id, moment):
    """The account's balance just before `moment` (naive UTC)."""
    last = (
        Entry.select(Entry.balance_after)
        .where((Entry.account == account_id) & (Entry.created_at < moment))
        .order_by(Entry.id.desc())
        .first()
    )
    return last.balance_after if last else 0


def accounts_that_owed(period):
    """Customer accounts that were below zero at the start of the period or at any point in it."""
    went_negative = Entry.select(Entry.account).where(
        (Entry.balance_after < 0) & (Entry.created_at < period.closed_at)
    )
    return (
        LedgerAccount.select(LedgerAccount.id, LedgerAccount.user)
        .where(LedgerAccount.user.is_null(False) & LedgerAccount.id.in_(went_negative))
        .tuples()
    )


def issue_statements(now):
    """Issue last month's statements once; returns how many were issued this call."""
    period = previous_month(now)
    if last_beat(period.key) is not None:
        return 0
    issued = 0
    terms = datetime.timedelta(days=load_settings().credit_terms_days)
    already = {
        user_id
        for (user_id,) in CreditStatement.select(CreditStatement.user)
        .where(CreditStatement.period_start == period.start)
        .tuples()
    }
    for account_id, user_id in accounts_that_owed(period):
        if user_id in already:
            continue
        opening = balance_at(account_id, period.opened_at)
        closing = balance_at(account_id, period.closed_at)
        low = (
            Entry.select(fn.MIN(Entry.balance_after))
            .where(
                (Entry.account == account_id)
                & (Entry.created_at >= period.opened_at)
                & (Entry.created_at < period.closed_at)
            )
            .scalar()
        )
        if opening >= 0 and (low is None or low >= 0):
            continue  # owed nothing this month
        issued += _issue(
            User.get_by_id(user_id), account_id, period, (opening, closing), period.end + terms, now
        )
    beat(period.key, now)
    return issued


def _issue(user, account_id, period, balances, due_date, now):
    opening, closing = balances
    amount_due = max(0, -closing)
    try:
        with write_transaction():
            statement = CreditStatement.create(
                user=user,
                period_start=period.start,
                period_end=period.end,
                closed_at=period.closed_at,
                opening_balance=opening,
                closing_balance=closing,
                amount_due=amount_due,
                due_date=due_date,
                settled_at=to_naive_utc(now) if amount_due == 0 else None,
            )
            with in_language(user.language):  # what each line says, in the customer's language
                lines = statement_lines(account_id, period)
            send_templated(
                user.email,
                "credit_statement",
                LazyString(_subject, period.start),
                "credit_statement",
                user=user,
                statement=statement,
                last_day=period.end - datetime.timedelta(days=1),
                lines=lines[:EMAIL_LINES],
                more=max(0, len(lines) - EMAIL_LINES),
                history_url=absolute_url(
                    "funds.history_page", since=period.start.isoformat(), until=statement_until(period)
                ),
                pay_url=absolute_url("credit.repay"),
            )
    except IntegrityError:
        return 0  # issued by another run meanwhile
    settle_statements(user, now)  # money paid since the month's end may already cover it
    return 1


def _subject(month):
    """The statement's subject, read in its recipient's language: "Your statement for December 2026"."""
    return gettext(
        "Your statement for %(month)s", month=format_skeleton("yMMMM", month, locale=active_locale())
    )


def statement_until(period):
    return (period.end - datetime.timedelta(days=1)).isoformat()


def statement_lines(account_id, period):
    """(entry, what the customer reads for it) for the period's movements, oldest first."""
    entries = (
        Entry.select(Entry, Journal)
        .join(Journal)
        .where(
            (Entry.account == account_id)
            & (Entry.created_at >= period.opened_at)
            & (Entry.created_at < period.closed_at)
        )
        .order_by(Entry.id)
    )
    return described(entries)


def enforce_credit_terms(now):
    """Block credit for customers whose statements just fell overdue (and still have credit)."""
    today = now.astimezone(load_settings().tz).date()
    newly_overdue = (
        CreditStatement.select(CreditStatement.user)
        .join(LedgerAccount, on=(LedgerAccount.user == CreditStatement.user))
        .where(
            CreditStatement.settled_at.is_null()
            & (CreditStatement.due_date < today)
            & (LedgerAccount.credit_limit > 0)
        )
        .distinct()
    )
    blocked = 0
    for row in newly_overdue:
        settle_statements(row.user, now)
        blocked += 1
    return blocked
