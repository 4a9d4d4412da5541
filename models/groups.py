"""Customer groups, their settings, and applications for the groups that take them.

Every customer is in exactly one group. Later features read a customer's
settings through `settings_for(user)`, the one place that knows which
group applies right now (a decision takes effect on the very next request).
"""

import secrets
from dataclasses import dataclass

from peewee import BooleanField
from peewee import CharField
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
from models.mailer import absolute_url
from models.mailer import send_templated
from models.user import User

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

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

    def settings_dict(self):
        """The group's settings as they apply now: the shop's default limits unless it has its own."""
        values = {name: getattr(self, name) for name in SETTING_FIELDS}
        if not self.own_limits:
            from models.settings import load_settings

            shop = load_settings()
            values.update({name: getattr(shop, name) for name in LIMIT_FIELDS})
        return values


User._meta.add_field("group", ForeignKeyField(CustomerGroup, null=True, on_delete="RESTRICT"))
User._meta.add_field("referral_code", CharField(null=True, unique=True))
User._meta.add_field(
    "referred_by", ForeignKeyField(User, null=True, on_delete="SET NULL", backref="referrals")
)


class GroupApplication(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, backref="applications")
    group = ForeignKeyField(CustomerGroup, on_delete="CASCADE")
    note = TextField(default="")
    state = CharField(default=PENDING, index=True)
    reason = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="decisions")

    class Meta:
        table_name = "group_application"


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


def default_group():
    return CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712


def active_groups():
    return list(CustomerGroup.select().where(CustomerGroup.retired_at.is_null()).order_by(CustomerGroup.id))


def group_of(user):
    """The customer's group as stored now (one query, so decisions apply on the next request)."""
    user_row = User.select(User.group).where(User.id == user.id).get()
    return CustomerGroup.get_by_id(user_row.group_id) if user_row.group_id else default_group()


def effective_credit_limit(user):
    """The limit a customer's debits may use: 0 where the group does not allow paying on
    account, else the personal limit the owner approved, else the group's default."""
    fresh = User.get_by_id(user.id)
    group = group_of(fresh)
    if not group.pay_on_account:
        return 0
    if fresh.personal_credit_limit is not None:
        return fresh.personal_credit_limit
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


# Applications ---------------------------------------------------------------


def groups_open_to(user):
    """Groups the customer may apply for: open, not retired, not their own, no pending application."""
    current = group_of(user)
    pending = {
        a.group_id
        for a in GroupApplication.select().where(
            (GroupApplication.user == user) & (GroupApplication.state == PENDING)
        )
    }
    return [
        group
        for group in active_groups()
        if group.open_to_applications and group.id != current.id and group.id not in pending
    ]


def applications_of(user):
    return list(
        GroupApplication.select(GroupApplication, CustomerGroup)
        .join(CustomerGroup)
        .where(GroupApplication.user == user)
        .order_by(GroupApplication.created_at.desc(), GroupApplication.id.desc())
    )


def apply_for(user, group_id, note=""):
    """A pending application, or GroupError with a message for the customer."""
    try:
        group_id = int(group_id)
    except (TypeError, ValueError):
        raise GroupError("That group doesn't exist any more.") from None
    with write_transaction():
        group = CustomerGroup.get_or_none(CustomerGroup.id == group_id)
        if group is None or group.is_retired:
            raise GroupError("That group doesn't exist any more.")
        if not group.open_to_applications:
            raise GroupError(f"{group.name} is by invitation only; applications are closed.")
        if group_of(user).id == group.id:
            raise GroupError(f"You are already in {group.name}.")
        if not User.get_by_id(user.id).is_active:
            raise GroupError("Your account is paused, so it can't apply for a group.")
        try:
            with write_transaction():
                return GroupApplication.create(user=user, group=group, note=note.strip())
        except IntegrityError:
            raise GroupError(
                f"You have already applied for {group.name}; we'll email you the decision."
            ) from None


def withdraw(user, application_id):
    with write_transaction():
        changed = (
            GroupApplication.update(state=WITHDRAWN, decided_at=utcnow())
            .where(
                (GroupApplication.id == application_id)
                & (GroupApplication.user == user)
                & (GroupApplication.state == PENDING)
            )
            .execute()
        )
    if not changed:
        raise GroupError("That application has already been decided or withdrawn.")


def pending_applications():
    return list(
        GroupApplication.select(GroupApplication, CustomerGroup, User)
        .join(CustomerGroup)
        .switch(GroupApplication)
        .join(User, on=GroupApplication.user)
        .where(GroupApplication.state == PENDING)
        .order_by(GroupApplication.created_at, GroupApplication.id)
    )


def pending_count():
    return (
        GroupApplication.select(fn.COUNT(GroupApplication.id))
        .where(GroupApplication.state == PENDING)
        .scalar()
    )


