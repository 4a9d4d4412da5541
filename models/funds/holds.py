"""Money on hold for orders, as the ledger keys it and as it reads back: held, paid or released.

Placing an order moves its funds and credit parts from the customer to FUNDS_ON_HOLD (journal
kind `order_hold`, key `order-hold:<order id>`); paying the order captures the hold into SALES
(`order_capture`, `order-capture:<order id>`); cancelling it releases the hold back to the
customer (`order_release`, `order-release:<order id>`). A cancelled order taken up again (a card
payment arrived late) holds again: that round's hold and release keys end in `:<round>`. More
holds of a round may follow (paying more of the order from the account later): their keys are
the round's hold key, "/" and a form's key, and the round's one capture or release covers them
too. models/orders writes these journals with `journal_key`; their memos begin "Order <number>".

Funds sits below orders, so the fate of a hold is read from the ledger alone: a release of its
round means the order was cancelled, a capture of its order that it was paid, neither that it
still awaits payment. A hold lives exactly as long as its unpaid order (the release and the
capture are written in the transaction that changes the order's status), so this is the order's
state as far as the customer's money goes.
"""

import re

from models.funds.ledger import Entry
from models.funds.ledger import Journal

HOLD_KIND = "order_hold"


RELEASE_KIND = "order_release"


HELD = "held"  # the order awaits payment


PAID = "paid"  # the hold was captured: the order is paid


RELEASED = "released"  # the hold came back: the order was cancelled


_KEY = re.compile(r"order-hold:([0-9]+)(?::([0-9]+))?(?:/.+)?")  # order id, round, a later hold's form key


_NUMBER = re.compile(r"Order (\S+)")


_CHUNK = 400  # keys per IN (...) query


def journal_key(what, order_id, hold_round=1):
    """The idempotency key of an order's `hold`, `capture` or `release` journal."""
    return f"order-{what}:{order_id}" + (f":{hold_round}" if hold_round > 1 else "")


def order_number(journal):
    """The order number an order journal's memo begins with, or None."""
    found = _NUMBER.match(journal.memo or "")
    return found.group(1) if found else None


def fates(hold_keys):
    """{hold journal key: HELD, PAID or RELEASED} for the given `order-hold:` keys, in one query
    per few hundred keys. Keys of another shape are left out."""
    closing = {}
    for key in set(hold_keys):
        parsed = _KEY.fullmatch(key)
        if parsed:
            order_id, hold_round = int(parsed.group(1)), int(parsed.group(2) or 1)
            closing[key] = (journal_key("release", order_id, hold_round), journal_key("capture", order_id))
    wanted = [key for pair in closing.values() for key in pair]
    found = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            key
            for (key,) in Journal.select(Journal.idempotency_key)
            .where(Journal.idempotency_key.in_(chunk))
            .tuples()
        )
    return {
        key: RELEASED if release in found else PAID if capture in found else HELD
        for key, (release, capture) in closing.items()
    }


def on_hold(account):
    """What the customer's ledger `account` has on hold for orders that still await payment."""
    holds = list(
        Entry.select(Journal.idempotency_key, Entry.amount)
        .join(Journal)
        .where((Entry.account == account) & (Entry.category == "hold") & (Journal.kind == HOLD_KIND))
        .tuples()
    )
    fate = fates(key for key, _amount in holds)
    return sum(-amount for key, amount in holds if fate.get(key) == HELD)
