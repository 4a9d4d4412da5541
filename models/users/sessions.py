"""Signed-in sessions, one row per sign-in: what lets a browser in, and what ends it.

The browser's cookie holds a random token; only its hash is stored. A session ends when it is
signed out (that session only), when the password changes, the email changes, the customer
signs out their other devices, or the shop pauses or deletes the account (all of them), and by
itself once it is idle too long or simply too old (limits by role, from the configuration). A
copied cookie is worth nothing once its session has ended.
"""

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.users.security_log import describe_device
from models.users.security_log import NO_CLIENT
from models.users.user import User

# A session's last use is written at most this often: enough for limits counted in hours and
# days, without a write on every request.
TOUCH_EVERY = datetime.timedelta(minutes=5)
# Ended sessions are kept a while (the security page's history is the security log, not these).
KEEP_ENDED = datetime.timedelta(days=30)
# Longer than any sensible absolute limit: a row this old can no longer sign anyone in.
KEEP_AT_MOST = datetime.timedelta(days=400)


class UserSession(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, backref="sessions")
    token_hash = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True, index=True)
    ip = CharField(default="")
    user_agent = CharField(default="")

    class Meta:
        table_name = "user_session"

    @property
    def device(self):
        return describe_device(self.user_agent)


@dataclass(frozen=True)
class Limits:
    """How long a session may stay unused, and how long it may last at all."""

    idle: datetime.timedelta
    absolute: datetime.timedelta


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user, client=NO_CLIENT, now=None):
    """A new session for a sign-in; returns the token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    now = now or utcnow()
    with write_transaction():
        UserSession.create(
            user=user,
            token_hash=_hash(token),
            created_at=now,
            last_used_at=now,
            ip=client.ip,
            user_agent=client.user_agent[:250],
        )
    return token


def session_user(token, limits_for, now=None):
    """(user, session) for a cookie's token while the session is open, the account active and
    neither limit passed; else None. `limits_for(user)` gives the Limits of the user's role."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    found = (
        UserSession.select(UserSession, User)
        .join(User)
        .where((UserSession.token_hash == _hash(token)) & UserSession.ended_at.is_null())
        .first()
    )
    if found is None or not found.user.is_active:
        return None
    now = now or utcnow()
    limits = limits_for(found.user)
    if now - found.last_used_at > limits.idle or now - found.created_at > limits.absolute:
        end_session(token, now)
        return None
    if now - found.last_used_at > TOUCH_EVERY:
        with write_transaction():
            UserSession.update(last_used_at=now).where(UserSession.id == found.id).execute()
    return found.user, found


def end_session(token, now=None):
    """Sign out this one session (the browser's own)."""
    with write_transaction():
        UserSession.update(ended_at=now or utcnow()).where(
            (UserSession.token_hash == _hash(token)) & UserSession.ended_at.is_null()
        ).execute()


def end_sessions(user, now=None):
    """End every session of the user; call it inside the change's own transaction (a new
    password, a new email, a paused account…). The caller may sign this browser in again."""
    UserSession.update(ended_at=now or utcnow()).where(
        (UserSession.user == user) & UserSession.ended_at.is_null()
    ).execute()


def open_sessions(user, limits, now=None):
    """The user's sessions still open, most recently used first (My Account → Security)."""
    now = now or utcnow()
    return list(
        UserSession.select()
        .where(
            (UserSession.user == user)
            & UserSession.ended_at.is_null()
            & (UserSession.last_used_at >= now - limits.idle)
            & (UserSession.created_at >= now - limits.absolute)
        )
        .order_by(UserSession.last_used_at.desc(), UserSession.id.desc())
    )


def is_token_of(session, token):
    return session.token_hash == _hash(token)


def forget_old_sessions(now):
    """Delete sessions ended a month ago, and any too old to be open under any limit (tick)."""
    with write_transaction():
        UserSession.delete().where(
            (UserSession.ended_at < now - KEEP_ENDED) | (UserSession.created_at < now - KEEP_AT_MOST)
        ).execute()
