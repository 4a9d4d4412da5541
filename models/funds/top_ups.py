"""Top-ups (and paying back credit) by card, through the payment provider.

A top-up is recorded before the payer is sent to the provider, under the
idempotency key the form carried, so a double click, a reload or a retried
request finds the same top-up and the same provider payment. The money is
posted by `complete_top_up` exactly once (ledger key `top-up:<id>`), by
whichever arrives first: the browser coming back, the provider's
notification (models/orders/notifications.py), or the reconciliation job.
`succeeded` is terminal: a failure notice arriving after a success changes
nothing, while a success arriving after a failure (the provider changed its
mind) still credits the money.
"""

import datetime

from flask_babel import gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.credit import amount_owed
from models.funds.credit import settle_statements
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import settings_for
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.settings import load_settings
from models.users.user import User
from payments import configured_name as configured_provider
from payments import FAILED
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider
from payments import SUCCEEDED

RECONCILE_AFTER = datetime.timedelta(minutes=3)


ABANDONED_AFTER = datetime.timedelta(hours=24)  # never chosen at the provider: marked failed


PRESETS = (2000, 5000, 10000)


TOP_UP = "top_up"


REPAYMENT = "repayment"


class TopUp(BaseModel):
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True, backref="top_ups")
    amount = IntegerField()
    bonus = IntegerField(default=0)
    currency = CharField(max_length=3)
    state = CharField(default=PENDING, index=True)
    purpose = CharField(default=TOP_UP)  # top_up | repayment (paying back what is owed)
    provider = CharField(default="sandbox")
    provider_payment_id = CharField(null=True, unique=True)
    redirect_url = TextField(default="")
    idempotency_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "top_up"

    @property
    def is_final(self):
        return self.state != PENDING

    @property
    def is_repayment(self):
        return self.purpose == REPAYMENT


class FundsError(Exception):
    """A top-up that cannot start; the message is for the customer."""


class KeyReused(FundsError):
    """The form's idempotency key already started a top-up of another amount."""


def presets_for(settings):
    """The preset amounts a group's limits allow (its minimum when none of the usual ones fit)."""
    fitting = [amount for amount in PRESETS if settings.topup_min <= amount <= settings.topup_max]
    return fitting or [settings.topup_min]


def check_amount(user, amount):
    """The group's rules for a top-up of `amount`; returns its settings or raises FundsError."""
    settings = settings_for(user)
    if not settings.may_transact:
        raise FundsError(gettext("Your account can't make payments right now. Please contact the shop."))
    if amount < settings.topup_min:
        raise FundsError(
            gettext("The smallest top-up is %(amount)s.", amount=format_money(settings.topup_min))
        )
    if amount > settings.topup_max:
        raise FundsError(
            gettext("The largest top-up is %(amount)s.", amount=format_money(settings.topup_max))
        )
    return settings


def check_repayment(user, amount):
    """Paying back what is owed: any amount above zero up to the debt (holds of unpaid orders are
    not debt, credit.py's `owed_by`), no minimum, no bonus."""
    owed = amount_owed(user)
    if owed == 0:
        raise FundsError(gettext("You don't owe anything, so there is nothing to pay back."))
    if amount <= 0:
        raise FundsError(gettext("Enter an amount above zero."))
    if amount > owed:
        raise FundsError(gettext("You owe %(amount)s; enter at most that.", amount=format_money(owed)))


def start_top_up(user, amount, idempotency_key, return_url=None, purpose=TOP_UP):
    """Record a top-up (or a repayment of debt) and create its provider payment; the same key
    returns the same top-up.

    `return_url(top_up)` builds where the provider sends the payer back
    (default: the top-up's page on this site).
    """
    key = f"{user.id}:{idempotency_key}"
    existing = TopUp.get_or_none(TopUp.idempotency_key == key)
    if existing is None:
        if purpose == REPAYMENT:
            check_repayment(user, amount)
            bonus = 0
        else:
            bonus = check_amount(user, amount).bonus_for(amount)
        try:
            with write_transaction():
                existing = TopUp.create(
                    provider=configured_provider(),
                    user=user,
                    amount=amount,
                    bonus=bonus,
                    purpose=purpose,
                    currency=load_settings().currency,
                    idempotency_key=key,
                )
        except IntegrityError:
            existing = TopUp.get(TopUp.idempotency_key == key)
    if existing.amount != amount or existing.purpose != purpose:
        raise KeyReused(
            gettext(
                "This form was already used for a different amount. Please check the amount and try again."
            )
        )
    if existing.provider_payment_id is None:
        url = (return_url or _default_return_url)(existing)
        payment_id, redirect_url = payment_provider(existing.provider).create_payment(
            existing.amount, existing.currency, f"top-up-{existing.id}", f"top-up:{existing.id}", url
        )
        with write_transaction():
            TopUp.update(
                provider_payment_id=payment_id, redirect_url=redirect_url, updated_at=utcnow()
            ).where(TopUp.id == existing.id).execute()
        existing = TopUp.get_by_id(existing.id)
    return existing


