"""Payment providers, shaped like a hosted checkout.

The shop asks a provider to create a payment (amount, reference, idempotency
key, where to send the payer back) and gets the provider's payment id and the
URL of its hosted page. The provider later tells the shop the outcome in a
signed notification, and answers "what is the status of payment X?" for
reconciliation. A refund goes back to the original payment.

The shop only ever talks to `provider()` and the names below (defined in
`payments/interface.py`); the built-in sandbox (`payments.sandbox`) is the one
provider today, and a real one is added to PROVIDERS without touching the
ledger or the funds code.
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
]

PROVIDERS = {SandboxProvider.name: SandboxProvider}


def provider(name=None):
    """The payment provider called `name`, or the configured one."""
    name = name or configured_name()
    if name not in PROVIDERS:
        raise PaymentError(f"Unknown payment provider {name!r}.")
    return PROVIDERS[name]()
