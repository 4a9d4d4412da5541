"""The security activity a customer can read: sign-ins, password and email changes, address edits."""

from dataclasses import dataclass

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.users.user import User

EVENT_LABELS = {
    "account_created": "Account created",
    "email_confirmed": "Email address confirmed",
    "signed_in": "Signed in",
    "signed_in_with_code": "Signed in with an emailed code",
    "sign_in_failed": "Failed sign-in attempt",
    "password_changed": "Password changed",
    "password_reset": "Password reset by email link",
    "password_set": "Password set",
    "email_change_requested": "Email change requested",
    "email_changed": "Email address changed",
    "signed_out_everywhere": "Signed out of other devices",
    "profile_changed": "Profile changed",
    "address_added": "Address added",
    "address_changed": "Address changed",
    "address_deleted": "Address deleted",
    "blocked": "Account paused by the shop",
    "unblocked": "Account resumed by the shop",
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
        return "Unknown device"
    browser = next((name for marker, name in BROWSERS if marker in user_agent), "A browser")
    system = next((name for marker, name in SYSTEMS if marker in user_agent), "")
    return f"{browser} on {system}" if system else browser
