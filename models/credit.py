"""Credit limits (paying on account), customers' requests for a higher one, and credit terms.

The ledger account holds the limit every debit reads. It is derived here,
in one place: 0 while the customer has overdue debt, else 0 where the
customer's group does not allow paying on account, otherwise the personal
limit the owner approved, otherwise the group's default (or the shop's).

Credit terms: a monthly statement (models/statements.py) records what the
customer owed at the end of the month; it is due `credit_terms_days` later.
A statement is settled once money paid into the account after the month's
end covers its amount due (oldest debt is paid first). An unsettled
statement past its due date is overdue debt: it blocks new credit (the limit
goes to 0, which only blocks new spending) until it is paid.
"""

import datetime
from dataclasses import dataclass

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.audit import audit
from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.groups import CustomerGroup
from models.groups import effective_credit_limit
from models.groups import group_of
from models.groups import GroupError
from models.ledger import account_for
from models.ledger import Entry
from models.ledger import Journal
from models.ledger import LedgerAccount
from models.ledger import Leg
from models.ledger import system_account
from models.ledger import transfer
from models.mailer import absolute_url
from models.mailer import send_templated
from models.settings import after_change_hooks
from models.settings import format_money
from models.settings import load_settings
from models.user import User

PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"


class CreditRequest(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, backref="credit_requests")
    amount = IntegerField()
    reason = TextField(default="")
    state = CharField(default=PENDING, index=True)
    approved_amount = IntegerField(null=True)
    note = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="credit_decisions")

    class Meta:
        table_name = "credit_request"


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


def shop_today(now=None):
    """The shop's date at `now` (aware, or naive UTC as stored; default: now)."""
    moment = now or datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(load_settings().tz).date()


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


def _refresh_after_settings_change(changed):
    if "default_credit_limit" in changed:
        for group in CustomerGroup.select().where(CustomerGroup.own_limits == False):  # noqa: E712
            refresh_group_limits(group)


after_change_hooks.append(_refresh_after_settings_change)


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


def request_credit(user, amount, reason):
    """A pending request for a higher limit; GroupError with a message for the customer otherwise."""
    fresh = User.get_by_id(user.id)
    if not fresh.is_active:
        raise GroupError("Your account is paused, so it can't ask for credit.")
    if not group_of(fresh).pay_on_account:
        raise GroupError(
            "Your group doesn't offer paying on account. You can apply for another group in Membership."
        )
    if amount <= effective_credit_limit(fresh):
        raise GroupError("Ask for more than your current limit.")
    try:
        with write_transaction():
            return CreditRequest.create(user=user, amount=amount, reason=reason.strip())
    except IntegrityError:
        raise GroupError("You already have a request waiting; we'll email you the decision.") from None


def pending_credit_requests():
    return list(
        CreditRequest.select(CreditRequest, User)
        .join(User, on=CreditRequest.user)
        .where(CreditRequest.state == PENDING)
        .order_by(CreditRequest.created_at, CreditRequest.id)
    )


def pending_credit_count():
    return CreditRequest.select(fn.COUNT(CreditRequest.id)).where(CreditRequest.state == PENDING).scalar()


def requests_of(user):
    return list(
        CreditRequest.select().where(CreditRequest.user == user).order_by(CreditRequest.created_at.desc())
    )


def decide_credit(request_id, approve, decided_by, amount=None, note=""):
    """Approve (possibly a different amount) or decline with a note, exactly once; email and audit."""
    note = note.strip()
    if not approve and not note:
        raise GroupError("Give the customer a note when declining.")
    with write_transaction():
        request = CreditRequest.get_or_none(CreditRequest.id == request_id)
        if request is None:
            raise GroupError("That request doesn't exist.")
        granted = (amount if amount is not None else request.amount) if approve else None
        changed = (
            CreditRequest.update(
                state=APPROVED if approve else DECLINED,
                approved_amount=granted,
                note=note,
                decided_at=utcnow(),
                decided_by=decided_by,
            )
            .where((CreditRequest.id == request.id) & (CreditRequest.state == PENDING))
            .execute()
        )
        if not changed:
            raise GroupError("That request was already decided; nothing changed.")
        user = User.get_by_id(request.user_id)
        before = effective_credit_limit(user)
        if approve:
            User.update(personal_credit_limit=granted).where(User.id == user.id).execute()
            refresh_credit_limit(user)
        audit(
            decided_by,
            "credit_approved" if approve else "credit_declined",
            f"customer {user.id} ({user.email})",
            before={"limit": before, "asked": request.amount},
            after={"limit": effective_credit_limit(user), "note": note},
        )
        send_templated(
            user.email,
            "credit_approved" if approve else "credit_declined",
            "Your credit limit" + (" is raised" if approve else " request"),
            "credit_approved" if approve else "credit_declined",
            user=user,
            request=request,
            granted=granted,
            note=note,
            funds_url=absolute_url("credit.overview"),
        )
    return request


# Paying back --------------------------------------------------------------------

BANK_TRANSFERS = "bank_transfers"  # system account: money received by bank transfer (migration 0008)


def amount_owed(user):
    return max(0, -account_for(user).balance)


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
        raise GroupError("This customer doesn't owe anything.")
    if amount > owed:
        raise GroupError(f"The customer owes {format_money(owed)}; record at most that.")
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
            "We received your bank transfer",
            "bank_payment_received",
            user=customer,
            amount=amount,
            owed=amount_owed(customer),
            funds_url=absolute_url("funds.history_page"),
        )
    settle_statements(customer)
    return journal
