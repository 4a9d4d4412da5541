"""Refunds of deposited funds to the customer's card, through the payment provider.

The owner's rules, as the customer's funds page explains them:

What can go back to a card
    Only money the customer paid in by card, and never bonus money.

    - Per top-up: a paid top-up's deposit minus what was already refunded
      from it (refunds paid or still being confirmed; a refused refund gave
      its money back and counts for nothing). The provider refunds one
      specific payment, so every refund goes back to one chosen top-up. The
      ledger decides what was a deposit: only top-ups whose journal credited
      a `deposit` count (a payment that paid back credit does not).
    - In total: the smaller of
        (a) the deposits not yet refunded (the customer's `deposit` entries
            plus their `refund_out` entries), and
        (b) the balance above the gifts the customer still holds (their
            `bonus` and `reward` entries plus `bonus_reversal`).
      Gifts count as the last money spent: whatever the customer spent came
      out of their own money first, so a refund never pays bonus money out as
      cash. A balance at or below the gifts (or in credit, below zero)
      refunds nothing. Adjustments are neither: they only count through the
      balance in (b).

Bonus taken back
    A top-up's bonus follows its deposit in proportion. Once refunds totalling
    R of a deposit D with bonus B have been made, round_half_up(B x R / D) of
    that bonus has been taken back; each refund takes the difference from what
    the earlier ones took, so several partial refunds take back exactly what
    one refund of the same total would, and a full refund takes back the whole
    bonus, never a cent more. The cap above leaves the gifts in the balance,
    so the balance always covers this; should it ever not (a movement made
    outside these rules), only what is there is taken back and the owner is
    told how much was not (`bonus_due` and `bonus_reversal` on the Refund).
    That rule is gifts.py's `take_back`, which takes back affiliate rewards too.

Order of operations: nothing half-done, never twice
    1. One write transaction: the form's idempotency key finds an earlier
       refund (a double click or a retried request gets that refund back and
       moves nothing again). Otherwise the caps are checked, the Refund row is
       created `pending`, the ledger journal `refund:<id>` is posted (the
       refund out of the balance to PROVIDER_CLEARING, the bonus back to
       PROMOTIONS) and the owner's action is audited. The money leaves the
       balance before the provider is asked, so it cannot be spent meanwhile.
    2. The provider is asked to refund the top-up's payment under the key
       `refund:<id>`, so however often it is asked it refunds once.
    3. Paid: the refund becomes `succeeded` and the customer is emailed, once,
       by whichever process marks it. Refused (the provider answers with a
       PaymentError): a correcting journal `refund-reversed:<id>` (pointing at
       the first through `corrects`) puts the money and the bonus back, and
       the refund becomes `failed`. Unknown (a timeout, a lost connection, a
       crash before the answer): the refund stays `pending`, shown as "being
       confirmed", never as failed, and `retry_pending_refunds` on the jobs
       tick asks again under the same key until the provider answers.

Only the owner refunds (not staff), after a fresh sign-in.
"""

import datetime
import logging
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import Declined
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.top_ups import TopUp
from models.refunds.gifts import take_back
from models.shop.audit import audit
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.users.user import User
from payments import FAILED
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider
from payments import SUCCEEDED

log = logging.getLogger("shop.refunds")

GIFT_CATEGORIES = ("bonus", "reward", "bonus_reversal")
CASH_CATEGORIES = ("deposit", "refund_out")
RETRY_AFTER = datetime.timedelta(minutes=1)  # leave a request that is still asking alone
TOP_UPS_SHOWN = 50


class Refund(BaseModel):
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True, backref="refunds")
    top_up = ForeignKeyField(TopUp, on_delete="RESTRICT", index=True, backref="refunds")
    amount = IntegerField()
    bonus_reversal = IntegerField(default=0)  # taken back from the balance with this refund
    bonus_due = IntegerField(default=0)  # what the proportion asked for (more only if the balance fell short)
    state = CharField(default=PENDING, index=True)  # pending | succeeded | failed
    provider_refund_id = CharField(null=True)
    failure = TextField(default="")  # the provider's reason, when it refused
    note = TextField(default="")  # the owner's note, for the shop's records
    idempotency_key = CharField(unique=True)
    attempts = IntegerField(default=0)
    last_attempt_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="refunds_made")
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "refund"

    @property
    def journal_key(self):
        return f"refund:{self.id}"

    @property
    def bonus_shortfall(self):
        return self.bonus_due - self.bonus_reversal


class RefundError(Exception):
    """A refund that cannot be made; nothing moved. The message is for the owner."""


class RefundNotFound(RefundError):
    """No paid top-up of this customer with that id (the view answers 404)."""


class RefundKeyReused(RefundError):
    """The form's key already made a refund of another amount or top-up."""


