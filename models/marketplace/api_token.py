"""The bearer token the import API accepts: one live at a time, only its hash kept."""

import hmac
import secrets

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit
from models.users.tokens import digest
from models.users.user import User


class MarketplaceToken(BaseModel):
    """The bearer token the import API accepts. Only its hash is kept; one is live at a time."""

    token_hash = CharField(unique=True)
    hint = CharField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True, index=True)

    class Meta:
        table_name = "marketplace_token"


TOKEN_PREFIX = "mkt_"  # noqa: S105 - a prefix that makes the token recognisable, not a secret


def live_token():
    """The token the API accepts now (the row, never the secret), or None."""
    return (
        MarketplaceToken.select()
        .where(MarketplaceToken.revoked_at.is_null())
        .order_by(MarketplaceToken.id.desc())
        .first()
    )


def create_token(owner, now=None):
    """A new API token replacing any earlier one (which stops working at once).

    Returns the token itself: it is shown to the owner once and never stored.
    """
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        replaced = (
            MarketplaceToken.update(revoked_at=now).where(MarketplaceToken.revoked_at.is_null()).execute()
        )
        row = MarketplaceToken.create(
            token_hash=digest(token), hint=token[-4:], created_by=owner, created_at=now
        )
        audit(
            owner,
            "marketplace_token_replaced" if replaced else "marketplace_token_created",
            "marketplace import API token",
            after={"token_ending": row.hint},
        )
    return token


def revoke_token(owner, now=None):
    """Stop the API token working; True if there was one."""
    with write_transaction():
        revoked = (
            MarketplaceToken.update(revoked_at=now or utcnow())
            .where(MarketplaceToken.revoked_at.is_null())
            .execute()
        )
        if revoked:
            audit(owner, "marketplace_token_revoked", "marketplace import API token")
    return bool(revoked)


def check_token(presented, now=None):
    """The live token row matching `presented`, or None. Hashes are compared in constant time."""
    if not presented or not isinstance(presented, str) or len(presented) > 200:
        return None
    wanted = digest(presented)
    found = None
    for row in MarketplaceToken.select().where(MarketplaceToken.revoked_at.is_null()):
        if hmac.compare_digest(row.token_hash, wanted):
            found = row
    if found is not None:
        with write_transaction():
            MarketplaceToken.update(last_used_at=now or utcnow()).where(
                MarketplaceToken.id == found.id
            ).execute()
    return found
