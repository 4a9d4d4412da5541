"""Who is held out and which wording a reminder gets: random, reproducible, recorded.

The unit is the customer's unpaid order (customer id + order id). A customer gets at most one
reminder a day, about their newest unpaid order, so nobody is in both groups on a day; and an
order keeps its group and wording for every reminder about it, so the 48 hours after a held-out
reminder are never mixed with a real one about the same order.

Each draw is HMAC-SHA256 of the shop's seed (made once by migration 0042) over the purpose, the
customer and the order, read as a number in [0, 1): the same answer on every tick, after a
restart and on a second scheduler, with no state to keep. The plan writes the answer on the
reminder row before anything is sent (`Reminder.arm`, `Reminder.variant`), and from then on the
row is the truth: a later change of the share or of the wordings changes only rows planned later.
"""

import hmac

from models.reminders.records import HELD_OUT
from models.reminders.records import REMINDED

SCALE = 2.0**64


def draw(seed, purpose, customer_id, order_id):
    """A number in [0, 1), the same for the same arguments, unpredictable without the seed."""
    digest = hmac.digest(seed.encode(), f"{purpose}:{customer_id}:{order_id}".encode(), "sha256")
    return int.from_bytes(digest[:8], "big") / SCALE


def arm_for(seed, holdout_percent, customer_id, order_id):
    """REMINDED, or HELD_OUT for about `holdout_percent` % of orders."""
    if holdout_percent <= 0:
        return REMINDED
    held_out = draw(seed, "holdout", customer_id, order_id) * 100 < holdout_percent
    return HELD_OUT if held_out else REMINDED


def variant_for(seed, has_variant_b, customer_id, order_id):
    """ "A", or "B" for half the orders when the segment's template has a wording B. Drawn apart
    from the control group, so the split is the same among the orders that are sent."""
    if not has_variant_b:
        return "A"
    return "B" if draw(seed, "variant", customer_id, order_id) < 0.5 else "A"
