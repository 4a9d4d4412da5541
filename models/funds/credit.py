"""Credit (paying on account): the limit the ledger enforces kept up to date, credit terms, what
is owed and paying it back by bank transfer.

The limit every debit reads is derived in one place, `limit_for_debits`: 0 while the customer
has overdue debt, else their group's or personal limit (customer_accounts.py, which opens
accounts with it). It is refreshed whenever one of those changes (models/reactions.py for the
changes made by groups and settings).

Credit terms: a monthly statement (statements.py) records what the customer owed at the end
of the month; it is due `credit_terms_days` later. A statement is settled once money paid
into the account after the month's end covers its amount due (oldest debt is paid first). An
unsettled statement past its due date is overdue debt: it blocks new credit (the limit goes
to 0, which only blocks new spending) until it is paid.
"""

import datetime
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import DateField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import effective_credit_limit
from models.funds.holds import on_hold
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import CustomerGroup
from models.groups.group import GroupError
from models.shop.audit import audit
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import shop_today
from models.users.user import User


class CreditStatement(BaseModel):
    """What a customer owed at the end of a month, and when it is due."""

    user = ForeignKeyField(User, on_delete="RESTRICT", index=True, backref="credit_statements")
    period_start = DateField()
    period_end = DateField()  # exclusive: the first day of the next period
    closed_at = DateTimeField()  # period_end's midnight in shop time, as naive UTC
    opening_balance = IntegerField()
    closing_balance = IntegerField()
    amount_due = IntegerField()
    due_date = DateField(index=True)
    settled_at = DateTimeField(null=True, index=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "credit_statement"
        indexes = ((("user", "period_start"), True),)


def _overdue(today):
    return CreditStatement.settled_at.is_null() & (CreditStatement.due_date < today)


def overdue_statement(user, today=None):
    """The customer's oldest unpaid statement past its due date, or None."""
    return (
        CreditStatement.select()
        .where((CreditStatement.user == user) & _overdue(today or shop_today()))
        .order_by(CreditStatement.due_date)
        .first()
    )


def open_statement(user):
    """The customer's oldest statement not yet paid (due or not), or None."""
    return (
        CreditStatement.select()
        .where((CreditStatement.user == user) & CreditStatement.settled_at.is_null())
        .order_by(CreditStatement.due_date)
        .first()
    )


def limit_for_debits(user, today=None):
    """The limit the ledger's guard reads: nothing while debt is overdue."""
    if overdue_statement(user, today) is not None:
        return 0
    return effective_credit_limit(user)


def refresh_credit_limit(user, today=None):
    """Write the limit debits read to the customer's ledger account (call after any change to its inputs)."""
    account = account_for(user)
    with write_transaction():
        LedgerAccount.update(credit_limit=limit_for_debits(user, today)).where(
            LedgerAccount.id == account.id
        ).execute()


def refresh_group_limits(group):
    """After a group's settings change: every member's limit, in set-based statements."""
    members = User.select(User.id).where(User.group == group)
    if not group.pay_on_account:
        limit = 0
    else:
        limit = fn.COALESCE(
            User.select(User.personal_credit_limit).where(User.id == LedgerAccount.user),
            group.settings_dict()["default_credit_limit"],
        )
    overdue = CreditStatement.select(CreditStatement.user).where(_overdue(shop_today()))
    with write_transaction():
        LedgerAccount.update(credit_limit=limit).where(LedgerAccount.user.in_(members)).execute()
        LedgerAccount.update(credit_limit=0).where(
            LedgerAccount.user.in_(members) & LedgerAccount.user.in_(overdue)
        ).execute()


def refresh_after_settings_change(changed):
    """Groups that take the shop's default credit limit: every member's limit, when it changed."""
    if "default_credit_limit" in changed:
        for group in CustomerGroup.select().where(CustomerGroup.own_limits == False):  # noqa: E712
            refresh_group_limits(group)


def paid_in_since(user, since):
    """Money that came into the customer's account at or after `since` (naive UTC)."""
    return (
        Entry.select(fn.COALESCE(fn.SUM(Entry.amount), 0))
        .where((Entry.account == account_for(user)) & (Entry.amount > 0) & (Entry.created_at >= since))
        .scalar()
    )


def settle_statements(user, now=None):
    """Mark the customer's statements paid once money paid in after them covers them;
    lift the block on credit when nothing overdue is left (or set it when something fell
    overdue). `now` is aware or naive UTC. Returns how many were settled."""
    settled = 0
    stamp = now if now is None or now.tzinfo is None else now.astimezone(datetime.UTC).replace(tzinfo=None)
    for statement in CreditStatement.select().where(
        (CreditStatement.user == user) & CreditStatement.settled_at.is_null()
    ):
        if paid_in_since(user, statement.closed_at) >= statement.amount_due:
            with write_transaction():
                settled += (
                    CreditStatement.update(settled_at=stamp or utcnow())
                    .where((CreditStatement.id == statement.id) & CreditStatement.settled_at.is_null())
                    .execute()
                )
    refresh_credit_limit(user, shop_today(now))
    return settled


@dataclass(frozen=True)
class OverdueDebt:
    user: User
    statement: CreditStatement  # the oldest unpaid one past its due date
    balance: int
    overdue_amount: int  # what is left of that statement's amount due


def overdue_customers(today=None):
    """Every customer with overdue debt, oldest due date first."""
    statements = (
        CreditStatement.select(CreditStatement, User)
        .join(User, on=CreditStatement.user)
        .where(_overdue(today or shop_today()))
        .order_by(CreditStatement.due_date, CreditStatement.id)
    )
    oldest = {}
    for statement in statements:
        oldest.setdefault(statement.user_id, statement)
    balances = dict(
        LedgerAccount.select(LedgerAccount.user, LedgerAccount.balance)
        .where(LedgerAccount.user.in_(list(oldest)))
        .tuples()
    )
    return [
        OverdueDebt(
            statement.user,
            statement,
            balances.get(user_id, 0),
            max(0, statement.amount_due - paid_in_since(statement.user, statement.closed_at)),
        )
        for user_id, statement in oldest.items()
    ]


BANK_TRANSFERS = "bank_transfers"  # system account: money received by bank transfer (migration 0008)


@dataclass(frozen=True)
class Owed:
    """What a customer owes, and what is left out of it: money on hold for unpaid orders."""

    amount: int  # how far the balance is below zero, holds of orders awaiting payment not counted
    on_hold: int  # held for orders awaiting payment, while the balance is below zero (else 0)


def owed_by(user):
    """What the customer owes: how far the balance is below zero, not counting money on hold for
    orders that await payment. A hold is not debt yet: if its order is paid, what the order took
    of the credit is owed from then on; if it is cancelled, the hold comes back. So the customer
    never pays back money an unpaid order may still return (which would then sit in the balance
    as a repayment, not a deposit, and could not go back to a card)."""
    account = account_for(user)
    held = on_hold(account) if account.balance < 0 else 0  # holds only matter below zero
    return Owed(max(0, -(account.balance + held)), held)


def amount_owed(user):
    return owed_by(user).amount


def repayment_reference(user):
    """What the customer writes on a bank transfer paying back their debt."""
    return f"ACCOUNT-{user.id}"


def record_bank_payment(customer, amount, reference, actor, idempotency_key):
    """The owner records a bank transfer that paid back the customer's debt (exactly once per form).

    At most what is owed: money beyond the debt is not the shop's to keep as
    funds by accident; the owner sends it back or the customer tops up.
    """
    key = f"bank-payment:{idempotency_key}"
    earlier = Journal.get_or_none(Journal.idempotency_key == key)
    if earlier is not None:
        return earlier
    owed = amount_owed(customer)
    if owed == 0:
        raise GroupError(gettext("This customer doesn't owe anything."))
    if amount > owed:
        raise GroupError(
            gettext("The customer owes %(amount)s; record at most that.", amount=format_money(owed))
        )
    with write_transaction():
        journal = transfer(
            key,
            "repayment",
            [
                Leg(account_for(customer), amount, "repayment"),
                Leg(system_account(BANK_TRANSFERS), -amount, "repayment"),
            ],
            memo=f"Bank transfer received, reference {reference}",
            actor=actor,
        )
        audit(
            actor,
            "bank_payment_recorded",
            f"customer {customer.id} ({customer.email})",
            after={"amount": amount, "reference": reference},
        )
        send_templated(
            customer.email,
            "bank_payment_received",
            lazy_gettext("We received your bank transfer"),
            "bank_payment_received",
            user=customer,
            amount=amount,
            owed=amount_owed(customer),
            funds_url=absolute_url("funds.history_page"),
        )
    settle_statements(customer)
    return journal
