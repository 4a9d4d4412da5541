"""Payment providers, shaped like a hosted checkout.

The shop asks a provider to create a payment (amount, reference, idempotency
key, where to send the payer back) and gets the provider's payment id and the
URL of its hosted page. The provider later tells the shop the outcome in a
signed notification, and answers "what is the status of payment X?" for
reconciliation. A refund goes back to the original payment.

The shop only ever talks to `provider()`; the built-in sandbox
(`payments.sandbox`) is the one provider today, and a real one can be added
without touching the ledger or the funds code.
"""

from dataclasses import dataclass
from typing import Protocol

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
    from flask import current_app

    return current_app.config.get("PAYMENT_PROVIDER", "sandbox")


def provider(name=None):
    """The payment provider called `name`, or the configured one (only the sandbox exists so far)."""
    name = name or configured_name()
    if name == "sandbox":
        from payments.sandbox import SandboxProvider

        return SandboxProvider()
    raise PaymentError(f"Unknown payment provider {name!r}.")
