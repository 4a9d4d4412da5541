"""Granting and revoking the staff role (owner only). Staff is a role, not a group."""

from flask_babel import gettext

from models.base import write_transaction
from models.groups.group import GroupError
from models.shop.audit import audit
from models.users.user import CUSTOMER
from models.users.user import STAFF
from models.users.user import User


def staff_members():
    return list(User.select().where(User.role == STAFF).order_by(User.email))


def grant_staff(email, actor):
    with write_transaction():
        user = User.by_email(email)
        if user is None or user.deleted_at is not None:
            raise GroupError(
                gettext("There is no account with that email address. Ask them to register first.")
            )
        if user.role != CUSTOMER:
            raise GroupError(
                gettext("%(email)s is already the owner.", email=user.email)
                if user.is_owner
                else gettext("%(email)s is already staff.", email=user.email)
            )
        if not user.is_active:
            raise GroupError(gettext("%(email)s is paused; resume the account first.", email=user.email))
        User.update(role=STAFF).where(User.id == user.id).execute()
        audit(
            actor,
            "staff_granted",
            f"user {user.id} ({user.email})",
            before={"role": CUSTOMER},
            after={"role": STAFF},
        )
    return user


def revoke_staff(user_id, actor):
    with write_transaction():
        changed = User.update(role=CUSTOMER).where((User.id == user_id) & (User.role == STAFF)).execute()
        if not changed:
            raise GroupError(gettext("That person is not staff (any more)."))
        user = User.get_by_id(user_id)
        audit(
            actor,
            "staff_revoked",
            f"user {user.id} ({user.email})",
            before={"role": STAFF},
            after={"role": CUSTOMER},
        )
    return user
