"""What customers (and the owner, for them) do with accounts, each in one transaction."""

import datetime

from models.address import Address
from models.address import addresses_of
from models.audit import audit
from models.base import utcnow
from models.base import write_transaction
from models.ledger import account_for
from models.ledger import Entry
from models.ledger import LedgerAccount
from models.ledger import LedgerError
from models.ledger import Leg
from models.ledger import PROMOTIONS
from models.ledger import system_account
from models.ledger import transfer
from models.mailer import absolute_url
from models.mailer import send_templated
from models.passwords import hash_password
from models.passwords import verify_password
from models.registration import send_already_registered
from models.registration import send_confirmation
from models.security_log import events_of
from models.security_log import record_event
from models.security_log import SecurityEvent
from models.settings import load_settings
from models.tokens import AccountToken
from models.tokens import ALREADY_REGISTERED
from models.tokens import CHANGE_EMAIL
from models.tokens import check_code
from models.tokens import CONFIRM_EMAIL
from models.tokens import find_by_link
from models.tokens import issue
from models.tokens import refresh_code
from models.tokens import RESET_PASSWORD
from models.tokens import retire_others
from models.tokens import SET_PASSWORD
from models.tokens import SIGN_IN_CODE
from models.tokens import use
from models.user import CREATED_BY_OWNER
from models.user import CUSTOMER
from models.user import new_session_token
from models.user import normalize_email
from models.user import SELF_REGISTERED
from models.user import User

UNCONFIRMED_ACCOUNT_LIFETIME = datetime.timedelta(days=7)


# Confirmation -------------------------------------------------------------


def confirm_by_link(secret, now=None):
    """The confirmed user for a confirmation link, or None if it is unknown, used or expired."""
    with write_transaction():
        token = find_by_link(secret, CONFIRM_EMAIL, now)
        if token is None or not use(token, now):
            return None
        return _mark_confirmed(token.user, now)


def inbox_token(token_id):
    """The "check your inbox" ticket held in the session."""
    if not token_id:
        return None
    return AccountToken.get_or_none(
        (AccountToken.id == token_id)
        & AccountToken.purpose.in_([CONFIRM_EMAIL, ALREADY_REGISTERED, SIGN_IN_CODE])
    )


def redeem_code(token, code, now=None):
    """('ok', user) when the code is right; ('wrong', None) or ('expired', None) otherwise."""
    with write_transaction():
        outcome = check_code(token, code, now)
        if outcome != "ok" or not use(token, now):
            return (outcome if outcome != "ok" else "expired"), None
        user = User.get_by_id(token.user_id)
        if token.purpose == CONFIRM_EMAIL:
            _mark_confirmed(user, now)
        return "ok", user


def resend(token, now=None):
    """Send the inbox message again with a new code; False while the cooldown runs."""
    now = now or utcnow()
    if token.used_at is not None or now < token.can_resend_at:
        return False
    with write_transaction():
        code = refresh_code(token, now)
        user = token.user
        if user is None:
            return True
        if token.purpose == CONFIRM_EMAIL:
            send_confirmation(user, None, code)
        elif token.purpose == SIGN_IN_CODE:
            _send_sign_in_code(user, code)
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
        retire_others(user, CONFIRM_EMAIL, now=now)
        token, link, code = issue(CONFIRM_EMAIL, user.email, user=user, link=True, code=True, now=now)
        send_confirmation(user, link, code)
    return token


def _mark_confirmed(user, now):
    user = User.get_by_id(user.id)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = now or utcnow()
        user.save(only=[User.email_confirmed_at])
        record_event(user, "email_confirmed")
        credit_signup_bonus(user)
    return user


def credit_signup_bonus(user):
    """The shop's welcome bonus, once per account (the key makes a second call a replay)."""
    bonus = load_settings().signup_bonus
    if bonus <= 0 or user.source != SELF_REGISTERED:
        return None
    return transfer(
        f"signup-bonus:{user.id}",
        "signup_bonus",
        [Leg(system_account(PROMOTIONS), -bonus, "bonus"), Leg(account_for(user), bonus, "bonus")],
        memo="Welcome bonus",
    )


# Sign-in by emailed code ----------------------------------------------------


def request_sign_in_code(email, now=None):
    """A ticket for the code page whether or not the address has an account (no enumeration)."""
    now = now or utcnow()
    with write_transaction():
        user = User.by_email(email)
        if user is None or not user.is_active:
            token, _, _ = issue(SIGN_IN_CODE, normalize_email(email), decoy_code=True, now=now)
            return token
        retire_others(user, SIGN_IN_CODE, now=now)
        token, _, code = issue(SIGN_IN_CODE, user.email, user=user, code=True, now=now)
        _send_sign_in_code(user, code)
        return token


