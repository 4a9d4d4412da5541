"""Customer groups and what each allows.

Every customer is in exactly one group. Features read a customer's settings through
`settings_for(user)`, the one place that knows which group applies right now (a decision
takes effect on the very next request).
"""

from dataclasses import dataclass

from flask_babel import gettext
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import Followers
from models.base import utcnow
from models.shop.language import format_money
from models.shop.language import format_percent_bp
from models.shop.settings import load_settings
from models.users.user import User

# The settings a group carries; the owner edits them, features read them.
SETTING_FIELDS = (
    "topup_min",
    "topup_max",
    "funds_discount_bp",
    "default_credit_limit",
    "pay_on_account",
    "bonus_threshold",
    "bonus_amount",
    "affiliate_reward",
    "reminders_enabled",
)


# The limits a group takes from the shop's settings unless it sets its own.
LIMIT_FIELDS = ("topup_min", "topup_max", "default_credit_limit")


class CustomerGroup(BaseModel):
    name = CharField(unique=True)
    perks = TextField(default="")
    is_default = BooleanField(default=False)
    open_to_applications = BooleanField(default=False)
    grants_referral_link = BooleanField(default=False)
    own_limits = BooleanField(default=False)  # False: the shop's default limits apply
    topup_min = IntegerField(default=1000)  # minor units
    topup_max = IntegerField(default=100000)
    funds_discount_bp = IntegerField(default=0)  # basis points: 250 = 2.5 %
    default_credit_limit = IntegerField(default=0)
    pay_on_account = BooleanField(default=False)
    bonus_threshold = IntegerField(default=0)  # top up at least this much…
    bonus_amount = IntegerField(default=0)  # …and get this much on top (0 = no bonus)
    affiliate_reward = IntegerField(default=0)
    reminders_enabled = BooleanField(default=True)
    retired_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "customer_group"

    @property
    def is_retired(self):
        return self.retired_at is not None

    def perk_facts(self):
        """What the group's own numbers give its members, as sentences with every amount written
        in the shop's currency ("A €5.00 bonus on every top-up of €100.00 or more"). Pages and
        emails list them under the owner's perks text, so the text needs no amounts of its own
        and the amounts stay right when the owner changes them."""
        facts = []
        if self.funds_discount_bp > 0:
            facts.append(
                gettext(
                    "%(percent)s off when you pay with account funds",
                    percent=format_percent_bp(self.funds_discount_bp),
                )
            )
        if self.bonus_amount > 0 and self.bonus_threshold > 0:
            facts.append(
                gettext(
                    "A %(bonus)s bonus on every top-up of %(threshold)s or more",
                    bonus=format_money(self.bonus_amount),
                    threshold=format_money(self.bonus_threshold),
                )
            )
        if self.pay_on_account:
            facts.append(gettext("Pay for your orders on account and settle up each month"))
        if self.grants_referral_link and self.affiliate_reward > 0:
            facts.append(
                gettext(
                    "%(amount)s in your account funds when someone you refer pays their first order",
                    amount=format_money(self.affiliate_reward),
                )
            )
        return facts

    def settings_dict(self):
        """The group's settings as they apply now: the shop's default limits unless it has its own."""
        values = {name: getattr(self, name) for name in SETTING_FIELDS}
        if not self.own_limits:
            shop = load_settings()
            values.update({name: getattr(shop, name) for name in LIMIT_FIELDS})
        return values


@dataclass(frozen=True)
class GroupSettings:
    """What a customer's group allows, as features read it."""

    group_id: int
    group_name: str
    topup_min: int
    topup_max: int
    funds_discount_bp: int
    default_credit_limit: int
    pay_on_account: bool
    bonus_threshold: int
    bonus_amount: int
    affiliate_reward: int
    reminders_enabled: bool
    may_transact: bool  # False for blocked or deleted accounts: no orders, no top-ups

    def bonus_for(self, amount):
        """The top-up bonus for `amount` (minor units): the rule's bonus when the amount reaches its threshold."""
        if self.bonus_amount <= 0 or self.bonus_threshold <= 0 or amount < self.bonus_threshold:
            return 0
        return self.bonus_amount


class GroupError(Exception):
    """A request that cannot be honoured; the message is for the person who made it."""


# Credit limits follow both (models/reactions.py connects them).
member_moved = Followers("a customer moved to another group: member_moved(user)")
group_changed = Followers("a group's settings or members changed: group_changed(group)")


def default_group():
    return CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712


def active_groups():
    return list(CustomerGroup.select().where(CustomerGroup.retired_at.is_null()).order_by(CustomerGroup.id))


def group_of(user):
    """The customer's group as stored now (one query, so decisions apply on the next request)."""
    user_row = User.select(User.group).where(User.id == user.id).get()
    return CustomerGroup.get_by_id(user_row.group_id) if user_row.group_id else default_group()


def credit_limit_in(group, user):
    """The credit limit `group` gives the customer `user`: nothing unless the group allows paying on
    account, else the personal limit the owner approved, else the group's default (or the shop's).
    The funds side reads it (models/funds/customer_accounts.py), and lowers it to 0 while a
    statement is overdue; the owner's group change shows it before and after."""
    if not group.pay_on_account:
        return 0
    if user.personal_credit_limit is not None:
        return user.personal_credit_limit
    return group.settings_dict()["default_credit_limit"]


def settings_for(user):
    group = group_of(user)
    fresh = User.get_by_id(user.id)
    return GroupSettings(
        group_id=group.id,
        group_name=group.name,
        may_transact=fresh.is_active,
        **group.settings_dict(),
    )


def member_counts():
    rows = (
        User.select(User.group, fn.COUNT(User.id).alias("n"))
        .where(User.deleted_at.is_null())
        .group_by(User.group)
    )
    return {row.group_id: row.n for row in rows}


def new_member(**fields):
    """A new account (its User row), in the default group unless `fields` names a group."""
    if "group" not in fields and "group_id" not in fields:
        fields["group"] = default_group()
    return User.create(**fields)