# Reading ------------------------------------------------------------------------


def round_half_up(numerator, denominator):
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class TopUpRefundable:
    top_up: TopUp
    refunded: int  # already refunded (paid or being confirmed)
    bonus_reversed: int
    refundable: int  # what may still go back to this payment, before the customer's total cap

    @property
    def bonus_left(self):
        return self.top_up.bonus - self.bonus_reversed


@dataclass(frozen=True)
class RefundSummary:
    balance: int
    gifts_held: int  # bonus and reward money the customer still holds
    unrefunded_deposits: int  # paid in by card and not refunded
    top_ups: list  # of TopUpRefundable, newest first (at most TOP_UPS_SHOWN)

    @property
    def refundable(self):
        """The most that may go back to cards now, over all top-ups."""
        return max(0, min(self.unrefunded_deposits, self.balance - self.gifts_held))

    def cap_for(self, item):
        return min(item.refundable, self.refundable)


def _refunded_per_top_up(top_up_ids):
    """{top_up_id: (refunded, bonus reversed)} over refunds that are paid or being confirmed."""
    if not top_up_ids:
        return {}
    rows = (
        Refund.select(Refund.top_up, fn.SUM(Refund.amount), fn.SUM(Refund.bonus_reversal))
        .where(Refund.top_up.in_(top_up_ids) & (Refund.state != FAILED))
        .group_by(Refund.top_up)
        .tuples()
    )
    return {top_up_id: (refunded, reversed_) for top_up_id, refunded, reversed_ in rows}


def _refundable(top_up, sums):
    refunded, reversed_ = sums.get(top_up.id, (0, 0))
    return TopUpRefundable(top_up, refunded, reversed_, max(0, top_up.amount - refunded))


def _sums(account):
    """(gifts held, card money paid in and not refunded) from the customer's ledger entries."""
    totals = dict(
        Entry.select(Entry.category, fn.SUM(Entry.amount))
        .where((Entry.account == account) & Entry.category.in_(GIFT_CATEGORIES + CASH_CATEGORIES))
        .group_by(Entry.category)
        .tuples()
    )
    gifts = sum(totals.get(category, 0) for category in GIFT_CATEGORIES)
    cash = sum(totals.get(category, 0) for category in CASH_CATEGORIES)
    return max(0, gifts), max(0, cash)


def _deposit_top_ups(account, top_ups):
    """Those of `top_ups` whose ledger journal credited a deposit to `account`.

    The ledger decides what was deposited: a payment through the provider that
    was not a deposit (paying back credit, say) is not refundable here.
    """
    keys = {f"top-up:{top_up.id}": top_up for top_up in top_ups}
    if not keys:
        return []
    posted = set(
        Journal.select(Journal.idempotency_key)
        .join(Entry)
        .where(
            Journal.idempotency_key.in_(list(keys))
            & (Entry.account == account)
            & (Entry.category == "deposit")
        )
        .tuples()
    )
    return [top_up for key, top_up in keys.items() if (key,) in posted]


def _paid_top_ups(user):
    return TopUp.select().where(
        (TopUp.user == user) & (TopUp.state == SUCCEEDED) & TopUp.provider_payment_id.is_null(False)
    )


def refund_summary(user):
    """What may go back to the customer's cards: in total and per paid top-up."""
    account = LedgerAccount.get_by_id(account_for(user).id)
    shown = _deposit_top_ups(account, _paid_top_ups(user).order_by(TopUp.id.desc()).limit(TOP_UPS_SHOWN))
    sums = _refunded_per_top_up([top_up.id for top_up in shown])
    gifts, cash = _sums(account)
    return RefundSummary(
        balance=account.balance,
        gifts_held=gifts,
        unrefunded_deposits=cash,
        top_ups=[_refundable(top_up, sums) for top_up in shown],
    )


def paid_top_up_of(user, top_up_id):
    """The customer's paid deposit top-up, or None (another customer's id is simply not found)."""
    found = _paid_top_ups(user).where(TopUp.id == top_up_id).first()
    if found is None:
        return None
    return next(iter(_deposit_top_ups(account_for(user), [found])), None)


def split_over_top_ups(customer, amount):
    """[(top_up, part)] refunding `amount` to the customer's cards: newest top-up first, each part
    at most what that top-up has left. RefundError when that is more than can go back now."""
    refundable = refund_summary(customer).refundable
    if amount > refundable:
        raise RefundError(
            gettext(
                "At most %(amount)s can go back to the customer's cards now.", amount=format_money(refundable)
            )
        )
    top_ups = _deposit_top_ups(account_for(customer), _paid_top_ups(customer).order_by(TopUp.id.desc()))
    sums = _refunded_per_top_up([top_up.id for top_up in top_ups])
    parts = []
    for top_up in top_ups:
        part = min(amount, _refundable(top_up, sums).refundable)
        if part > 0:
            parts.append((top_up, part))
            amount -= part
    if amount:
        raise RefundError(
            gettext(
                "%(amount)s of it was not paid in through card top-ups, so it can't go back to a card.",
                amount=format_money(amount),
            )
        )
    return parts


