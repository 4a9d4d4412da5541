"""Gift money taken back when what earned it is refunded: a top-up's bonus, an affiliate's reward.

The one rule (`take_back`), for both
    What was given is taken back from the balance it went to, as much of it as
    that balance still holds and never more: the balance is never taken below
    zero (or further into credit) by taking a gift back. What the balance no
    longer holds is the shortfall: it is recorded where the owner reads it and
    never chased. A top-up's bonus follows this rule in top_ups.py (the Refund
    row keeps `bonus_due` and `bonus_reversal`); an affiliate's reward here.

An affiliate's reward (models/orders/affiliate_rewards.py)
    It was paid for the referred customer's first paid shop order. When that
    order is refunded in full (what is left to refund reaches zero) or cancelled
    after payment, `take_back_reward` posts one journal, kind
    `affiliate_reward_reversal`, key [affiliate-reward-reversed:<referred user id>],
    correcting the reward journal (`corrects`): the affiliate's account →
    PROMOTIONS, category `bonus_reversal` (the gift correction), as much of the
    reward as the affiliate's balance holds at that moment, possibly nothing.
    The journal is posted even when nothing is taken, so the reversal happens
    once and reads truthfully: its memo names the shortfall, the order's
    history tells the owner, and the affiliate is emailed (unless their
    account was deleted). A partial refund takes nothing back. It runs inside
    the refund's write transaction, so the refund and the reversal are saved
    together or not at all.

    Decisions: the reversal stands once made. A card part the provider later
    refuses leaves the order not quite refunded; the owner refunds that part
    again, which is still the order refunded in full. A later order of the same
    customer earns no new reward: the first paid shop order was the only chance.
"""

from flask_babel import lazy_gettext

from models.funds.ledger import Declined
from models.funds.ledger import Entry
from models.funds.ledger import IdempotencyConflict
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.orders.affiliate_rewards import first_paid_shop_order
from models.orders.affiliate_rewards import MEMO_SOMEONE
from models.orders.affiliate_rewards import reversal_key
from models.orders.affiliate_rewards import REVERSAL_KIND
from models.orders.affiliate_rewards import reward_key
from models.orders.affiliate_rewards import short_name
from models.orders.order import Order
from models.orders.order import record_event
from models.orders.order import SHOP_CHANNEL
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.users.user import User

REFUNDED_IN_FULL = "refunded"  # why a reward is taken back, as the memo says it
CANCELLED_AFTER_PAYMENT = "cancelled"
ATTEMPTS = 3  # a movement racing the reversal (PostgreSQL) lowers the balance it read: read again


def take_back(due, held):
    """How much of `due` gift money to take back from a balance that holds `held` above zero for it.

    All of it when the balance holds it, else what is there, never below nothing; `due - taken`
    is the shortfall, recorded by the caller.
    """
    return max(0, min(due, held))


def take_back_reward(order, why, actor=None, now=None):
    """Take back the affiliate reward `order` earned, once; returns the reversal journal or None.

    `why` is REFUNDED_IN_FULL or CANCELLED_AFTER_PAYMENT. Nothing
    happens for an order that earned no reward. Runs inside the caller's write transaction.
    """
    order = Order.get_by_id(order.id)
    if order.channel != SHOP_CHANNEL or order.paid_at is None:
        return None
    reward = Journal.get_or_none(Journal.idempotency_key == reward_key(order.user_id))
    if reward is None:
        return None
    first = first_paid_shop_order(order.user_id)
    if first is None or first.id != order.id:
        return None  # a later order: the reward was for the first one
    key = reversal_key(order.user_id)
    earlier = Journal.get_or_none(Journal.idempotency_key == key)
    if earlier is not None:
        return earlier
    paid = (
        Entry.select(Entry.account, Entry.amount)
        .join(LedgerAccount)
        .where((Entry.journal == reward) & LedgerAccount.user.is_null(False) & (Entry.amount > 0))
        .get()
    )
    account = LedgerAccount.get_by_id(paid.account_id)
    referred = User.get_by_id(order.user_id)
    for attempt in range(ATTEMPTS):
        held = LedgerAccount.get_by_id(account.id).balance
        taken = take_back(paid.amount, held) if attempt < ATTEMPTS - 1 else 0
        memo = _memo(referred, why, paid.amount, taken)
        try:
            journal = transfer(
                key,
                REVERSAL_KIND,
                [
                    Leg(account, -taken, "bonus_reversal"),
                    Leg(system_account(PROMOTIONS), taken, "bonus_reversal"),
                ],
                memo=memo,
                actor=actor,
                corrects=reward,
                now=now,
            )
            break
        except Declined:
            continue  # the balance fell meanwhile: take what it holds now
        except IdempotencyConflict:
            # A racing refund (PostgreSQL) took it back first, under its own reading of the balance.
            return Journal.get(Journal.idempotency_key == key)
    _tell(order, account, referred, why, paid.amount, taken, actor, now)
    return journal


def _memo(referred, why, due, taken):
    """What the affiliate reads in their funds history (never the referred customer's email)."""
    text = f"Referral reward taken back: {short_name(referred, MEMO_SOMEONE)}'s first order was {why}"
    if taken == 0:
        return text + f" (your balance no longer held any of the {format_money(due)}: nothing taken)"
    if taken < due:
        return text + f" ({format_money(taken)} of {format_money(due)}, all your balance still held)"
    return text


def _tell(order, account, referred, why, due, taken, actor, now):
    """The order's history says it (never whose reward: the customer who ordered reads that history
    too, and the affiliate is someone else); the affiliate is emailed."""
    affiliate = User.get_by_id(account.user_id)
    note = f"Referral reward taken back from whoever referred this customer: {format_money(taken)} of {format_money(due)}"
    if taken < due:
        note += f"; {format_money(due - taken)} was no longer in their balance and is not taken back"
    record_event(order, order.status, order.status, actor, note + ".", now)
    if affiliate.deleted_at is not None:
        return
    send_templated(
        affiliate.email,
        "affiliate_reward_taken_back",
        lazy_gettext("Your referral reward was taken back"),
        "affiliate_reward_taken_back",
        user=affiliate,
        name=short_name(referred),
        why=why,
        due=due,
        taken=taken,
        membership_url=absolute_url("membership.overview"),
        history_url=absolute_url("funds.history_page", category="bonus_reversal"),
    )
