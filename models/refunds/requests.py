"""Customers asking for their deposited money back, and the owner's decision (Approvals).

What can be asked for is what can go back to a card (top_ups.py): money the customer paid in by
card and hasn't spent, never bonus money. The funds page offers it, prefilled; a customer has at
most one request waiting (a partial unique index, migration 0023).

Approving runs the refunds to cards of top_ups.py, newest top-up first, each capped as an
owner's refund is: in one write transaction the request is marked approved, every refund is
recorded and its money set aside (ledger journal `refund:<id>`), the decision is audited and the
customer is emailed; then the provider is asked for each refund, outside the transaction, as
`refund_to_card` does (an unknown answer is retried by the tick; a refusal puts the money back,
and the owner sees it on the customer's funds page). Each refund's key is made from the request
and the top-up, so nothing is refunded twice. Declining needs a reason, which the customer is
emailed. Only the owner decides, after a fresh sign-in (the view).
"""

from dataclasses import dataclass

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
from models.refunds.top_ups import ask_provider
from models.refunds.top_ups import record_refund
from models.refunds.top_ups import refund_summary
from models.refunds.top_ups import RefundError
from models.refunds.top_ups import split_over_top_ups
from models.shop.audit import audit
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.users.user import User

PENDING = "pending"  # waiting for the owner


APPROVED = "approved"


DECLINED = "declined"


class RefundRequest(BaseModel):
    user = ForeignKeyField(User, on_delete="CASCADE", index=True, backref="refund_requests")
    amount = IntegerField()  # what the customer asked for
    note = TextField(default="")  # the customer's, for the shop
    state = CharField(default=PENDING, index=True)
    refunded = IntegerField(default=0)  # what the owner approved and refunded
    reason = TextField(default="")  # the owner's reason when declining, sent to the customer
    created_at = DateTimeField(default=utcnow, index=True)
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="refund_decisions")

    class Meta:
        table_name = "refund_request"


class RefundRequestError(Exception):
    """A request that can't be made or decided; nothing changed. The message is for whoever acted."""


class RequestNotFound(RefundRequestError):
    """No such request (the view answers 404)."""


class AlreadyDecided(RefundRequestError):
    """Decided before (a double click, a second owner); nothing changed."""


# The customer's side --------------------------------------------------------------------------


def request_refund(user, amount, note="", now=None):
    """A pending request for `amount` of the customer's refundable money; RefundRequestError (with
    a message for the customer) when it is more than can be refunded or one is already waiting."""
    if amount <= 0:
        raise RefundRequestError(gettext("Enter an amount above zero."))
    if open_request_of(user) is not None:
        raise RefundRequestError(str(_ALREADY_WAITING))
    refundable = refund_summary(user).refundable
    if refundable == 0:
        raise RefundRequestError(
            gettext(
                "Nothing in your balance can be refunded right now: only money you paid in by card and "
                "haven't spent can go back, and bonus money can't."
            )
        )
    if amount > refundable:
        raise RefundRequestError(
            gettext(
                "You can ask for at most %(amount)s: the money you paid in by card and haven't spent.",
                amount=format_money(refundable),
            )
        )
    try:
        with write_transaction():
            return RefundRequest.create(
                user=user, amount=amount, note=note.strip(), created_at=now or utcnow()
            )
    except IntegrityError:  # a twin request got there first
        raise RefundRequestError(str(_ALREADY_WAITING)) from None


_ALREADY_WAITING = lazy_gettext("You already asked for a refund. We'll email you when the shop has decided.")


@dataclass(frozen=True)
class RefundOffer:
    """What the funds page tells the customer about refunds."""

    refundable: int  # paid in by card and not spent: what they may ask for now
    bonus_held: int  # bonus and reward money in the balance, which can't be refunded
    waiting: "RefundRequest | None"  # their request waiting for the shop
    past: list  # their latest requests, newest first


def refund_offer(user):
    summary = refund_summary(user)
    return RefundOffer(
        summary.refundable,
        min(summary.gifts_held, max(0, summary.balance)),
        open_request_of(user),
        requests_of(user),
    )


def open_request_of(user):
    """The customer's request waiting for the owner, or None."""
    return RefundRequest.get_or_none((RefundRequest.user == user) & (RefundRequest.state == PENDING))


def requests_of(user, limit=5):
    """The customer's latest requests, newest first."""
    return list(
        RefundRequest.select()
        .where(RefundRequest.user == user)
        .order_by(RefundRequest.created_at.desc(), RefundRequest.id.desc())
        .limit(limit)
    )


# The owner's side -----------------------------------------------------------------------------