def refunds_of(user, limit=20):
    return list(Refund.select().where(Refund.user == user).order_by(Refund.id.desc()).limit(limit))


# Refunding ----------------------------------------------------------------------------


def refund_to_card(customer, top_up_id, amount, note, actor, idempotency_key, now=None):
    """Refund `amount` of a paid top-up to the card it came from; returns the Refund.

    The same `idempotency_key` returns the same refund (asking the provider
    again, under the same key, if its answer is still unknown) and moves
    nothing twice. Raises RefundNotFound for a top-up that is not this
    customer's paid one, RefundError (nothing moved) for an amount beyond
    the caps, and RefundKeyReused when the key made a different refund.
    """
    now = now or utcnow()
    key = f"{customer.id}:{idempotency_key}"
    refund = _earlier(key, customer, top_up_id, amount)
    if refund is None:
        try:
            refund = record_refund(customer, top_up_id, amount, note, actor, key, now)
        except IntegrityError:
            # Two requests with one key where writers do not queue at BEGIN (PostgreSQL).
            refund = _earlier(key, customer, top_up_id, amount)
            if refund is None:
                raise
    if refund.state == PENDING:
        refund = ask_provider(refund, now)
    return refund


def _earlier(key, customer, top_up_id, amount):
    refund = Refund.get_or_none(Refund.idempotency_key == key)
    if refund is not None and (
        refund.user_id != customer.id or refund.top_up_id != top_up_id or refund.amount != amount
    ):
        raise RefundKeyReused(
            gettext(
                "This form was already used for a different refund. Check the amount and the top-up "
                "and send it again."
            )
        )
    return refund


