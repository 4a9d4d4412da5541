"""Affiliate rewards: a referred customer's first paid shop order earns their affiliate a reward.

Money (through models/funds/ledger.py): PROMOTIONS → the affiliate's account, category
`reward`, journal kind `affiliate_reward`, key [affiliate-reward:<referred user id>].
The key names the referred customer, not the order, so whatever happens — a
second order, a replayed payment notice, two workers paying two orders at once
(on PostgreSQL both may miss each other's order; the UNIQUE key still lets only
one journal in) — one referred customer earns their affiliate at most one reward.

`reward_affiliate(order, now)` runs from models.orders.paid.mark_paid, inside the
write transaction that marks the order paid, so the reward and the payment are
saved together or not at all. It pays only when all of these hold then:

- the order is a shop order (`channel == "shop"`; marketplace orders never count,
  neither as the paying order nor as an earlier one),
- it is the customer's first paid shop order,
- the customer was referred (`user.referred_by`) by someone else: not themselves, and not
  the same person under another account (`same_person`: the same mailbox, that is the same
  email but for case and a `+tag`, or the same phone),
- the affiliate's account is active (not blocked, not deleted),
- the affiliate's group, as it is at that moment, still grants referral links and
  its `affiliate_reward` is above zero; that amount is the reward.

Decisions: the rules are read when the first shop order is paid, and that is the
only chance. If the affiliate is blocked, has moved to a group without referral
links, or the group's reward is 0 at that moment, no reward is owed and a later
order does not earn one (it is not the first). A changed group amount applies to
first orders paid after the change; rewards already paid stay as they were. A
deleted affiliate (row gone) leaves `referred_by` empty, so nothing is paid.

Taken back: when the rewarded order (the customer's first paid shop order) is refunded in
full or cancelled after payment, models/refunds/gifts.py takes the reward back once (journal
kind `affiliate_reward_reversal`, key [affiliate-reward-reversed:<referred user id>],
correcting the reward), as much of it as the affiliate's balance still holds. A later order
earns nothing then either: the first paid order was the only chance.

The memo tells the affiliate who it was for without their email: first name
and the initial of the last name ("Ana L."), as the referral list shows them.
"""

import datetime
from dataclasses import dataclass

from flask_babel import lazy_gettext
from peewee import fn

from models.funds.customer_accounts import account_for
from models.funds.ledger import Entry
from models.funds.ledger import IdempotencyConflict
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import group_of
from models.orders.order import Order
from models.orders.order import SHOP_CHANNEL
from models.users.user import same_mailbox
from models.users.user import User

KIND = "affiliate_reward"
KEY_PREFIX = "affiliate-reward:"
REVERSAL_KIND = "affiliate_reward_reversal"
REVERSAL_KEY_PREFIX = "affiliate-reward-reversed:"


def reward_key(referred):
    return f"{KEY_PREFIX}{getattr(referred, 'id', referred)}"


def reversal_key(referred):
    """The key of the journal that takes back the reward `reward_key(referred)` (once)."""
    return f"{REVERSAL_KEY_PREFIX}{getattr(referred, 'id', referred)}"


SOMEONE = lazy_gettext("Someone you referred")
MEMO_SOMEONE = "Someone you referred"  # the ledger's memos stay in English


def short_name(user, unnamed=SOMEONE):
    """What an affiliate sees of someone they referred: 'Ana L.' (never the email). Without a
    first name: `unnamed` (in the reader's language; the ledger's memos pass English words)."""
    first = (user.first_name or "").strip()
    last = (user.last_name or "").strip()
    if not first:
        return unnamed
    return f"{first} {last[:1]}." if last else first


def same_person(customer, affiliate):
    """Whether two accounts are one person: the same mailbox (case and `+tags` aside) or phone."""
    if same_mailbox(customer.email, affiliate.email):
        return True
    return bool(customer.phone) and customer.phone == affiliate.phone  # both stored as E.164


def reward_for(customer):
    """(affiliate, amount) the customer's first paid shop order would earn now, or None."""
    if customer.referred_by_id is None or customer.referred_by_id == customer.id:
        return None
    affiliate = User.get_or_none(User.id == customer.referred_by_id)
    if affiliate is None or not affiliate.is_active or same_person(customer, affiliate):
        return None
    group = group_of(affiliate)
    if group.is_retired or not group.grants_referral_link or group.affiliate_reward <= 0:
        return None
    return affiliate, group.affiliate_reward


