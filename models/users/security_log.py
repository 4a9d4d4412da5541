"""The security activity a customer can read: sign-ins, password and email changes, address edits."""

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.users.user import User

EVENT_LABELS = {
    "account_created": lazy_gettext("Account created"),
    "email_confirmed": lazy_gettext("Email address confirmed"),
    "signed_in": lazy_gettext("Signed in"),
    "signed_in_with_code": lazy_gettext("Signed in with an emailed code"),
    "sign_in_failed": lazy_gettext("Failed sign-in attempt"),
    "password_changed": lazy_gettext("Password changed"),
    "password_reset": lazy_gettext("Password reset by email link"),
    "password_set": lazy_gettext("Password set"),
    "email_change_requested": lazy_gettext("Email change requested"),
    "email_changed": lazy_gettext("Email address changed"),
    "signed_out_everywhere": lazy_gettext("Signed out of other devices"),
    "profile_changed": lazy_gettext("Profile changed"),
    "address_added": lazy_gettext("Address added"),
    "address_changed": lazy_gettext("Address changed"),
    "address_deleted": lazy_gettext("Address deleted"),
    "blocked": lazy_gettext("Account paused by the shop"),
    "unblocked": lazy_gettext("Account resumed by the shop"),
}


class SecurityEvent(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE")
    kind = CharField()
    detail = TextField(default="")
    actor = CharField(default="customer")
    ip = CharField(default="")
    user_agent = CharField(default="")
    at = DateTimeField(default=utcnow, index=True)

    @property
    def label(self):
        return EVENT_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def device(self):
        return describe_device(self.user_agent)


@dataclass(frozen=True)
class Client:
    """Who is on the other end of a web request: the address and browser an event is logged with."""

    ip: str = ""
    user_agent: str = ""


NO_CLIENT = Client()  # jobs, commands and the shop's own processes


def record_event(user, kind, detail="", actor="customer", client=NO_CLIENT):
    """Log one event, with the address and browser of the web request that caused it (if any)."""
    return SecurityEvent.create(
        user=user,
        kind=kind,
        detail=detail[:1000],
        actor=actor,
        ip=client.ip,
        user_agent=client.user_agent[:250],
    )


def events_of(user, limit=50):
    return list(
        SecurityEvent.select()
        .where(SecurityEvent.user == user)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
        .limit(limit)
    )


BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)


def describe_device(user_agent):
    """'Chrome on Android' from a User-Agent string; good enough to recognise your own devices."""
    if not user_agent:
        return gettext("Unknown device")
    browser = next((name for marker, name in BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    if browser is None:
        return gettext("A browser on %(system)s", system=system) if system else gettext("A browser")
    return gettext("%(browser)s on %(system)s", browser=browser, system=system) if system else browser