def pending_refund_requests():
    """Requests waiting for the owner, oldest first, each with what can go back to cards now."""
    waiting = list(
        RefundRequest.select(RefundRequest, User)
        .join(User, on=RefundRequest.user)
        .where(RefundRequest.state == PENDING)
        .order_by(RefundRequest.created_at, RefundRequest.id)
    )
    return [(request, refund_summary(request.user).refundable) for request in waiting]


def pending_refund_request_count():
    return RefundRequest.select(fn.COUNT(RefundRequest.id)).where(RefundRequest.state == PENDING).scalar()


def approve_refund_request(request_id, owner, amount=None, now=None):
    """Refund `amount` (default: what was asked) to the customer's cards, exactly once; returns
    (the request, its refunds as the provider left them). RefundRequestError (nothing moved) when
    it is more than was asked or than can go back now."""
    now = now or utcnow()
    with write_transaction():
        request = _pending(request_id)
        customer = User.get_by_id(request.user_id)
        granted = request.amount if amount is None else amount
        summary = refund_summary(customer)
        if granted <= 0:
            raise RefundRequestError(gettext("Enter an amount above zero."))
        if granted > request.amount:
            raise RefundRequestError(
                gettext(
                    "The customer asked for %(amount)s; refund at most that.",
                    amount=format_money(request.amount),
                )
            )
        if granted > summary.refundable:
            raise RefundRequestError(
                gettext(
                    "At most %(amount)s can go back to the customer's cards now (they may have spent some "
                    "since asking). Approve that much, or decline with a reason.",
                    amount=format_money(summary.refundable),
                )
            )
        _decide(request, APPROVED, owner, now, refunded=granted)
        try:
            refunds = _refunds(customer, request, granted, owner, now)
        except RefundError as error:
            raise RefundRequestError(str(error)) from None
        audit(
            owner,
            "refund_request_approved",
            f"customer {customer.id} ({customer.email})",
            before={"asked": request.amount, "refundable": summary.refundable},
            after={"refunded": granted, "refunds": [refund.id for refund in refunds]},
        )
        send_templated(
            customer.email,
            "refund_request_approved",
            lazy_gettext("Your refund request is approved"),
            "refund_request_approved",
            user=customer,
            request=request,
            granted=granted,
            refunds=refunds,
            funds_url=absolute_url("funds.overview"),
        )
    return RefundRequest.get_by_id(request.id), [ask_provider(refund, now) for refund in refunds]


def _refunds(customer, request, amount, owner, now):
    """Record the refunds of `amount` to the customer's cards (step 1 of top_ups.py: the money set
    aside), one per top-up, under keys made from the request, so a retry finds them again."""
    return [
        record_refund(
            customer,
            top_up.id,
            part,
            f"Refund request {request.id}",
            owner,
            f"{customer.id}:refund-request-{request.id}-top-up-{top_up.id}",
            now,
        )
        for top_up, part in split_over_top_ups(customer, amount)
    ]


def decline_refund_request(request_id, owner, reason, now=None):
    """Decline with a reason the customer is emailed, exactly once."""
    reason = (reason or "").strip()
    if not reason:
        raise RefundRequestError(gettext("Give the customer a reason when declining."))
    now = now or utcnow()
    with write_transaction():
        request = _pending(request_id)
        customer = User.get_by_id(request.user_id)
        _decide(request, DECLINED, owner, now, reason=reason)
        audit(
            owner,
            "refund_request_declined",
            f"customer {customer.id} ({customer.email})",
            before={"asked": request.amount},
            after={"reason": reason},
        )
        send_templated(
            customer.email,
            "refund_request_declined",
            lazy_gettext("Your refund request"),
            "refund_request_declined",
            user=customer,
            request=request,
            reason=reason,
            funds_url=absolute_url("funds.overview"),
        )
    return RefundRequest.get_by_id(request.id)


def _pending(request_id):
    request = RefundRequest.get_or_none(RefundRequest.id == request_id)
    if request is None:
        raise RequestNotFound(gettext("That request doesn't exist."))
    if request.state != PENDING:
        raise AlreadyDecided(gettext("That request was already decided; nothing changed."))
    return request


def _decide(request, state, owner, now, **fields):
    """Mark the request decided, once: a second decision (two owners, a double click) changes nothing."""
    changed = (
        RefundRequest.update(state=state, decided_at=now, decided_by=owner, **fields)
        .where((RefundRequest.id == request.id) & (RefundRequest.state == PENDING))
        .execute()
    )
    if not changed:
        raise AlreadyDecided(gettext("That request was already decided; nothing changed."))