def _send_sign_in_code(user, code):
    send_templated(
        user.email,
        "sign_in_code",
        f"Your sign-in code is {code}",
        "sign_in_code",
        user=user,
        code=code,
        sign_in_url=absolute_url("auth.sign_in"),
    )


# Password reset and set-password links --------------------------------------


def request_password_reset(email, now=None):
    """Email a reset link if the address has an account; the caller says the same either way."""
    with write_transaction():
        user = User.by_email(email)
        if user is None or user.deleted_at is not None:
            return
        retire_others(user, RESET_PASSWORD, now=now)
        _, secret, _ = issue(RESET_PASSWORD, user.email, user=user, link=True, now=now)
        send_templated(
            user.email,
            "reset_password",
            "Reset your password",
            "reset_password",
            user=user,
            link=absolute_url("auth.reset_password", secret=secret),
        )


def reset_token(secret, now=None):
    return find_by_link(secret, RESET_PASSWORD, now) or find_by_link(secret, SET_PASSWORD, now)


def reset_password(secret, new_password, now=None):
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
        record_event(user, kind)
        send_templated(
            user.email,
            "password_changed",
            "Your password was changed",
            "password_changed",
            user=user,
            reset_url=absolute_url("auth.forgot_password"),
        )
        return user


def change_password(user, current_password, new_password):
    """False if the current password is wrong. Ends other sessions (the caller re-signs this one)."""
    if not verify_password(user.password_hash, current_password):
        return False
    with write_transaction():
        _store_password(user, new_password)
        record_event(user, "password_changed")
        send_templated(
            user.email,
            "password_changed",
            "Your password was changed",
            "password_changed",
            user=user,
            reset_url=absolute_url("auth.forgot_password"),
        )
    return True


def _store_password(user, new_password):
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    user.save(only=[User.password_hash, User.session_token])


def sign_out_everywhere(user):
    """A new session token: every session, this one included, must sign in again (the caller re-signs it)."""
    with write_transaction():
        user.session_token = new_session_token()
        user.save(only=[User.session_token])
        record_event(user, "signed_out_everywhere")


# Email change ---------------------------------------------------------------


def request_email_change(user, current_password, new_email, now=None):
    """'wrong_password', 'same' or 'sent'. The new address gets a link; nothing changes until it is used."""
    if not verify_password(user.password_hash, current_password):
        return "wrong_password"
    new_email = normalize_email(new_email)
    if new_email == user.email:
        return "same"
    with write_transaction():
        retire_others(user, CHANGE_EMAIL, now=now)
        record_event(user, "email_change_requested", f"to {new_email}")
        if User.by_email(new_email) is not None:
            # Never reveal that the new address has an account: tell its owner instead.
            send_templated(
                new_email,
                "email_change_taken",
                "Someone tried to use your email address",
                "email_change_taken",
                sign_in_url=absolute_url("auth.sign_in"),
            )
            return "sent"
        _, secret, _ = issue(CHANGE_EMAIL, user.email, user=user, link=True, new_email=new_email, now=now)
        send_templated(
            new_email,
            "confirm_new_email",
            "Confirm your new email address",
            "confirm_new_email",
            user=user,
            link=absolute_url("account.confirm_new_email", secret=secret),
        )
    return "sent"


def confirm_email_change(secret, now=None):
    """Switch to the new address (and tell the old one). None if the link is bad or the address got taken."""
    with write_transaction():
        token = find_by_link(secret, CHANGE_EMAIL, now)
        if token is None or User.by_email(token.new_email) is not None or not use(token, now):
            return None
        user = User.get_by_id(token.user_id)
        old_email = user.email
        user.email = token.new_email
        user.session_token = new_session_token()
        user.save(only=[User.email, User.session_token])
        record_event(user, "email_changed", f"from {old_email} to {user.email}")
        send_templated(
            old_email,
            "email_changed_notice",
            "Your email address was changed",
            "email_changed_notice",
            user=user,
            old_email=old_email,
        )
        return user


# Profile, data, deletion ----------------------------------------------------


def update_profile(user, first_name, last_name, phone, by=None):
    """Save name and phone; `by` is the staff member or owner making the change, if not the customer."""
    with write_transaction():
        before = f"{user.first_name} {user.last_name}, {user.phone or 'no phone'}"
        user.first_name, user.last_name, user.phone = first_name, last_name, phone
        user.save(only=[User.first_name, User.last_name, User.phone])
        after = f"{first_name} {last_name}, {phone or 'no phone'}"
        if before != after:
            record_event(user, "profile_changed", f"{before} → {after}", actor="shop" if by else "customer")
            if by is not None:
                audit(
                    by,
                    "customer_changed",
                    f"customer {user.id} ({user.email})",
                    before={"details": before},
                    after={"details": after},
                )
    return user


