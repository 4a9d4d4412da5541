"""What every payment provider offers the shop, and the statuses and errors it speaks in."""

from dataclasses import dataclass
from typing import Protocol

from flask import current_app

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
STATUSES = (PENDING, SUCCEEDED, FAILED)


class PaymentError(Exception):
    """The provider refused or could not do what was asked."""


class UnknownPayment(PaymentError):
    """No payment with that id at the provider."""


class BadNotification(PaymentError):
    """A notification that is not authentic or not readable: ignore it (answer 400)."""


@dataclass(frozen=True)
class Notification:
    """What a verified notification says about one payment."""

    event_id: str
    provider_payment_id: str
    status: str  # succeeded | failed
    amount: int  # minor units
    currency: str


class Provider(Protocol):
    name: str

    def create_payment(self, amount, currency, reference, idempotency_key, return_url):
        """-> (provider_payment_id, redirect_url). The same key returns the same payment."""

    def verify_notification(self, body, signature):
        """-> Notification, or raises BadNotification."""

    def get_status(self, provider_payment_id):
        """-> 'pending' | 'succeeded' | 'failed'; raises UnknownPayment."""

    def refund(self, provider_payment_id, amount, idempotency_key):
        """-> the provider's refund id. The same key refunds once."""


def configured_name():
    """The provider new payments go to: config PAYMENT_PROVIDER (default: the sandbox).

    The sandbox moves no real money: a shop taking real payments sets
    PAYMENT_PROVIDER to a real provider, and the sandbox's pages then answer 404.
    """
    return current_app.config.get("PAYMENT_PROVIDER", "sandbox")
