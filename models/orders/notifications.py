"""A payment provider's signed notification: verified, recorded once, then acted on by the payment
it names.

The payment is a top-up (models/funds/top_ups.py) or an order's card payment
(card_payments.py); either acts on the status exactly once. Every authentic event is kept
(ProviderEvent, append-only, UNIQUE by provider and event id) in the same transaction as what
it does, so a replayed event is recognised and does nothing, and an event that failed half-way
is tried again in full when the provider sends it again. An event about no payment of ours is
kept and acknowledged (the provider must not retry it for days); one for another amount or
currency is refused and moves no money.
"""

import datetime
from dataclasses import dataclass

from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.funds.top_ups import apply_status
from models.funds.top_ups import top_up_paid_by
from models.funds.top_ups import TopUp
from models.orders.card_payments import apply_payment_status
from models.orders.card_payments import order_payment_by
from models.orders.order import OrderPayment
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider

TOP_UP, ORDER_PAYMENT, UNKNOWN = "top_up", "order_payment", "unknown"


class ProviderEvent(BaseModel):
    provider = CharField()
    event_id = CharField()
    status = CharField()
    provider_payment_id = CharField()
    amount = IntegerField()
    currency = CharField(max_length=3)
    payment = CharField()  # TOP_UP | ORDER_PAYMENT | UNKNOWN
    received_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "provider_event"
        indexes = ((("provider", "event_id"), True),)


class NotificationRejected(Exception):
    """A notification that moves no money (answered 400)."""


def handle_notification(provider_name, body, signature, now=None):
    """Verify a provider's notification and act on the top-up or order payment it names, once.

    Returns what it acted on, or None (an event the shop does not act on, a replay, a payment
    that isn't ours)."""
    try:
        notification = payment_provider(provider_name).verify_notification(body, signature)
    except PaymentError as error:
        raise NotificationRejected(str(error)) from None
    if notification is None:
        return None
    payment_id = notification.provider_payment_id
    top_up = top_up_paid_by(provider_name, payment_id)
    payment = None if top_up is not None else order_payment_by(provider_name, payment_id)
    target = top_up or payment
    if target is not None and (
        notification.amount != target.amount or notification.currency != target.currency
    ):
        raise NotificationRejected("amount or currency mismatch")
    with write_transaction():
        if not _first_time(provider_name, notification, top_up, payment, now):
            return None
        if top_up is not None:
            return apply_status(top_up, notification.status)
        if payment is not None:
            return apply_payment_status(payment, notification.status)
    return None


def _first_time(provider_name, notification, top_up, payment, now):
    """Keep the event; False when it was kept before (a replay)."""
    kind = TOP_UP if top_up is not None else ORDER_PAYMENT if payment is not None else UNKNOWN
    inserted = (
        ProviderEvent.insert(
            provider=provider_name,
            event_id=notification.event_id,
            status=notification.status,
            provider_payment_id=notification.provider_payment_id,
            amount=notification.amount,
            currency=notification.currency,
            payment=kind,
            received_at=now or utcnow(),
        )
        .on_conflict(conflict_target=[ProviderEvent.provider, ProviderEvent.event_id], action="NOTHING")
        .returning(ProviderEvent.id)
        .tuples()
        .execute()
    )
    return bool(list(inserted))


def last_event_at(provider_name):
    """When the provider's last event arrived (naive UTC), or None."""
    return (
        ProviderEvent.select(fn.MAX(ProviderEvent.received_at))
        .where(ProviderEvent.provider == provider_name)
        .scalar()
    )


# A card payment still waiting this long with no event from the provider since it started
# suggests the provider's notifications are not reaching the shop.
SILENCE_WARNING_AFTER = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class ProviderSilence:
    """What the owner's settings page says about the provider's notifications."""

    last_event_at: datetime.datetime | None  # naive UTC
    waiting_since: datetime.datetime | None  # the oldest payment still waiting for an outcome

    @property
    def worrying(self):
        return self.waiting_since is not None and (
            self.last_event_at is None or self.last_event_at < self.waiting_since
        )


def provider_silence(provider_name, now=None):
    """When the provider last told the shop anything, and whether a payment has waited too long since."""
    cutoff = (now or utcnow()) - SILENCE_WARNING_AFTER
    waiting = [
        model.select(fn.MIN(model.created_at))
        .where((model.provider == provider_name) & (model.state == PENDING) & (model.created_at <= cutoff))
        .scalar()
        for model in (TopUp, OrderPayment)
    ]
    return ProviderSilence(last_event_at(provider_name), min((w for w in waiting if w), default=None))
