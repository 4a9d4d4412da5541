"""The owner's group management: creating, changing and retiring groups (audited)."""

from models.base import utcnow
from models.base import write_transaction
from models.groups.applications import GroupApplication
from models.groups.applications import PENDING
from models.groups.applications import REJECTED
from models.groups.group import CustomerGroup
from models.groups.group import group_changed
from models.groups.group import GroupError
from models.groups.group import SETTING_FIELDS
from models.shop.audit import audit
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
        raise GroupError("Make another group the default before retiring this one.")
    if move_members_to.id == group.id or move_members_to.is_retired:
        raise GroupError("Choose an active group for the members to move to.")
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


def _snapshot(group):
    return {
        "name": group.name,
        "perks": group.perks,
        "open": group.open_to_applications,
        "default": group.is_default,
        "own_limits": group.own_limits,
        **{name: getattr(group, name) for name in SETTING_FIELDS},
    }