def record_refund(customer, top_up_id, amount, note, actor, key, now):
    """Step 1: the Refund row, the money out of the balance and the audit, in one transaction (a
    savepoint inside the caller's); `key` is the customer's id and the form's key, as above."""
    if amount <= 0:
        raise RefundError(gettext("Enter an amount above zero."))
    with write_transaction():
        earlier = _earlier(key, customer, top_up_id, amount)
        if earlier is not None:
            return earlier
        top_up = paid_top_up_of(customer, top_up_id)
        if top_up is None:
            raise RefundNotFound(gettext("That top-up isn't one of this customer's paid top-ups."))
        summary = refund_summary(customer)
        item = _refundable(top_up, _refunded_per_top_up([top_up.id]))
        if amount > item.refundable:
            raise RefundError(
                gettext(
                    "At most %(amount)s of top-up %(id)s is left to refund.",
                    amount=format_money(item.refundable),
                    id=top_up.id,
                )
                if item.refundable
                else gettext("Top-up %(id)s has been refunded in full already.", id=top_up.id)
            )
        if amount > summary.refundable:
            raise RefundError(
                gettext(
                    "At most %(amount)s can go back to the card now: the balance above the bonus money "
                    "the customer still holds (%(bonus)s).",
                    amount=format_money(summary.refundable),
                    bonus=format_money(summary.gifts_held),
                )
                if summary.refundable
                else gettext(
                    "Nothing can go back to the card now: the balance holds no money the customer paid "
                    "in (bonus money still held: %(bonus)s).",
                    bonus=format_money(summary.gifts_held),
                )
            )
        bonus_due = 0
        if top_up.bonus:
            bonus_due = min(
                round_half_up(top_up.bonus * (item.refunded + amount), top_up.amount) - item.bonus_reversed,
                item.bonus_left,
            )
        bonus_reversal = take_back(bonus_due, summary.balance - amount)
        refund = Refund.create(
            user=customer,
            top_up=top_up,
            amount=amount,
            bonus_reversal=bonus_reversal,
            bonus_due=bonus_due,
            note=note,
            idempotency_key=key,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        customer_account = account_for(customer)
        legs = [
            Leg(customer_account, -amount, "refund_out"),
            Leg(system_account(PROVIDER_CLEARING), amount, "refund_out"),
        ]
        if bonus_reversal:
            legs += [
                Leg(customer_account, -bonus_reversal, "bonus_reversal"),
                Leg(system_account(PROMOTIONS), bonus_reversal, "bonus_reversal"),
            ]
        raced = RefundError(
            gettext("The balance changed while refunding. Nothing was refunded; please try again.")
        )
        try:
            transfer(
                refund.journal_key,
                "refund_to_card",
                legs,
                memo=f"Refund to card of top-up {top_up.id}",
                actor=actor,
                now=now,
            )
        except Declined:
            raise raced from None
        after = LedgerAccount.get_by_id(customer_account.id).balance
        if after + bonus_reversal < summary.gifts_held:
            # The refund took more than the balance above the gifts: only possible when a
            # movement raced this one past the checks above (never on SQLite, where this
            # transaction holds the write lock from BEGIN). Undo everything.
            raise raced
        audit(
            actor,
            "refund_started",
            f"customer {customer.id} ({customer.email})",
            before={"balance": summary.balance},
            after={
                "balance": after,
                "refund": refund.id,
                "top_up": top_up.id,
                "amount": amount,
                "bonus_taken_back": bonus_reversal,
                "note": note,
            },
        )
    return refund


def ask_provider(refund, now=None):
    """Steps 2 and 3: ask the provider (same key every time) and settle on its answer.

    A definite answer settles the refund; anything else (a timeout, a lost
    connection, an unexpected error) leaves it pending for the next retry.
    Returns the fresh Refund.
    """
    now = now or utcnow()
    with write_transaction():
        Refund.update(attempts=Refund.attempts + 1, last_attempt_at=now).where(
            Refund.id == refund.id
        ).execute()
    top_up = TopUp.get_by_id(refund.top_up_id)
    try:
        provider_refund_id = payment_provider(top_up.provider).refund(
            top_up.provider_payment_id, refund.amount, refund.journal_key
        )
    except PaymentError as error:
        return _refused(refund, str(error) or "The provider refused the refund.", now)
    except Exception:
        log.exception("refund %s: no answer from the provider; it stays pending and is retried", refund.id)
        return Refund.get_by_id(refund.id)
    return _paid(refund, str(provider_refund_id), now)


def _paid(refund, provider_refund_id, now):
    with write_transaction():
        changed = (
            Refund.update(state=SUCCEEDED, provider_refund_id=provider_refund_id, updated_at=now)
            .where((Refund.id == refund.id) & (Refund.state == PENDING))
            .execute()
        )
        fresh = Refund.get_by_id(refund.id)
        if changed:
            customer = User.get_by_id(fresh.user_id)
            audit(
                None,
                "refund_paid",
                f"customer {customer.id} ({customer.email})",
                after={"refund": fresh.id, "provider_refund_id": provider_refund_id},
            )
            send_templated(
                customer.email,
                "funds_refunded",
                lazy_gettext("We refunded money to your card"),
                "funds_refunded",
                user=customer,
                refund=fresh,
                history_url=absolute_url("funds.history_page"),
            )
    return fresh


def _refused(refund, reason, now):
    """The provider said no: the money and the bonus go back to the balance, and the refund failed."""
    with write_transaction():
        fresh = Refund.get_by_id(refund.id)
        if fresh.state != PENDING:
            return fresh  # already settled by another process
        original = Journal.get(Journal.idempotency_key == fresh.journal_key)
        customer = User.get_by_id(fresh.user_id)
        customer_account = account_for(customer)
        legs = [
            Leg(customer_account, fresh.amount, "refund_out"),
            Leg(system_account(PROVIDER_CLEARING), -fresh.amount, "refund_out"),
        ]
        if fresh.bonus_reversal:
            legs += [
                Leg(customer_account, fresh.bonus_reversal, "bonus_reversal"),
                Leg(system_account(PROMOTIONS), -fresh.bonus_reversal, "bonus_reversal"),
            ]
        transfer(
            f"refund-reversed:{fresh.id}",
            "refund_to_card_failed",
            legs,
            memo=f"Refund to card of top-up {fresh.top_up_id} didn't go through: money put back",
            corrects=original,
            now=now,
        )
        Refund.update(state=FAILED, failure=reason[:500], updated_at=now).where(
            Refund.id == fresh.id
        ).execute()
        audit(
            None,
            "refund_refused",
            f"customer {customer.id} ({customer.email})",
            after={"refund": fresh.id, "reason": reason[:500], "balance": account_for(customer).balance},
        )
    return Refund.get_by_id(refund.id)


def retry_pending_refunds(now):
    """Ask the provider again about refunds whose answer is unknown; returns how many settled."""
    now = now.astimezone(datetime.UTC).replace(tzinfo=None) if now.tzinfo else now
    due = Refund.select().where(
        (Refund.state == PENDING)
        & (Refund.last_attempt_at.is_null() | (Refund.last_attempt_at <= now - RETRY_AFTER))
    )
    settled = 0
    for refund in list(due.order_by(Refund.id)):
        settled += ask_provider(refund, now).state != PENDING
    return settled
