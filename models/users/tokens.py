"""Emailed links and one-time codes.

Only hashes are stored. A link opens a page whose button POSTs the token;
nothing is used up by opening it (mail scanners open links first).
"""

import datetime
import hashlib
import hmac
import secrets

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.users.user import User

CONFIRM_EMAIL = "confirm_email"  # new self-registration: link 48 h + code 15 min
ALREADY_REGISTERED = "already_registered"  # registration with a known address: no code works
SIGN_IN_CODE = "sign_in_code"  # "email me a sign-in code"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a password; link 1 h
SET_PASSWORD = "set_password"  # noqa: S105 - owner-created or marketplace accounts: link 7 days
CHANGE_EMAIL = "change_email"  # link to the new address, 2 h

LINK_LIFETIMES = {
    CONFIRM_EMAIL: datetime.timedelta(hours=48),
    RESET_PASSWORD: datetime.timedelta(hours=1),
    SET_PASSWORD: datetime.timedelta(days=7),
    CHANGE_EMAIL: datetime.timedelta(hours=2),
}
CODE_LIFETIME = datetime.timedelta(minutes=15)
CODE_ATTEMPTS = 3
RESEND_COOLDOWN = datetime.timedelta(seconds=60)


class AccountToken(BaseModel):
    id = CharField(primary_key=True)  # public, safe to keep in the session
    purpose = CharField(index=True)
    user = ForeignKeyField(User, null=True, on_delete="CASCADE", index=True)
    email = CharField()
    new_email = CharField(null=True)
    link_hash = CharField(null=True, unique=True)
    link_expires_at = DateTimeField(null=True)
    code_hash = CharField(null=True)
    code_expires_at = DateTimeField(null=True)
    code_attempts = IntegerField(default=0)
    sent_at = DateTimeField(default=utcnow)
    used_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    @property
    def can_resend_at(self):
        return self.sent_at + RESEND_COOLDOWN


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def new_code():
    return f"{secrets.randbelow(1_000_000):06d}"


def issue(purpose, email, user=None, link=False, code=False, decoy_code=False, new_email=None, now=None):
    """A new token row; returns (row, link_secret or None, code or None).

    `decoy_code` opens a code window in which no code works: the "check your
    inbox" page for an address that already has an account behaves exactly
    like the one for a new address.
    """
    now = now or utcnow()
    link_secret = secrets.token_urlsafe(32) if link else None
    code_value = new_code() if code else None
    row = AccountToken.create(
        id=secrets.token_urlsafe(16),
        purpose=purpose,
        user=user,
        email=email,
        new_email=new_email,
        link_hash=digest(link_secret) if link_secret else None,
        link_expires_at=now + LINK_LIFETIMES[purpose] if link_secret else None,
        code_hash=digest(code_value) if code_value else None,
        code_expires_at=now + CODE_LIFETIME if (code_value or decoy_code) else None,
        sent_at=now,
        created_at=now,
    )
    return row, link_secret, code_value


def refresh_code(token, now=None):
    """A new code for the same token (resend), with fresh attempts; returns the code."""
    now = now or utcnow()
    code_value = new_code() if token.code_hash else None
    AccountToken.update(
        code_hash=digest(code_value) if code_value else None,
        code_expires_at=now + CODE_LIFETIME,
        code_attempts=0,
        sent_at=now,
    ).where(AccountToken.id == token.id).execute()
    return code_value


def give_code(token, user, now=None):
    """Put a new code for `user` on a sign-in ticket (its first, or one replacing the last): its
    window and attempts start again. Returns the code, or None if the ticket was used meanwhile."""
    now = now or utcnow()
    code_value = new_code()
    changed = (
        AccountToken.update(
            user=user,
            code_hash=digest(code_value),
            code_expires_at=now + CODE_LIFETIME,
            code_attempts=0,
            sent_at=now,
        )
        .where((AccountToken.id == token.id) & AccountToken.used_at.is_null())
        .execute()
    )
    return code_value if changed else None


def restart_cooldown(token, now):
    """Count a resend that sent nothing: the next one waits RESEND_COOLDOWN, as after any other."""
    AccountToken.update(sent_at=now).where(AccountToken.id == token.id).execute()


def find_by_link(secret, purpose, now=None):
    """The unused, unexpired token for this link secret, or None."""
    if not secret or len(secret) > 100:
        return None
    now = now or utcnow()
    token = AccountToken.get_or_none(
        (AccountToken.link_hash == digest(secret)) & (AccountToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.link_expires_at < now:
        return None
    return token


def check_code(token, code, now=None):
    """'ok', 'wrong' (an attempt used) or 'expired' (no attempts or time left).

    The attempt is counted in the same statement that checks the limit, so
    parallel guesses cannot exceed it.
    """
    now = now or utcnow()
    if token.used_at is not None:
        return "expired"
    counted = (
        AccountToken.update(code_attempts=AccountToken.code_attempts + 1)
        .where((AccountToken.id == token.id) & (AccountToken.code_attempts < CODE_ATTEMPTS))
        .execute()
    )
    if not counted:
        return "expired"
    if token.code_expires_at is None or token.code_expires_at < now:
        return "expired"
    if token.code_hash and hmac.compare_digest(token.code_hash, digest(code.strip())):
        return "ok"
    return "wrong"


def use(token, now=None):
    """Mark used; False if someone used it first (single use under races)."""
    now = now or utcnow()
    return bool(
        AccountToken.update(used_at=now)
        .where((AccountToken.id == token.id) & AccountToken.used_at.is_null())
        .execute()
    )


def retire_others(user, purpose, keep=None, now=None):
    """Invalidate a user's other open tokens of one purpose (a new reset link kills the old)."""
    query = AccountToken.update(used_at=now or utcnow()).where(
        (AccountToken.user == user) & (AccountToken.purpose == purpose) & AccountToken.used_at.is_null()
    )
    if keep is not None:
        query = query.where(AccountToken.id != keep.id)
    query.execute()