def _default_return_url(top_up):
    return absolute_url("funds.top_up_status", top_up_id=top_up.id)


def top_up_of(user, top_up_id):
    """The customer's own top-up, or None (another customer's id is simply not found)."""
    return TopUp.get_or_none((TopUp.id == top_up_id) & (TopUp.user == user))


def complete_top_up(top_up, now=None):
    """Credit the top-up (and its bonus) exactly once; returns the fresh top-up.

    Money paid in may settle a credit statement, which lifts a block on credit.
    """
    now = now or utcnow()
    with write_transaction():
        fresh = TopUp.get_by_id(top_up.id)
        if fresh.state == SUCCEEDED:
            return fresh
        customer = account_for(fresh.user)
        category = "repayment" if fresh.is_repayment else "deposit"
        legs = [
            Leg(customer, fresh.amount, category),
            Leg(system_account(PROVIDER_CLEARING), -fresh.amount, category),
        ]
        if fresh.bonus:
            legs += [
                Leg(customer, fresh.bonus, "bonus"),
                Leg(system_account(PROMOTIONS), -fresh.bonus, "bonus"),
            ]
        transfer(
            f"top-up:{fresh.id}",
            "top_up",
            legs,
            memo=f"{'Repayment' if fresh.is_repayment else 'Top-up'} {fresh.id} by card",
            actor=fresh.user,
            now=now,
        )
        TopUp.update(state=SUCCEEDED, updated_at=now).where(TopUp.id == fresh.id).execute()
    settle_statements(fresh.user, now)
    return TopUp.get_by_id(top_up.id)


def fail_top_up(top_up, now=None):
    """Mark a pending top-up failed. A succeeded one stays succeeded."""
    with write_transaction():
        TopUp.update(state=FAILED, updated_at=now or utcnow()).where(
            (TopUp.id == top_up.id) & (TopUp.state == PENDING)
        ).execute()
    return TopUp.get_by_id(top_up.id)


def apply_status(top_up, status, now=None):
    if status == SUCCEEDED:
        return complete_top_up(top_up, now)
    if status == FAILED:
        return fail_top_up(top_up, now)
    return TopUp.get_by_id(top_up.id)


def refresh_top_up(top_up, now=None):
    """Ask the provider about a pending top-up and act on the answer; returns the fresh top-up."""
    if top_up.state != PENDING or top_up.provider_payment_id is None:
        return top_up
    status = payment_provider(top_up.provider).get_status(top_up.provider_payment_id)
    return apply_status(top_up, status, now)


def top_up_paid_by(provider_name, provider_payment_id):
    """The top-up a provider's payment id belongs to, or None."""
    return TopUp.get_or_none(
        (TopUp.provider == provider_name) & (TopUp.provider_payment_id == provider_payment_id)
    )


def reconcile_top_ups(now):
    """Ask the provider about top-ups still pending after a few minutes; returns how many changed."""
    now = now.astimezone(datetime.UTC).replace(tzinfo=None) if now.tzinfo else now
    pending = TopUp.select().where((TopUp.state == PENDING) & (TopUp.created_at <= now - RECONCILE_AFTER))
    changed = 0
    for top_up in pending:
        if top_up.provider_payment_id is None:
            status = PENDING
        else:
            try:
                status = payment_provider(top_up.provider).get_status(top_up.provider_payment_id)
            except PaymentError:
                continue
        if status == PENDING and top_up.created_at <= now - ABANDONED_AFTER:
            status = FAILED  # the payer never finished; a later success still credits
        if status != PENDING:
            apply_status(top_up, status, now)
            changed += 1
    return changed


def recent_top_ups(user, limit=5):
    return list(TopUp.select().where(TopUp.user == user).order_by(TopUp.id.desc()).limit(limit))
