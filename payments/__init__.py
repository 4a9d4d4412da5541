"""Payment providers, shaped like a hosted checkout.

The shop asks a provider to create a payment (amount, reference, idempotency
key, where to send the payer back) and gets the provider's payment id and the
URL of its hosted page. The provider later tells the shop the outcome in a
signed notification, and answers "what is the status of payment X?" for
reconciliation. A refund goes back to the original payment.

The shop only ever talks to `provider()` and the names below (defined in
`payments/interface.py`, which also says what a provider module implements):
the built-in sandbox (`payments.sandbox`, the default, play money) and Stripe
(`payments.stripe`). Another provider (Mollie, say) is one module implementing
that interface plus its entry in PROVIDERS; the ledger and the funds code
don't change.
"""

from payments.interface import BadNotification
from payments.interface import configured_name
from payments.interface import FAILED
from payments.interface import Notification
from payments.interface import PaymentError
from payments.interface import PENDING
from payments.interface import Provider
from payments.interface import STATUSES
from payments.interface import SUCCEEDED
from payments.interface import UnknownPayment
from payments.sandbox import SandboxProvider
from payments.stripe import StripeProvider

__all__ = [
    "PENDING",
    "SUCCEEDED",
    "FAILED",
    "STATUSES",
    "PaymentError",
    "UnknownPayment",
    "BadNotification",
    "Notification",
    "Provider",
    "configured_name",
    "provider",
    "PROVIDERS",
    "configuration_problems",
    "mode",
]

PROVIDERS = {provider.name: provider for provider in (SandboxProvider, StripeProvider)}


def provider(name=None):
    """The payment provider called `name`, or the configured one."""
    name = name or configured_name()
    if name not in PROVIDERS:
        raise PaymentError(f"Unknown payment provider {name!r}.")
    return PROVIDERS[name]()


def configuration_problems(config):
    """Why the configured provider cannot take payments (empty when it can); create_app refuses
    to start otherwise."""
    name = config.get("PAYMENT_PROVIDER", "sandbox")
    if name not in PROVIDERS:
        return [f"PAYMENT_PROVIDER must be one of {', '.join(sorted(PROVIDERS))}, not {name!r}."]
    return PROVIDERS[name].configuration_problems(config)


def mode(config):
    """'sandbox', 'test' or 'live': what the configured provider's payments are. Only 'live' moves
    real money; customer pages say "Test mode" otherwise."""
    provider_class = PROVIDERS.get(config.get("PAYMENT_PROVIDER", "sandbox"))
    return provider_class.mode(config) if provider_class else "test"
