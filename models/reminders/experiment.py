"""Who is held out and which wording a reminder gets: random, reproducible, recorded.

The unit is the customer: all their orders are in one group, with one wording. A customer reminded
about one order might pay another held-out one because of it; drawing per customer keeps the
held-out group free of anyone a reminder reached, so the difference measured is the reminders'
own. Every reminder about an order has the same group and wording, so its 48 hours are never
mixed between a held-out reminder and a real one.

Both draws come from one keyed BLAKE2b hash (a keyed hash made for this: RFC 7693; three times
faster than HMAC-SHA256, which counts when a plan draws for 50,000 orders) of the customer id
under the shop's seed (made once by migration 0042): its first 8 bytes decide the group,
the next 8 the wording, each read as a number in [0, 1). The same answer on every tick, after a
restart and on a second scheduler, with no state to keep. The plan writes the answer on the
reminder row before anything is sent (`Reminder.arm`, `Reminder.variant`), and from then on the
row is the truth: a later change of the share or of the wordings changes only rows planned later.
"""

import hashlib

from models.reminders.records import HELD_OUT
from models.reminders.records import REMINDED

SCALE = 2.0**64


def draws(seed, customer_id):
    """(group draw, wording draw): two numbers in [0, 1), the same for the same arguments,
    unpredictable without the seed."""
    digest = hashlib.blake2b(b"%d" % customer_id, key=seed.encode()[:64], digest_size=16).digest()
    return int.from_bytes(digest[:8], "big") / SCALE, int.from_bytes(digest[8:], "big") / SCALE


def assignment(seed, holdout_percent, has_variant_b, customer_id):
    """(arm, variant) of a planned reminder: HELD_OUT for about `holdout_percent` % of customers,
    else REMINDED; "B" for half the customers when the segment has a wording B, else "A". The two
    draws are apart, so the split between A and B is the same among the customers reminded."""
    if holdout_percent <= 0 and not has_variant_b:
        return REMINDED, "A"
    group, wording = draws(seed, customer_id)
    arm = HELD_OUT if group * 100 < holdout_percent else REMINDED
    return arm, "B" if has_variant_b and wording < 0.5 else "A"


def arm_for(seed, holdout_percent, customer_id):
    """REMINDED, or HELD_OUT for about `holdout_percent` % of customers."""
    return assignment(seed, holdout_percent, False, customer_id)[0]


def variant_for(seed, has_variant_b, customer_id):
    """ "A", or "B" for half the customers when the segment's template has a wording B."""
    return assignment(seed, 0, has_variant_b, customer_id)[1]