def export_data(user):
    """Everything the shop holds about the customer, as plain data (for the JSON download)."""

    def when(moment):
        return moment.isoformat() + "Z" if moment else None

    return {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "created_at": when(user.created_at),
            "email_confirmed_at": when(user.email_confirmed_at),
        },
        "addresses": [
            dict(
                address.as_dict(),
                default_billing=address.id == user.default_billing_id,
                default_shipping=address.id == user.default_shipping_id,
            )
            for address in addresses_of(user)
        ],
        "security_activity": [
            {
                "at": when(event.at),
                "what": event.label,
                "detail": event.detail,
                "ip": event.ip,
                "device": event.device,
            }
            for event in events_of(user, limit=10_000)
        ],
    }


def balance_blocking_deletion(user):
    """Why the account can't be deleted yet (money is held or owed), or None."""
    balance = account_for(user).balance
    if balance > 0:
        return (
            "You still have funds in your account. Spend them or ask us for a refund first, then delete it."
        )
    if balance < 0:
        return "You still owe the shop money. Please pay what you owe first, then delete your account."
    return None


def delete_account(user, password):
    """Erase personal data, keep an anonymous shell for financial records. False if the password is wrong.

    Refused (LedgerError) while the balance is not zero.
    """
    if not verify_password(user.password_hash, password):
        return False
    blocker = balance_blocking_deletion(user)
    if blocker:
        raise LedgerError(blocker)
    with write_transaction():
        User.update(default_billing=None, default_shipping=None).where(User.id == user.id).execute()
        Address.delete().where(Address.user == user).execute()
        SecurityEvent.delete().where(SecurityEvent.user == user).execute()
        AccountToken.delete().where(AccountToken.user == user).execute()
        User.update(
            email=f"deleted-{user.id}@invalid",
            password_hash=None,
            first_name="",
            last_name="",
            phone="",
            deleted_at=utcnow(),
            session_token=new_session_token(),
        ).where(User.id == user.id).execute()
    return True


# The owner's side -----------------------------------------------------------


def create_customer_for_owner(email, first_name, last_name, phone, owner, now=None):
    """A customer created by the owner: confirmed, no password, a set-password link emailed."""
    now = now or utcnow()
    with write_transaction():
        user = User.create(
            email=normalize_email(email),
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            role=CUSTOMER,
            source=CREATED_BY_OWNER,
            email_confirmed_at=now,
            session_token=new_session_token(),
            created_at=now,
        )
        record_event(user, "account_created", f"by {owner.email}", actor="shop")
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
            "Your account is ready",
            "set_password",
            user=user,
            link=absolute_url("auth.reset_password", secret=secret),
        )
    return user


def set_blocked(user, blocked, owner):
    """Pause or resume an account. Pausing ends every session: resuming doesn't bring them back."""
    with write_transaction():
        user.blocked_at = utcnow() if blocked else None
        if blocked:
            user.session_token = new_session_token()
        user.save(only=[User.blocked_at, User.session_token])
        record_event(user, "blocked" if blocked else "unblocked", f"by {owner.email}", actor="shop")
        audit(
            owner,
            "customer_paused" if blocked else "customer_resumed",
            f"customer {user.id} ({user.email})",
            before={"paused": not blocked},
            after={"paused": blocked},
        )
    return user


def purge_unconfirmed_accounts(now):
    """Remove never-confirmed self-registrations older than 7 days. Returns how many.

    Accounts with orders or money movements are never purged; later features
    add their own guard to `purge_guards`.
    """
    cutoff = now - UNCONFIRMED_ACCOUNT_LIFETIME
    candidates = User.select(User.id).where(
        (User.source == SELF_REGISTERED)
        & User.email_confirmed_at.is_null()
        & (User.created_at < cutoff)
        & (User.role == CUSTOMER)
        & User.deleted_at.is_null()
    )
    ids = [row.id for row in candidates if all(guard(row.id) for guard in purge_guards)]
    if ids:
        with write_transaction():
            User.update(default_billing=None, default_shipping=None).where(User.id.in_(ids)).execute()
            User.delete().where(User.id.in_(ids)).execute()
    return len(ids)


def has_no_money_movements(user_id):
    return not Entry.select().join(LedgerAccount).where(LedgerAccount.user == user_id).exists()


# Functions(user_id) -> True when the account may be purged (no orders, no money…).
purge_guards = [has_no_money_movements]
