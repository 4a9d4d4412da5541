"""The owner's balance adjustments: up or down, with a reason, audited and optionally told to the customer.

Staff may adjust up to the shop's staff limit; a bigger staff adjustment
waits in the Approvals queue for the owner.
"""

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import ADJUSTMENTS
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import GroupError
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import load_settings
from models.users.user import User

REASONS = {
    "goodwill": lazy_gettext("Goodwill gesture"),
    "correction": lazy_gettext("Correction of an earlier mistake"),
    "cash_payment": lazy_gettext("Payment received outside the shop"),
    "chargeback": lazy_gettext("Chargeback or reversed payment"),
    "other": lazy_gettext("Other"),
}


# The reason as the ledger's memo records it: in English, whoever adjusts, in whatever language
# (the history shows it in its reader's language: `adjustment_words`).
REASON_MEMOS = {
    "goodwill": "Goodwill gesture",
    "correction": "Correction of an earlier mistake",
    "cash_payment": "Payment received outside the shop",
    "chargeback": "Chargeback or reversed payment",
    "other": "Other",
}


def adjustment_words(memo):
    """An adjustment's memo ("Goodwill gesture: the note") in the reader's language, the note as
    staff typed it; None when `memo` is not an adjustment's."""
    for code, recorded in REASON_MEMOS.items():
        if memo == recorded:
            return str(REASONS[code])
        if memo.startswith(recorded + ": "):
            note = memo[len(recorded) + 2 :]
            return gettext("%(reason)s: %(note)s", reason=REASONS[code], note=note)
    return None


class PendingAdjustment(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    amount = IntegerField()
    reason_code = CharField()
    note = TextField(default="")
    message = TextField(default="")
    state = CharField(default="pending", index=True)
    requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="adjustment_requests")
    idempotency_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="adjustment_decisions")

    class Meta:
        table_name = "pending_adjustment"


def needs_owner(actor, amount):
    return not actor.is_owner and abs(amount) > load_settings().staff_money_limit


def adjust(customer, amount, reason_code, note, message, actor, idempotency_key):
    """Post the adjustment, or queue it for the owner. Returns ('posted', journal) or ('queued', row)."""
    if amount == 0:
        raise GroupError(gettext("Enter an amount other than zero."))
    if reason_code not in REASONS:
        raise GroupError(gettext("Choose a reason."))
    if needs_owner(actor, amount):
        existing = PendingAdjustment.get_or_none(PendingAdjustment.idempotency_key == idempotency_key)
        if existing is not None:
            return "queued", existing
        with write_transaction():
            row = PendingAdjustment.create(
                user=customer,
                amount=amount,
                reason_code=reason_code,
                note=note,
                message=message,
                requested_by=actor,
                idempotency_key=idempotency_key,
            )
            audit(
                actor,
                "adjustment_requested",
                f"customer {customer.id} ({customer.email})",
                after={"amount": amount, "reason": reason_code},
            )
        return "queued", row
    return "posted", _post(customer, amount, reason_code, note, message, actor, idempotency_key)


def _post(customer, amount, reason_code, note, message, actor, idempotency_key):
    memo = REASON_MEMOS[reason_code] + (f": {note}" if note else "")
    key = f"adjustment:{idempotency_key}"
    with write_transaction():
        earlier = Journal.get_or_none(Journal.idempotency_key == key)
        if earlier is not None:
            return earlier  # a double click: the first result, no second message
        before = account_for(customer).balance
        journal = transfer(
            key,
            "adjustment",
            [
                Leg(account_for(customer), amount, "adjustment"),
                Leg(system_account(ADJUSTMENTS), -amount, "adjustment"),
            ],
            memo=memo,
            actor=actor,
        )
        audit(
            actor,
            "balance_adjusted",
            f"customer {customer.id} ({customer.email})",
            before={"balance": before},
            after={
                "balance": account_for(customer).balance,
                "amount": amount,
                "reason": reason_code,
                "note": note,
            },
        )
        if message.strip():
            send_templated(
                customer.email,
                "balance_adjusted",
                lazy_gettext("Your account balance was adjusted"),
                "balance_adjusted",
                user=customer,
                amount=amount,
                message=message.strip(),
                funds_url=absolute_url("credit.overview"),
            )
    return journal


def pending_adjustments():
    return list(
        PendingAdjustment.select(PendingAdjustment, User)
        .join(User, on=PendingAdjustment.user)
        .where(PendingAdjustment.state == "pending")
        .order_by(PendingAdjustment.created_at, PendingAdjustment.id)
    )


def pending_adjustment_count():
    return (
        PendingAdjustment.select(fn.COUNT(PendingAdjustment.id))
        .where(PendingAdjustment.state == "pending")
        .scalar()
    )


def decide_adjustment(adjustment_id, approve, owner):
    with write_transaction():
        row = PendingAdjustment.get_or_none(PendingAdjustment.id == adjustment_id)
        if row is None:
            raise GroupError(gettext("That adjustment doesn't exist."))
        changed = (
            PendingAdjustment.update(
                state="approved" if approve else "declined", decided_at=utcnow(), decided_by=owner
            )
            .where((PendingAdjustment.id == row.id) & (PendingAdjustment.state == "pending"))
            .execute()
        )
        if not changed:
            raise GroupError(gettext("That adjustment was already decided; nothing changed."))
        if approve:
            _post(
                User.get_by_id(row.user_id),
                row.amount,
                row.reason_code,
                row.note,
                row.message,
                owner,
                row.idempotency_key,
            )
        else:
            audit(owner, "adjustment_declined", f"customer {row.user_id}", before={"amount": row.amount})
    return row
