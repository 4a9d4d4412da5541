"""The four-step registration: a server-side draft, then one transaction that creates the account.

The session holds only the draft's random id. The password is hashed at
step 2 and only the hash is kept. Registration never says whether an email
is taken: step 4 always ends on "check your inbox".

A registration started on the way to checkout remembers where to go back to and the visitor's
cart (`remember_return`, on the draft; then `RegistrationReturn`, on the inbox ticket, since the
draft is gone once the account is made). Proving the inbox (code or link, in any browser) brings
that cart into the new account and goes back (`take_return`). The cart is not moved when the
account is made: until then the visitor's cart stays theirs, as it does when the address already
had an account, so nothing on the pages tells the two apart.
"""

import datetime
import json
import secrets

from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import TextField

from models.accounts.addresses import add_address
from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.history import has_money_history
from models.groups.group import new_member
from models.groups.referrals import referrer_for
from models.marketplace.channels import first_channel
from models.shop.language import supported
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.outbox import may_send_unasked
from models.storefront.cart import carry_into_account
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.tokens import AccountToken
from models.users.tokens import ALREADY_REGISTERED
from models.users.tokens import CONFIRM_EMAIL
from models.users.tokens import issue
from models.users.tokens import LINK_LIFETIMES
from models.users.tokens import RESET_PASSWORD
from models.users.user import CUSTOMER
from models.users.user import FROM_MARKETPLACE
from models.users.user import SELF_REGISTERED
from models.users.user import User

DRAFT_LIFETIME = datetime.timedelta(hours=24)
RETURN_LIFETIME = LINK_LIFETIMES[CONFIRM_EMAIL]  # as long as the emailed link works
RETURN_MAX_LENGTH = 500  # a path on this site; anything longer is not one of ours


class RegistrationDraft(BaseModel):
    id = CharField(primary_key=True)
    data = TextField(default="{}")
    password_hash = CharField(null=True)
    return_to = TextField(null=True)  # a path on this site (the caller checks it, like `next`)
    cart_key = CharField(null=True)  # the visitor's cart, brought into the account once confirmed
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(index=True)

    @property
    def values(self):
        return json.loads(self.data)

    def completed_steps(self):
        """Which steps hold valid answers (2 = email and password, 3 = details)."""
        values = self.values
        steps = set()
        if values.get("email") and self.password_hash:
            steps.add(2)
        if values.get("first_name") and values.get("billing"):
            steps.add(3)
        return steps


def start_draft(now=None):
    now = now or utcnow()
    with write_transaction():
        return RegistrationDraft.create(
            id=secrets.token_urlsafe(24), created_at=now, expires_at=now + DRAFT_LIFETIME
        )


def find_draft(draft_id, now=None):
    if not draft_id:
        return None
    draft = RegistrationDraft.get_or_none(RegistrationDraft.id == draft_id)
    if draft is None or draft.expires_at < (now or utcnow()):
        return None
    return draft


def save_answers(draft, answers, password_hash=None):
    """Merge one step's answers into the draft."""
    values = draft.values
    values.update(answers)
    changes = {RegistrationDraft.data: json.dumps(values)}
    if password_hash:
        changes[RegistrationDraft.password_hash] = password_hash
    with write_transaction():
        RegistrationDraft.update(changes).where(RegistrationDraft.id == draft.id).execute()
    return RegistrationDraft.get_by_id(draft.id)


class RegistrationReturn(BaseModel):
    """A finished registration's way back: kept with its "check your inbox" ticket."""

    token = ForeignKeyField(AccountToken, primary_key=True, on_delete="CASCADE")
    return_to = TextField(null=True)
    cart_key = CharField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "registration_return"


def remember_return(draft, return_to, cart_key):
    """Where this registration goes back to once confirmed (None: My Account, as always) and the
    visitor's cart it brings along. `return_to` must already be checked as a path on this site."""
    if return_to is not None and len(return_to) > RETURN_MAX_LENGTH:
        return_to = None
    with write_transaction():
        RegistrationDraft.update(return_to=return_to, cart_key=cart_key or None).where(
            RegistrationDraft.id == draft.id
        ).execute()
    return RegistrationDraft.get_by_id(draft.id)


def complete_registration(draft, referral_code=None, now=None, client=NO_CLIENT, cart_key=None):
    """Step 4: create the account (or tell the address's owner it exists). Returns the inbox token.

    Both paths write a token and a message in one transaction and answer
    the same way, so nobody can learn from registration whether an email is taken.
    The way back (return path, cart: `cart_key`, else the one the draft remembered) is kept
    with the token on both paths too; only a confirmed new account ever uses it (`take_return`).
    """
    now = now or utcnow()
    values = draft.values
    cart_key = cart_key or draft.cart_key
    with write_transaction():
        existing = User.by_email(values["email"])
        if existing is not None:
            token = _tell_existing_account(existing, now, draft.return_to)
        else:
            token = _create_account(values, draft.password_hash, now, referrer_for(referral_code), client)
        if draft.return_to or cart_key:
            RegistrationReturn.create(
                token=token, return_to=draft.return_to, cart_key=cart_key, created_at=now
            )
        RegistrationDraft.delete().where(RegistrationDraft.id == draft.id).execute()
    return token


