"""The shop's side of accounts: creating them (customers, staff, the owner), pausing and resuming."""

from flask_babel import lazy_gettext

from models.base import utcnow
from models.base import write_transaction
from models.groups.group import new_member
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.users.passwords import hash_password
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.sessions import end_sessions
from models.users.tokens import issue
from models.users.tokens import SET_PASSWORD
from models.users.user import CREATED_BY_OWNER
from models.users.user import CUSTOMER
from models.users.user import normalize_email
from models.users.user import ROLES
from models.users.user import User


def create_customer_for_owner(email, first_name, last_name, phone, owner, now=None, client=NO_CLIENT):
    """A customer created by the owner: confirmed, no password, a set-password link emailed."""
    now = now or utcnow()
    with write_transaction():
        user = new_member(
            email=normalize_email(email),
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            role=CUSTOMER,
            source=CREATED_BY_OWNER,
            email_confirmed_at=now,
            created_at=now,
        )
        record_event(user, "account_created", f"by {owner.email}", actor="shop", client=client)
        audit(
            owner,
            "customer_created",
            f"customer {user.id} ({user.email})",
            after={"name": f"{first_name} {last_name}", "phone": phone},
        )
        _, secret, _ = issue(SET_PASSWORD, user.email, user=user, link=True, now=now)
        send_templated(
            user.email,
            "set_password",
            lazy_gettext("Your account is ready"),
            "set_password",
            secrets=[secret],
            user=user,
            link=absolute_url("auth.reset_password", secret=secret),
        )
    return user


def set_blocked(user, blocked, owner, client=NO_CLIENT):
    """Pause or resume an account. Pausing ends every session: resuming doesn't bring them back."""
    with write_transaction():
        user.blocked_at = utcnow() if blocked else None
        user.save(only=[User.blocked_at])
        if blocked:
            end_sessions(user)
        record_event(
            user, "blocked" if blocked else "unblocked", f"by {owner.email}", actor="shop", client=client
        )
        audit(
            owner,
            "customer_paused" if blocked else "customer_resumed",
            f"customer {user.id} ({user.email})",
            before={"paused": not blocked},
            after={"paused": blocked},
        )
    return user


def create_user(email, password=None, role=CUSTOMER, confirmed=True, **fields):
    """An account; `confirmed` False for a self-registration awaiting its email link."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    with write_transaction():
        return new_member(
            email=normalize_email(email),
            password_hash=hash_password(password) if password else None,
            role=role,
            email_confirmed_at=utcnow() if confirmed else None,
            **fields,
        )
