"""The owner's group management: creating, changing and retiring groups, and putting a customer
into a group, moving them to another or taking them out of theirs (all audited).

Membership otherwise comes from applications (applications.py); a customer the owner puts into a
group goes through the same move as an approved application (`move_to_group`: the credit limit
follows through `member_moved`, a group with referral links gives them one). Every customer is in
exactly one group, so taking a customer out of their group puts them back into the default one.
"""

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext

from models.base import utcnow
from models.base import write_transaction
from models.groups.applications import APPROVED
from models.groups.applications import GroupApplication
from models.groups.applications import move_to_group
from models.groups.applications import PENDING
from models.groups.applications import REJECTED
from models.groups.group import credit_limit_in
from models.groups.group import CustomerGroup
from models.groups.group import group_changed
from models.groups.group import group_of
from models.groups.group import GroupError
from models.groups.group import SETTING_FIELDS
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.mail import unlinkable
from models.users.user import CUSTOMER
from models.users.user import User


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
        group_changed(group)
        audit(actor, "group_changed", f"group {group.id}", before=before, after=_snapshot(group))
    return group


def retire_group(group, move_members_to, actor):
    """Retire a group; its members move to `move_members_to`, its pending applications are closed."""
    if group.is_default:
        raise GroupError(gettext("Make another group the default before retiring this one."))
    if move_members_to.id == group.id or move_members_to.is_retired:
        raise GroupError(gettext("Choose an active group for the members to move to."))
    with write_transaction():
        members = User.update(group=move_members_to).where(User.group == group).execute()
        group_changed(move_members_to)
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


@dataclass(frozen=True)
class Difference:
    """One thing a customer's group change changes for them, as the owner's confirmation shows it."""

    label: str
    kind: str  # how the page writes the values: money | percent | yes_no | bonus
    before: object
    after: object


@dataclass(frozen=True)
class GroupChange:
    """What putting `customer` into `after` changes: shown to the owner first, then done as shown."""

    customer: User
    before: CustomerGroup
    after: CustomerGroup
    differences: tuple  # Difference rows; the credit limit always, the rest only where they differ
    approves_application: bool  # the customer's pending application for `after` is approved with it
    emails_customer: bool

    @property
    def is_removal(self):
        """Taking the customer out of their group: back into the default one."""
        return self.after.is_default


def group_change(customer, group):
    """What moving `customer` into `group` would change, or GroupError with a message for the owner."""
    customer = User.get_or_none(
        (User.id == customer.id) & (User.role == CUSTOMER) & User.deleted_at.is_null()
    )
    if customer is None:
        raise GroupError(gettext("That customer's account is gone."))
    group = CustomerGroup.get_or_none(CustomerGroup.id == group.id)
    if group is None or group.is_retired:
        raise GroupError(gettext("That group is closed. Choose one of the groups listed."))
    current = group_of(customer)
    if current.id == group.id:
        raise GroupError(
            gettext("%(customer)s is already in %(group)s.", customer=customer.display_name, group=group.name)
        )
    before, after = current.settings_dict(), group.settings_dict()
    differences = [
        Difference(
            lazy_gettext("Credit limit"),
            "money",
            credit_limit_in(current, customer),
            credit_limit_in(group, customer),
        )
    ]
    for label, kind, name in COMPARED:
        if name == "bonus":
            old = (before["bonus_threshold"], before["bonus_amount"])
            new = (after["bonus_threshold"], after["bonus_amount"])
        elif name == "grants_referral_link":
            old, new = current.grants_referral_link, group.grants_referral_link
        else:
            old, new = before[name], after[name]
        if old != new:
            differences.append(Difference(label, kind, old, new))
    approves = (
        GroupApplication.select()
        .where(
            (GroupApplication.user == customer)
            & (GroupApplication.group == group)
            & (GroupApplication.state == PENDING)
        )
        .exists()
    )
    return GroupChange(
        customer=customer,
        before=current,
        after=group,
        differences=tuple(differences),
        approves_application=approves,
        emails_customer=customer.is_active,
    )


# What else the confirmation compares, in the order it lists them.
COMPARED = (
    (lazy_gettext("Pays on account"), "yes_no", "pay_on_account"),
    (lazy_gettext("Discount when paying with funds"), "percent", "funds_discount_bp"),
    (lazy_gettext("Smallest top-up"), "money", "topup_min"),
    (lazy_gettext("Largest top-up"), "money", "topup_max"),
    (lazy_gettext("Top-up bonus"), "bonus", "bonus"),
    (lazy_gettext("Referral link"), "yes_no", "grants_referral_link"),
    (lazy_gettext("Affiliate reward"), "money", "affiliate_reward"),
    (lazy_gettext("Payment reminders"), "yes_no", "reminders_enabled"),
)


def put_in_group(customer, group, actor, note="", seen_from=None):
    """The owner puts `customer` into `group` (moving them out of theirs; the default group takes
    them out of any). Returns the GroupChange done, or raises GroupError with a message.

    One transaction: the move an approved application makes (credit limit, referral link), their
    pending application for that group approved with it (applications for other groups wait for
    the owner as before), an audit entry with the owner's note (for the shop's records: the
    customer is not shown it), and an email to the customer, also when taken out of a group (they
    lose its terms; a paused account gets none: it can't sign in to see it).

    `seen_from`: the group the owner's confirmation showed them in. Checked inside the write, so
    two tabs can't both apply a change shown against the same starting group; when the customer
    is already in `group` (the same confirmation sent twice) nothing happens and None is returned.
    """
    if actor is None or not actor.is_owner:
        raise GroupError(gettext("Only the owner changes a customer's group."))
    note = (note or "").strip()
    with write_transaction():
        if seen_from is not None:
            now_in = group_of(User.get_by_id(customer.id))
            if now_in.id == group.id:
                return None
            if now_in.id != seen_from.id:
                raise GroupError(
                    gettext(
                        "%(customer)s was moved to %(group)s in the meantime. Check the change again.",
                        customer=customer.display_name,
                        group=now_in.name,
                    )
                )
        change = group_change(customer, group)
        customer, group = change.customer, change.after
        move_to_group(customer, group)
        GroupApplication.update(state=APPROVED, decided_at=utcnow(), decided_by=actor, reason="").where(
            (GroupApplication.user == customer)
            & (GroupApplication.group == group)
            & (GroupApplication.state == PENDING)
        ).execute()
        limit = change.differences[0]
        audit(
            actor,
            "customer_group_changed",
            f"customer {customer.id} ({customer.email})",
            before={"group": change.before.name, "credit_limit": limit.before},
            after={
                "group": group.name,
                "credit_limit": limit.after,
                "note": note,
                "application_approved": change.approves_application,
            },
        )
        if change.emails_customer:
            send_templated(
                customer.email,
                "group_changed",
                lazy_gettext("Your membership has changed")
                if change.is_removal
                else lazy_gettext("You are now in %(group)s", group=unlinkable(group.name)),
                "group_changed",
                user=customer,
                group=group,
                before=change.before,
                removed=change.is_removal,
                account_url=absolute_url("membership.overview"),
            )
    return change


def _snapshot(group):
    return {
        "name": group.name,
        "perks": group.perks,
        "open": group.open_to_applications,
        "default": group.is_default,
        "own_limits": group.own_limits,
        **{name: getattr(group, name) for name in SETTING_FIELDS},
    }
