"""'Check your inbox': confirming an email address by link or code, emailed sign-in codes, sending again."""

from flask_babel import lazy_gettext

from models.accounts import mail_requests
from models.accounts.registration import send_already_registered
from models.accounts.registration import send_confirmation
from models.base import utcnow
from models.base import write_transaction
from models.funds.signup_bonus import credit_signup_bonus
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.outbox import may_send_unasked
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.tokens import AccountToken
from models.users.tokens import ALREADY_REGISTERED
from models.users.tokens import check_code
from models.users.tokens import CONFIRM_EMAIL
from models.users.tokens import find_by_link
from models.users.tokens import give_code
from models.users.tokens import issue
from models.users.tokens import refresh_code
from models.users.tokens import restart_cooldown
from models.users.tokens import retire_others
from models.users.tokens import SIGN_IN_CODE
from models.users.tokens import use
from models.users.user import normalize_email
from models.users.user import User


def confirm_by_link(secret, now=None, client=NO_CLIENT):
    """The confirmed user for a confirmation link, or None if it is unknown, used or expired."""
    with write_transaction():
        token = find_by_link(secret, CONFIRM_EMAIL, now)
        if token is None or not use(token, now):
            return None
        return _mark_confirmed(token.user, now, client)


def inbox_token(token_id):
    """The "check your inbox" ticket held in the session."""
    if not token_id:
        return None
    return AccountToken.get_or_none(
        (AccountToken.id == token_id)
        & AccountToken.purpose.in_([CONFIRM_EMAIL, ALREADY_REGISTERED, SIGN_IN_CODE])
    )


def redeem_code(token, code, now=None, client=NO_CLIENT):
    """('ok', user) when the code is right; ('wrong', None) or ('expired', None) otherwise."""
    with write_transaction():
        outcome = check_code(token, code, now)
        if outcome != "ok" or not use(token, now):
            return (outcome if outcome != "ok" else "expired"), None
        user = User.get_by_id(token.user_id)
        if token.purpose == CONFIRM_EMAIL:
            _mark_confirmed(user, now, client)
        return "ok", user


def resend(token, now=None):
    """Send the inbox message again with a new code; False while the cooldown runs.

    Once the address had its share of unasked messages nothing is sent and the code sent last
    keeps working; the answer is the same (True), as for an address without an account. A
    sign-in code is asked of the jobs process like the first (models/accounts/mail_requests.py)."""
    now = now or utcnow()
    if token.used_at is not None or now < token.can_resend_at:
        return False
    with write_transaction():
        if token.purpose == SIGN_IN_CODE:
            restart_cooldown(token, now)
            mail_requests.record(SIGN_IN_CODE, token.email, ticket=token.id, now=now)
            return True
        user = token.user
        if not may_send_unasked(user.email):
            # The address had its share: nothing is sent. The cooldown starts again as after
            # any resend, so the next answer is the same too.
            restart_cooldown(token, now)
            return True
        code = refresh_code(token, now)
        if token.purpose == CONFIRM_EMAIL:
            send_confirmation(user, None, code)
        else:
            send_already_registered(user, now)
    return True


def resend_confirmation(user, now=None):
    """A new confirmation (link and code) for someone who signs in before confirming."""
    now = now or utcnow()
    latest = (
        AccountToken.select()
        .where(
            (AccountToken.user == user)
            & (AccountToken.purpose == CONFIRM_EMAIL)
            & AccountToken.used_at.is_null()
        )
        .order_by(AccountToken.sent_at.desc())
        .first()
    )
    if latest is not None and now < latest.can_resend_at:
        return latest  # one was sent moments ago: no second message
    with write_transaction():
        if latest is not None and not may_send_unasked(user.email):
            return latest  # the address had its share of messages: the last one still works
        retire_others(user, CONFIRM_EMAIL, now=now)
        token, link, code = issue(CONFIRM_EMAIL, user.email, user=user, link=True, code=True, now=now)
        send_confirmation(user, link, code)
    return token


def _mark_confirmed(user, now, client):
    user = User.get_by_id(user.id)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or utcnow()
        user.save(only=[User.email_confirmed_at])
        record_event(user, "email_confirmed", client=client)
        credit_signup_bonus(user)
    return user


def request_sign_in_code(email, now=None):
    """The ticket for the code page, the same for any address and made the same way: no lookup,
    so neither the page nor the time it takes tells whether the address has an account. No code
    opens it until the jobs process answers the request (send_sign_in_code) within seconds."""
    now = now or utcnow()
    with write_transaction():
        ticket, _, _ = issue(SIGN_IN_CODE, normalize_email(email), decoy_code=True, now=now)
        mail_requests.record(SIGN_IN_CODE, ticket.email, ticket=ticket.id, now=now)
    return ticket


def send_sign_in_code(ticket_id, now=None):
    """The jobs process's answer to a sign-in code request: a code on the ticket, emailed, if its
    address has an active account that may have one more unasked message; else nothing, and no
    code opens the ticket. Call it inside the write transaction that takes the request."""
    now = now or utcnow()
    ticket = AccountToken.get_or_none((AccountToken.id == ticket_id) & (AccountToken.purpose == SIGN_IN_CODE))
    if ticket is None or ticket.used_at is not None:
        return
    user = User.by_email(ticket.email)
    if user is None or not user.is_active or not may_send_unasked(user.email):
        return
    retire_others(user, SIGN_IN_CODE, keep=ticket, now=now)
    code = give_code(ticket, user, now)
    if code is None:
        return
    send_templated(
        user.email,
        "sign_in_code",
        lazy_gettext("Your sign-in code is %(code)s", code=code),
        "sign_in_code",
        secrets=[code],
        unasked=True,
        user=user,
        code=code,
        sign_in_url=absolute_url("auth.sign_in"),
    )