def return_path(token_id):
    """Where confirming this ticket will lead (a path), or None: for the "check your inbox" page."""
    found = RegistrationReturn.get_or_none(RegistrationReturn.token == token_id)
    return found.return_to if found is not None else None


def take_return(token_id, user):
    """The confirmed customer's way back: (return path or None, notes about the cart). The visitor's
    cart the registration remembered is brought into the account, whichever browser confirmed;
    the row is used up. Only the ticket `user` just proved counts."""
    with write_transaction():
        found = (
            RegistrationReturn.select()
            .join(AccountToken)
            .where((RegistrationReturn.token == token_id) & (AccountToken.user == user.id))
            .first()
        )
        if found is None:
            return None, []
        taken = RegistrationReturn.delete().where(RegistrationReturn.token == found.token_id).execute()
    if not taken:
        return None, []  # a twin request took it
    return found.return_to, carry_into_account(found.cart_key, user)


def _create_account(values, password_hash, now, referrer, client):
    user = new_member(
        referred_by=referrer,
        email=values["email"],
        password_hash=password_hash,
        first_name=values["first_name"],
        last_name=values["last_name"],
        phone=values.get("phone", ""),
        language=supported(values.get("language")) or "",
        source=SELF_REGISTERED,
        created_at=now,
    )
    add_address(user, values["billing"], make_default_billing=True, make_default_shipping=True, client=client)
    if values.get("ship_different") and values.get("shipping"):
        add_address(user, values["shipping"], make_default_shipping=True, client=client)
    record_event(user, "account_created", client=client)
    token, link, code = issue(CONFIRM_EMAIL, user.email, user=user, link=True, code=True, now=now)
    send_confirmation(user, link, code)
    return token


def send_confirmation(user, link, code):
    """Anyone can register any address: an unasked message, not sent once the address had its share."""
    send_templated(
        user.email,
        "confirm_email",
        lazy_gettext("Confirm your email address"),
        "confirm_email",
        secrets=[link, code],
        unasked=True,
        language=user.language,
        user=user,
        link=absolute_url("inbox.confirm_link", secret=link) if link else None,
        code=code,
    )


def _tell_existing_account(user, now, return_to=None):
    token, _, _ = issue(ALREADY_REGISTERED, user.email, user=user, decoy_code=True, now=now)
    send_already_registered(user, now, return_to)
    return token


def send_already_registered(user, now=None, return_to=None):
    """The message for a registration with a known address. An account with no password yet
    (opened by a marketplace order or by the owner) is told how to claim it: the link sets
    its first password, which also confirms the address.

    Anyone can register any address, again and again: once the address had its share of
    unasked messages, nothing is sent (and no link made), and the registration answers the same.

    A registration on the way to checkout (`return_to`) gets a sign-in link that goes back there:
    signing in in the same browser brings the visitor's cart along, as any sign-in does."""
    if not may_send_unasked(user.email):
        return
    _, reset_link, _ = issue(RESET_PASSWORD, user.email, user=user, link=True, now=now)
    send_templated(
        user.email,
        "already_registered",
        lazy_gettext("You already have an account"),
        "already_registered",
        secrets=[reset_link],
        unasked=True,
        user=user,
        sign_in_url=absolute_url("auth.sign_in", **({"next": return_to} if return_to else {})),
        set_password_url=absolute_url("auth.reset_password", secret=reset_link),
        claim=user.password_hash is None,
        came_from=_came_from(user),
    )


def _came_from(user):
    """The marketplace whose order opened this account ("Amazon"), or ""."""
    if user.source != FROM_MARKETPLACE:
        return ""

    return first_channel(user)


def purge_expired_drafts(now):
    """Drafts past their 24 hours, and ways back nobody used while the emailed link worked."""
    with write_transaction():
        RegistrationDraft.delete().where(RegistrationDraft.expires_at < now).execute()
        RegistrationReturn.delete().where(RegistrationReturn.created_at < now - RETURN_LIFETIME).execute()


UNCONFIRMED_ACCOUNT_LIFETIME = datetime.timedelta(days=7)


def purge_unconfirmed_accounts(now):
    """Remove never-confirmed self-registrations older than 7 days. Returns how many.

    Accounts that ever moved money or started a top-up are kept.
    """
    cutoff = now - UNCONFIRMED_ACCOUNT_LIFETIME
    candidates = User.select(User.id).where(
        (User.source == SELF_REGISTERED)
        & User.email_confirmed_at.is_null()
        & (User.created_at < cutoff)
        & (User.role == CUSTOMER)
        & User.deleted_at.is_null()
    )
    ids = [row.id for row in candidates if not has_money_history(row.id)]
    if ids:
        with write_transaction():
            User.update(default_billing=None, default_shipping=None).where(User.id.in_(ids)).execute()
            User.delete().where(User.id.in_(ids)).execute()
    return len(ids)
