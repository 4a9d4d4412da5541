"""Passwords and email addresses: reset and set-password links, changing either, signing out everywhere."""

from flask_babel import lazy_gettext

from models.accounts import mail_requests
from models.base import utcnow
from models.base import write_transaction
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.outbox import may_send_unasked
from models.users.passwords import hash_password
from models.users.passwords import verify_password
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.sessions import end_sessions
from models.users.tokens import CHANGE_EMAIL
from models.users.tokens import find_by_link
from models.users.tokens import issue
from models.users.tokens import RESET_PASSWORD
from models.users.tokens import retire_others
from models.users.tokens import SET_PASSWORD
from models.users.tokens import use
from models.users.user import normalize_email
from models.users.user import User


def request_password_reset(email, now=None):
    """Someone asks for a reset link for `email`: only written down, the same for any address (no
    lookup: the time it takes tells nothing). The jobs process answers it (send_password_reset)
    within seconds; the caller says the same either way."""
    with write_transaction():
        mail_requests.record(RESET_PASSWORD, normalize_email(email), now=now)


def send_password_reset(email, now=None):
    """The jobs process's answer to a reset request: a link if the address has an account.

    Anyone can ask: once the address had its share of unasked messages nothing is sent, and the
    link sent last keeps working. Call it inside the write transaction that takes the request."""
    user = User.by_email(email)
    if user is None or user.deleted_at is not None or not may_send_unasked(user.email):
        return
    retire_others(user, RESET_PASSWORD, now=now)
    _, secret, _ = issue(RESET_PASSWORD, user.email, user=user, link=True, now=now)
    send_templated(
        user.email,
        "reset_password",
        lazy_gettext("Reset your password"),
        "reset_password",
        secrets=[secret],
        unasked=True,
        user=user,
        link=absolute_url("auth.reset_password", secret=secret),
    )


def reset_token(secret, now=None):
    return find_by_link(secret, RESET_PASSWORD, now) or find_by_link(secret, SET_PASSWORD, now)


def reset_password(secret, new_password, now=None, client=NO_CLIENT):
    """Set the password from a link (single use); ends every session. Returns the user or None."""
    with write_transaction():
        token = reset_token(secret, now)
        if token is None or not use(token, now):
            return None
        user = User.get_by_id(token.user_id)
        _store_password(user, new_password)
        if user.email_confirmed_at is None:
            user.email_confirmed_at = now or utcnow()  # the link proved the address
            user.save(only=[User.email_confirmed_at])
        retire_others(user, RESET_PASSWORD, now=now)
        kind = "password_set" if token.purpose == SET_PASSWORD else "password_reset"
        record_event(user, kind, client=client)
        send_templated(
            user.email,
            "password_changed",
            lazy_gettext("Your password was changed"),
            "password_changed",
            user=user,
            reset_url=absolute_url("auth.forgot_password"),
        )
        return user


def change_password(user, current_password, new_password, client=NO_CLIENT):
    """False if the current password is wrong. Ends other sessions (the caller re-signs this one)."""
    if not verify_password(user.password_hash, current_password):
        return False
    with write_transaction():
        _store_password(user, new_password)
        record_event(user, "password_changed", client=client)
        send_templated(
            user.email,
            "password_changed",
            lazy_gettext("Your password was changed"),
            "password_changed",
            user=user,
            reset_url=absolute_url("auth.forgot_password"),
        )
    return True


def _store_password(user, new_password):
    user.password_hash = hash_password(new_password)
    user.save(only=[User.password_hash])
    end_sessions(user)


def sign_out_everywhere(user, client=NO_CLIENT):
    """End every session, this one included (the caller signs this browser in again)."""
    with write_transaction():
        end_sessions(user)
        record_event(user, "signed_out_everywhere", client=client)


def request_email_change(user, current_password, new_email, now=None, client=NO_CLIENT):
    """'wrong_password', 'same' or 'sent'. The new address gets a link; nothing changes until it is used.

    The new address may be anyone's: its messages are unasked, and once it had its share
    nothing more is sent to it (the answer is still 'sent')."""
    if not verify_password(user.password_hash, current_password):
        return "wrong_password"
    new_email = normalize_email(new_email)
    if new_email == user.email:
        return "same"
    with write_transaction():
        retire_others(user, CHANGE_EMAIL, now=now)
        record_event(user, "email_change_requested", f"to {new_email}", client=client)
        if not may_send_unasked(new_email):
            return "sent"
        if User.by_email(new_email) is not None:
            # Never reveal that the new address has an account: tell its owner instead.
            send_templated(
                new_email,
                "email_change_taken",
                lazy_gettext("Someone tried to use your email address"),
                "email_change_taken",
                unasked=True,
                sign_in_url=absolute_url("auth.sign_in"),
            )
            return "sent"
        _, secret, _ = issue(CHANGE_EMAIL, user.email, user=user, link=True, new_email=new_email, now=now)
        send_templated(
            new_email,
            "confirm_new_email",
            lazy_gettext("Confirm your new email address"),
            "confirm_new_email",
            secrets=[secret],
            unasked=True,
            language=user.language,  # nobody has this address yet: the account's language
            user=user,
            link=absolute_url("account.confirm_new_email", secret=secret),
        )
    return "sent"


def confirm_email_change(secret, now=None, client=NO_CLIENT):
    """Switch to the new address (and tell the old one). None if the link is bad or the address got taken."""
    with write_transaction():
        token = find_by_link(secret, CHANGE_EMAIL, now)
        if token is None or User.by_email(token.new_email) is not None or not use(token, now):
            return None
        user = User.get_by_id(token.user_id)
        old_email = user.email
        user.email = token.new_email
        user.save(only=[User.email])
        end_sessions(user)
        record_event(user, "email_changed", f"from {old_email} to {user.email}", client=client)
        send_templated(
            old_email,
            "email_changed_notice",
            lazy_gettext("Your email address was changed"),
            "email_changed_notice",
            language=user.language,  # no account has the old address any more
            user=user,
            old_email=old_email,
        )
        return user