def decide(application_id, approve, decided_by, reason=""):
    """Approve or reject a pending application (exactly once), email the customer, audit it."""
    reason = reason.strip()
    if not approve and not reason:
        raise GroupError("Give the customer a reason for the rejection.")
    with write_transaction():
        application = GroupApplication.get_or_none(GroupApplication.id == application_id)
        if application is None:
            raise GroupError("That application doesn't exist.")
        state = APPROVED if approve else REJECTED
        changed = (
            GroupApplication.update(state=state, decided_at=utcnow(), decided_by=decided_by, reason=reason)
            .where((GroupApplication.id == application.id) & (GroupApplication.state == PENDING))
            .execute()
        )
        if not changed:
            raise GroupError("That application was already decided (or withdrawn); nothing changed.")
        user = User.get_by_id(application.user_id)
        group = CustomerGroup.get_by_id(application.group_id)
        before = group_of(user).name
        if approve:
            move_to_group(user, group)
        audit(
            decided_by,
            f"application_{state}",
            f"customer {user.id} ({user.email})",
            before={"group": before, "application": PENDING},
            after={"group": group.name if approve else before, "application": state, "reason": reason},
        )
        send_templated(
            user.email,
            f"application_{state}",
            f"Your application for {group.name}" + (" is approved" if approve else ""),
            f"application_{state}",
            user=user,
            group=group,
            reason=reason,
            account_url=absolute_url("membership.overview"),
        )
    return application


def move_to_group(user, group):
    from models.credit import refresh_credit_limit  # credit builds on groups, not the reverse

    User.update(group=group).where(User.id == user.id).execute()
    refresh_credit_limit(user)
    if group.grants_referral_link:
        ensure_referral_code(user)


# The owner's group management ------------------------------------------------


def create_group(fields, actor):
    with write_transaction():
        group = CustomerGroup.create(**fields)
        audit(actor, "group_created", f"group {group.id}", after=_snapshot(group))
    return group


def update_group(group, fields, actor):
    with write_transaction():
        before = _snapshot(group)
        for name, value in fields.items():
            setattr(group, name, value)
        group.save()
        if group.is_default:
            CustomerGroup.update(is_default=False).where(CustomerGroup.id != group.id).execute()
        refresh_group_limits(group)
        audit(actor, "group_changed", f"group {group.id}", before=before, after=_snapshot(group))
    return group


def retire_group(group, move_members_to, actor):
    """Retire a group; its members move to `move_members_to`, its pending applications are closed."""
    if group.is_default:
        raise GroupError("Make another group the default before retiring this one.")
    if move_members_to.id == group.id or move_members_to.is_retired:
        raise GroupError("Choose an active group for the members to move to.")
    with write_transaction():
        members = User.update(group=move_members_to).where(User.group == group).execute()
        refresh_group_limits(move_members_to)
        GroupApplication.update(
            state=REJECTED, decided_at=utcnow(), decided_by=actor, reason=f"{group.name} was closed."
        ).where((GroupApplication.group == group) & (GroupApplication.state == PENDING)).execute()
        CustomerGroup.update(retired_at=utcnow()).where(CustomerGroup.id == group.id).execute()
        audit(
            actor,
            "group_retired",
            f"group {group.id}",
            before={"name": group.name, "members": members},
            after={"members_moved_to": move_members_to.name},
        )
    return members


def refresh_group_limits(group):
    from models.credit import refresh_group_limits as refresh  # credit builds on groups, not the reverse

    refresh(group)


def member_counts():
    rows = (
        User.select(User.group, fn.COUNT(User.id).alias("n"))
        .where(User.deleted_at.is_null())
        .group_by(User.group)
    )
    return {row.group_id: row.n for row in rows}


def _snapshot(group):
    return {
        "name": group.name,
        "perks": group.perks,
        "open": group.open_to_applications,
        "default": group.is_default,
        "own_limits": group.own_limits,
        **{name: getattr(group, name) for name in SETTING_FIELDS},
    }


# Referrals ------------------------------------------------------------------


def ensure_referral_code(user):
    fresh = User.get_by_id(user.id)
    if fresh.referral_code:
        return fresh.referral_code
    code = secrets.token_urlsafe(6)
    User.update(referral_code=code).where(User.id == user.id).execute()
    return code


def referrer_for(code):
    """The affiliate behind a referral code, if their group still grants referral links."""
    if not code or len(code) > 32:
        return None
    referrer = User.get_or_none(User.referral_code == code)
    if referrer is None or not referrer.is_active or not group_of(referrer).grants_referral_link:
        return None
    return referrer


def referrals_of(user):
    return list(User.select().where(User.referred_by == user).order_by(User.created_at.desc()))
