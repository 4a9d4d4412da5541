"""What happens next with an order, as the customer should read it: one answer for the order page,
the thank-you page after checkout and the card payment's return page.

The rule picks the state; the wording is in templates/orders/_next_step.html. A state never
promises more than the shop knows: "being confirmed" while the provider hasn't answered, never
"paid" before the money is in.
"""

from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import COMPLETED
from models.orders.order import DISPATCHED
from models.orders.order import PAID

PAY = "pay"  # unpaid, nothing under way: the customer has something to do
CONFIRMING = "confirming"  # a card payment the provider hasn't confirmed yet
TRANSFER = "transfer"  # waiting for the customer's bank transfer
PREPARING = "preparing"  # paid, to be dispatched (or made ready for pickup)
ON_ITS_WAY = "on_its_way"  # dispatched (for a pickup: ready to collect)
DONE = "done"
CANCELLED_STATE = "cancelled"


def next_step(order, paying=None):
    """The state of `order` for the customer; `paying` is a card payment being confirmed, if any."""
    if order.status == CANCELLED:
        return CANCELLED_STATE
    if order.status == PAID:
        return PREPARING
    if order.status == DISPATCHED:
        return ON_ITS_WAY
    if order.status == COMPLETED:
        return DONE
    if paying is not None:
        return CONFIRMING
    if order.payment_method == BANK and order.bank_amount:
        return TRANSFER
    return PAY
