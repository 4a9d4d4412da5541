"""People who sign in: customers, staff and the owner."""

from flask_login import UserMixin
from peewee import CharField
from peewee import DateTimeField
from peewee import DeferredForeignKey
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.users.passwords import hash_password
from models.users.passwords import needs_rehash
from models.users.passwords import verify_password

CUSTOMER = "customer"
STAFF = "staff"
OWNER = "owner"
ROLES = (CUSTOMER, STAFF, OWNER)

# Where an account came from: the customer registered, the owner created it,
# or a marketplace order brought it in (no password until the customer sets one).
SELF_REGISTERED = "self"
CREATED_BY_OWNER = "owner"
FROM_MARKETPLACE = "marketplace"


def normalize_email(email):
    """The form every email is stored and looked up in (case-insensitive)."""
    return email.strip().lower()


def mailbox_of(email):
    """The mailbox an address reaches, to tell people apart: normalized, a `+tag` dropped from
    the local part ("Ana+Shop@Example.com" → "ana@example.com"). Never stored or mailed to."""
    local, at, domain = normalize_email(email).rpartition("@")
    base = local.split("+", 1)[0]
    return f"{base or local}{at}{domain}" if at else normalize_email(email)


def same_mailbox(first, second):
    """Whether two addresses reach the same mailbox (the same email but for case and a `+tag`)."""
    return bool(first) and bool(second) and mailbox_of(first) == mailbox_of(second)


class User(UserMixin, BaseModel):
    email = CharField(unique=True)
    password_hash = CharField(null=True)
    role = CharField(default=CUSTOMER, index=True)
    first_name = CharField(default="")
    last_name = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    blocked_at = DateTimeField(null=True)
    phone = CharField(default="")
    # "en", "fr", or "" (never chosen: the shop's default language). models/shop/language.py
    language = CharField(max_length=8, default="")
    source = CharField(default=SELF_REGISTERED)
    email_confirmed_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    default_billing = DeferredForeignKey("Address", null=True, on_delete="SET NULL")
    default_shipping = DeferredForeignKey("Address", null=True, on_delete="SET NULL")
    group = DeferredForeignKey("CustomerGroup", null=True, on_delete="RESTRICT")
    referral_code = CharField(null=True, unique=True)
    referred_by = ForeignKeyField("self", null=True, on_delete="SET NULL", backref="referrals")
    personal_credit_limit = IntegerField(null=True)  # approved by the owner; replaces the group default
    reminders_opted_out_at = DateTimeField(null=True)  # payment reminders: None = the customer gets them

    # The token of the session this request signed in with (models/users/sessions.py): what
    # Flask-Login keeps in the browser's cookie. Set when a session opens or is loaded.
    session_key = None

    def get_id(self):
        return self.session_key

    # The same account is the same user whichever session loaded it (UserMixin compares get_id()).
    __eq__ = BaseModel.__eq__
    __ne__ = BaseModel.__ne__
    __hash__ = BaseModel.__hash__

    @property
    def is_active(self):
        return self.blocked_at is None and self.deleted_at is None

    @property
    def is_confirmed(self):
        return self.email_confirmed_at is not None

    @property
    def is_staff(self):
        return self.role in (STAFF, OWNER)

    @property
    def is_owner(self):
        return self.role == OWNER

    @property
    def display_name(self):
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email

    @classmethod
    def by_email(cls, email):
        return cls.get_or_none(cls.email == normalize_email(email))


def authenticate(email, password):
    """The user whose email and password match, or None (same cost either way)."""
    user = User.by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        with write_transaction():
            user.password_hash = hash_password(password)
            user.save(only=[User.password_hash])
    return user


def count_by_role(role):
    return User.select(fn.COUNT(User.id)).where(User.role == role).scalar()


def set_language(user, language):
    """Remember the language `user` reads the shop in ("en", "fr"): pages and every message to them."""
    with write_transaction():
        User.update(language=language).where(User.id == user.id).execute()
    user.language = language
