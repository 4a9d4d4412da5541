"""Customers' requests for a higher credit limit, and the owner's decisions (Approvals)."""

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.credit import refresh_credit_limit
from models.funds.customer_accounts import effective_credit_limit
from models.groups.group import group_of
from models.groups.group import GroupError
from models.shop.audit import audit
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.users.user import User

PENDING = "pending"


APPROVED = "approved"


DECLINED = "declined"


class CreditRequest(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, backref="credit_requests")
    amount = IntegerField()
    reason = TextField(default="")
    state = CharField(default=PENDING, index=True)
    approved_amount = IntegerField(null=True)
    note = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="credit_decisions")

    class Meta:
        table_name = "credit_request"


def request_credit(user, amount, reason):
    """A pending request for a higher limit; GroupError with a message for the customer otherwise."""
    fresh = User.get_by_id(user.id)
    if not fresh.is_active:
        raise GroupError(gettext("Your account is paused, so it can't ask for credit."))
    if not group_of(fresh).pay_on_account:
        raise GroupError(
            gettext(
                "Your group doesn't offer paying on account. You can apply for another group in Membership."
            )
        )
    if amount <= effective_credit_limit(fresh):
        raise GroupError(gettext("Ask for more than your current limit."))
    try:
        with write_transaction():
            return CreditRequest.create(user=user, amount=amount, reason=reason.strip())
    except IntegrityError:
        raise GroupError(
            gettext("You already have a request waiting; we'll email you the decision.")
        ) from None


def pending_credit_requests():
    return list(
        CreditRequest.select(CreditRequest, User)
        .join(User, on=CreditRequest.user)
        .where(CreditRequest.state == PENDING)
        .order_by(CreditRequest.created_at, CreditRequest.id)
    )


def pending_credit_count():
    return CreditRequest.select(fn.COUNT(CreditRequest.id)).where(CreditRequest.state == PENDING).scalar()


def requests_of(user):
    return list(
        CreditRequest.select().where(CreditRequest.user == user).order_by(CreditRequest.created_at.desc())
    )


def decide_credit(request_id, approve, decided_by, amount=None, note=""):
    """Approve (possibly a different amount) or decline with a note, exactly once; email and audit."""
    note = note.strip()
    if not approve and not note:
        raise GroupError(gettext("Give the customer a note when declining."))
    with write_transaction():
        request = CreditRequest.get_or_none(CreditRequest.id == request_id)
        if request is None:
            raise GroupError(gettext("That request doesn't exist."))
        granted = (amount if amount is not None else request.amount) if approve else None
        changed = (
            CreditRequest.update(
                state=APPROVED if approve else DECLINED,
                approved_amount=granted,
                note=note,
                decided_at=utcnow(),
                decided_by=decided_by,
            )
            .where((CreditRequest.id == request.id) & (CreditRequest.state == PENDING))
            .execute()
        )
        if not changed:
            raise GroupError(gettext("That request was already decided; nothing changed."))
        user = User.get_by_id(request.user_id)
        before = effective_credit_limit(user)
        if approve:
            User.update(personal_credit_limit=granted).where(User.id == user.id).execute()
            refresh_credit_limit(user)
        audit(
            decided_by,
            "credit_approved" if approve else "credit_declined",
            f"customer {user.id} ({user.email})",
            before={"limit": before, "asked": request.amount},
            after={"limit": effective_credit_limit(user), "note": note},
        )
        send_templated(
            user.email,
            "credit_approved" if approve else "credit_declined",
            lazy_gettext("Your credit limit is raised")
            if approve
            else lazy_gettext("Your credit limit request"),
            "credit_approved" if approve else "credit_declined",
            user=user,
            request=request,
            granted=granted,
            note=note,
            funds_url=absolute_url("credit.overview"),
        )
    return request
