"""Applications for the groups that take them: customers apply or withdraw, the owner decides."""

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.groups.group import active_groups
from models.groups.group import CustomerGroup
from models.groups.group import group_of
from models.groups.group import GroupError
from models.groups.group import member_moved
from models.groups.referrals import ensure_referral_code
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.mail import unlinkable
from models.users.user import User

PENDING = "pending"


APPROVED = "approved"


REJECTED = "rejected"


WITHDRAWN = "withdrawn"


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
    with write_transaction():
        group = CustomerGroup.get_or_none(CustomerGroup.id == group_id)
        if group is None or group.is_retired:
            raise GroupError(gettext("That group doesn't exist any more."))
        if not group.open_to_applications:
            raise GroupError(
                gettext("%(group)s is by invitation only; applications are closed.", group=group.name)
            )
        if group_of(user).id == group.id:
            raise GroupError(gettext("You are already in %(group)s.", group=group.name))
        if not User.get_by_id(user.id).is_active:
            raise GroupError(gettext("Your account is paused, so it can't apply for a group."))
        try:
            with write_transaction():
                return GroupApplication.create(user=user, group=group, note=note.strip())
        except IntegrityError:
            raise GroupError(
                gettext(
                    "You have already applied for %(group)s; we'll email you the decision.", group=group.name
                )
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
        raise GroupError(gettext("That application has already been decided or withdrawn."))


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
        raise GroupError(gettext("Give the customer a reason for the rejection."))
    with write_transaction():
        application = GroupApplication.get_or_none(GroupApplication.id == application_id)
        if application is None:
            raise GroupError(gettext("That application doesn't exist."))
        state = APPROVED if approve else REJECTED
        changed = (
            GroupApplication.update(state=state, decided_at=utcnow(), decided_by=decided_by, reason=reason)
            .where((GroupApplication.id == application.id) & (GroupApplication.state == PENDING))
            .execute()
        )
        if not changed:
            raise GroupError(gettext("That application was already decided (or withdrawn); nothing changed."))
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
            lazy_gettext("Your application for %(group)s is approved", group=unlinkable(group.name))
            if approve
            else lazy_gettext("Your application for %(group)s", group=unlinkable(group.name)),
            f"application_{state}",
            user=user,
            group=group,
            reason=reason,
            account_url=absolute_url("membership.overview"),
        )
    return application


def move_to_group(user, group):
    User.update(group=group).where(User.id == user.id).execute()
    member_moved(user)
    if group.grants_referral_link:
        ensure_referral_code(user)


def credit_groups_open_to(user):
    """The groups suggested to a customer who asks for credit: those they may apply for
    (`groups_open_to`) whose settings allow paying on account. Their limit may be 0 (the
    customer then asks the shop for one, once in)."""
    return [group for group in groups_open_to(user) if group.pay_on_account]