def first_paid_shop_order(user_id):
    """The customer's first paid shop order (the one a reward is for), or None."""
    return (
        Order.select()
        .where((Order.user == user_id) & (Order.channel == SHOP_CHANNEL) & Order.paid_at.is_null(False))
        .order_by(Order.paid_at, Order.id)
        .first()
    )


def _is_first_paid_shop_order(order):
    earlier = Order.select(Order.id).where(
        (Order.user == order.user_id)
        & (Order.channel == SHOP_CHANNEL)
        & Order.paid_at.is_null(False)
        & (Order.id != order.id)
    )
    return not earlier.exists()


def reward_affiliate(order, now):
    """The paid hook: post the affiliate's reward if this order earns one. Returns the journal or None.

    Runs inside the caller's write transaction (models.orders.mark_paid).
    """
    if order.channel != SHOP_CHANNEL or order.paid_at is None:
        return None
    key = reward_key(order.user_id)
    existing = Journal.get_or_none(Journal.idempotency_key == key)
    if existing is not None:
        return existing
    if not _is_first_paid_shop_order(order):
        return None
    referred = User.get_by_id(order.user_id)
    earned = reward_for(referred)
    if earned is None:
        return None
    affiliate, amount = earned
    try:
        return transfer(
            key,
            KIND,
            [
                Leg(system_account(PROMOTIONS), -amount, "reward"),
                Leg(account_for(affiliate), amount, "reward"),
            ],
            memo=f"Referral reward: {short_name(referred, MEMO_SOMEONE)} paid their first order",
            now=now,
        )
    except IdempotencyConflict:
        # A racing payment (another worker, PostgreSQL) stored this customer's reward
        # first, for another amount (the group changed in between). It stands; never
        # fail the customer's payment over the affiliate's reward.
        return Journal.get(Journal.idempotency_key == key)


# What the affiliate sees -----------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    """One person the affiliate referred, as My Account → Membership shows them."""

    name: str
    joined_at: datetime.datetime
    reward: int | None  # minor units, when a reward was paid
    rewarded_at: datetime.datetime | None
    first_paid_at: datetime.datetime | None  # their first paid shop order, if any
    taken_back: int | None = None  # of the reward, when that order was refunded or cancelled
    taken_back_at: datetime.datetime | None = None

    @property
    def status(self):
        if self.reward is not None and self.taken_back is not None:
            return "taken_back"  # the order was refunded in full or cancelled
        if self.reward is not None:
            return "rewarded"
        if self.first_paid_at is not None:
            return "no_reward"  # paid when no reward was due (e.g. the group had none)
        return "waiting"


def referrals_with_rewards(affiliate):
    """Everyone the affiliate referred, newest first, each with their reward and what of it was
    taken back (three queries)."""
    people = list(
        User.select(User.id, User.first_name, User.last_name, User.created_at)
        .where(User.referred_by == affiliate)
        .order_by(User.created_at.desc(), User.id.desc())
    )
    if not people:
        return []
    rewards = {}
    account = LedgerAccount.get_or_none(LedgerAccount.user == affiliate)
    if account is not None:
        rows = (
            Entry.select(Entry.amount, Journal.idempotency_key, Journal.created_at)
            .join(Journal)
            .where(
                (Entry.account == account)
                & (
                    ((Entry.category == "reward") & (Journal.kind == KIND))
                    | ((Entry.category == "bonus_reversal") & (Journal.kind == REVERSAL_KIND))
                )
            )
            .tuples()
        )
        for amount, key, created_at in rows:
            rewards[key] = (abs(amount), created_at)
    referred_ids = User.select(User.id).where(User.referred_by == affiliate)
    first_paid = dict(
        Order.select(Order.user, fn.MIN(Order.paid_at))
        .where(Order.user.in_(referred_ids) & (Order.channel == SHOP_CHANNEL) & Order.paid_at.is_null(False))
        .group_by(Order.user)
        .tuples()
    )
    result = []
    for person in people:
        amount, rewarded_at = rewards.get(reward_key(person), (None, None))
        taken_back, taken_back_at = rewards.get(reversal_key(person), (None, None))
        result.append(
            Referral(
                name=short_name(person),
                joined_at=person.created_at,
                reward=amount,
                rewarded_at=rewarded_at,
                first_paid_at=first_paid.get(person.id),
                taken_back=taken_back,
                taken_back_at=taken_back_at,
            )
        )
    return result
