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
    """What a provider module implements (payments/sandbox.py and payments/stripe.py do).

    A new provider is one module with a class like this, its entry in payments.PROVIDERS,
    a blueprint if it needs a page of its own (views/__init__.py registers it), and tests.
    Amounts are integer minor units; currencies ISO codes in capitals. Idempotency keys are
    the shop's, derived from the business operation; a provider must send them along (or
    check them itself), so that a retry never charges or refunds twice.
    """

    name: str  # as in PAYMENT_PROVIDER and the notification URL /payments/<name>/notifications
    signature_header: str  # the HTTP header that carries a notification's signature

    @staticmethod
    def configuration_problems(config) -> list:
        """What is missing or wrong in the app's config for this provider ([] when usable)."""

    @staticmethod
    def mode(config) -> str:
        """'sandbox', 'test' or 'live'."""

    def create_payment(self, amount, currency, reference, idempotency_key, return_url):
        """-> (provider_payment_id, redirect_url): where the payer goes to pay, who comes back to
        `return_url`. The same key returns the same payment."""

    def verify_notification(self, body, signature):
        """-> Notification; None for an authentic event the shop does not act on; raises
        BadNotification for anything not authentic or not readable."""

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
