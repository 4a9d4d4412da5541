"""A customer's movements as they read them: pages of history (keyset), filters, the CSV rows, and
what each line says (`described`), the one wording the history page, its CSV and the monthly
statements share (the owner's ledger view shows the journals as recorded).

The ledger is append-only, so what a line says is derived when it is read, never written back:
an order's hold reads as held, paid or released by what happened to it since (holds.py).
"""

import re
from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import Tuple

from models.funds.adjustments import adjustment_words
from models.funds.customer_accounts import account_for
from models.funds.holds import fates
from models.funds.holds import HELD
from models.funds.holds import HOLD_KIND
from models.funds.holds import order_number
from models.funds.holds import PAID
from models.funds.holds import RELEASE_KIND
from models.funds.holds import RELEASED
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.top_ups import TopUp

CATEGORY_LABELS = {
    "deposit": lazy_gettext("Top-up"),
    "bonus": lazy_gettext("Bonus"),
    "bonus_reversal": lazy_gettext("Bonus taken back"),
    "spend": lazy_gettext("Purchase"),
    "hold": lazy_gettext("Orders"),
    "capture": lazy_gettext("Payment"),
    "release": lazy_gettext("Released"),
    "refund_in": lazy_gettext("Refund"),
    "refund_out": lazy_gettext("Refund paid out"),
    "adjustment": lazy_gettext("Adjustment"),
    "reward": lazy_gettext("Reward"),
    "repayment": lazy_gettext("Repayment"),
}


# An order's hold as the customer reads it, by its fate; and the line that gives a hold back.
HOLD_WORDS = {
    HELD: lazy_gettext("Held for order %(number)s"),
    PAID: lazy_gettext("Paid for order %(number)s"),
    RELEASED: lazy_gettext("Held for order %(number)s, released later"),
}


RELEASE_WORDS = lazy_gettext("Released: order %(number)s was cancelled")


# What the customer reads for a movement's memo. The ledger keeps each memo as it was written,
# in English (it is append-only, and the owner's ledger view shows it as recorded); the history,
# its CSV and the statements read it in the reader's language: each shape of memo the shop writes
# (models/funds, models/orders, models/refunds) and its message, the parts it names kept as
# written. A memo of no known shape (an older wording) is shown as it is.
def _memo_words():
    order_status = {
        "awaiting payment": lazy_gettext("Card payment for order %(number)s, which was awaiting payment"),
        "paid": lazy_gettext("Card payment for order %(number)s, which was paid"),
        "dispatched": lazy_gettext("Card payment for order %(number)s, which was dispatched"),
        "completed": lazy_gettext("Card payment for order %(number)s, which was completed"),
        "cancelled": lazy_gettext("Card payment for order %(number)s, which was cancelled"),
    }
    shapes = [
        (r"Top-up (?P<id>\d+) by card", lazy_gettext("Top-up %(id)s by card")),
        (r"Repayment (?P<id>\d+) by card", lazy_gettext("Repayment %(id)s by card")),
        (r"Welcome bonus", lazy_gettext("Welcome bonus")),
        (
            r"Bank transfer received, reference (?P<reference>.+)",
            lazy_gettext("Bank transfer received, reference %(reference)s"),
        ),
        (r"Order (?P<number>\S+)", lazy_gettext("Order %(number)s")),
        (r"Order (?P<number>\S+) \(on hold\)", lazy_gettext("Order %(number)s (on hold)")),
        (
            r"Order (?P<number>\S+) cancelled \(hold released\)",
            lazy_gettext("Order %(number)s cancelled (hold released)"),
        ),
        (
            r"Order (?P<number>\S+) reinstated \(on hold\)",
            lazy_gettext("Order %(number)s reinstated (on hold)"),
        ),
        (r"Order (?P<number>\S+) by card", lazy_gettext("Order %(number)s by card")),
        (r"Order (?P<number>\S+) by bank transfer", lazy_gettext("Order %(number)s by bank transfer")),
        *(
            (rf"Card payment for order (?P<number>\S+), which was {status}", words)
            for status, words in order_status.items()
        ),
        (
            r"Bank transfer for order (?P<number>\S+), which was cancelled",
            lazy_gettext("Bank transfer for order %(number)s, which was cancelled"),
        ),
        (r"Refund for order (?P<number>\S+)", lazy_gettext("Refund for order %(number)s")),
        (
            r"Card refund for order (?P<number>\S+) didn't go through",
            lazy_gettext("Card refund for order %(number)s didn't go through"),
        ),
        (r"Refund to card of top-up (?P<id>\d+)", lazy_gettext("Refund to card of top-up %(id)s")),
        (
            r"Refund to card of top-up (?P<id>\d+) didn't go through: money put back",
            lazy_gettext("Refund to card of top-up %(id)s didn't go through: money put back"),
        ),
        (
            r"Bonus given up when the account was deleted",
            lazy_gettext("Bonus given up when the account was deleted"),
        ),
        (
            r"Referral reward: Someone you referred paid their first order",
            lazy_gettext("Referral reward: someone you referred paid their first order"),
        ),
        (
            r"Referral reward: (?P<name>.+) paid their first order",
            lazy_gettext("Referral reward: %(name)s paid their first order"),
        ),
        *_reward_taken_back(),
    ]
    return [(re.compile(pattern, re.DOTALL), words) for pattern, words in shapes]


def _reward_taken_back():
    """The memos of a referral reward taken back (models/refunds/gifts.py), by why and how much."""
    why = {
        "refunded": (
            lazy_gettext("Referral reward taken back: %(name)s's first order was refunded"),
            lazy_gettext(
                "Referral reward taken back: %(name)s's first order was refunded (your balance no longer "
                "held any of the %(due)s: nothing taken)"
            ),
            lazy_gettext(
                "Referral reward taken back: %(name)s's first order was refunded (%(taken)s of %(due)s, "
                "all your balance still held)"
            ),
        ),
        "cancelled": (
            lazy_gettext("Referral reward taken back: %(name)s's first order was cancelled"),
            lazy_gettext(
                "Referral reward taken back: %(name)s's first order was cancelled (your balance no longer "
                "held any of the %(due)s: nothing taken)"
            ),
            lazy_gettext(
                "Referral reward taken back: %(name)s's first order was cancelled (%(taken)s of %(due)s, "
                "all your balance still held)"
            ),
        ),
    }
    start = r"Referral reward taken back: (?P<name>.+)'s first order was "
    for reason, (whole, nothing, part) in why.items():
        yield start + reason, whole
        yield (
            start + reason + r" \(your balance no longer held any of the (?P<due>\S+): nothing taken\)",
            nothing,
        )
        yield start + reason + r" \((?P<taken>\S+) of (?P<due>\S+), all your balance still held\)", part


_MEMO_WORDS = []  # compiled on first use


def memo_words(memo):
    """A movement's memo (written in English when it was recorded) in the reader's language."""
    if not _MEMO_WORDS:
        _MEMO_WORDS.extend(_memo_words())
    for pattern, words in _MEMO_WORDS:
        found = pattern.fullmatch(memo)
        if found:
            return words % found.groupdict() if found.groupdict() else str(words)
    return adjustment_words(memo) or memo


COUNT_CAP = 1000  # the history counts matching movements up to here, then says "more than"


# Newest shop day first, then newest entry: the order of the (account, [category,] day, id)
# indexes, so every page and filter reads only its own rows however long the history is.
_KEY = Tuple(Entry.local_date, Entry.id)


_NEWEST_FIRST = (Entry.local_date.desc(), Entry.id.desc())


_OLDEST_FIRST = (Entry.local_date, Entry.id)


@dataclass(frozen=True)
class HistoryPage:
    """One page of a customer's movements, newest first, and where its neighbours start."""

    entries: list  # with their journals
    newer: int | None  # the first entry's id, for ?after=, when newer movements exist
    older: int | None  # the last entry's id, for ?before=, when older movements exist
    count: int  # all matching movements, counted up to COUNT_CAP + 1


def movements(user, category=None, since=None, until=None):
    """The customer's ledger entries (what the history shows of them and their journals),
    newest first, optionally filtered by category and by shop day (`since`/`until`
    inclusive dates, the journal's local date)."""
    return _movements(account_for(user), category, since, until)


# What a page and the CSV show of each entry and its journal (fewer columns, less to build).
_SHOWN = (
    Entry.id,
    Entry.journal,
    Entry.category,
    Entry.amount,
    Entry.balance_after,
    Entry.created_at,
    Entry.local_date,
    Journal.id,
    Journal.kind,
    Journal.memo,
    Journal.idempotency_key,
)


def _movements(account, category, since, until, with_journals=True):
    query = Entry.select(*_SHOWN).join(Journal) if with_journals else Entry.select(Entry.id)
    query = query.where(Entry.account == account)
    if category:
        query = query.where(Entry.category == category)
    if since:
        query = query.where(Entry.local_date >= since)
    if until:
        query = query.where(Entry.local_date <= until)
    return query.order_by(*_NEWEST_FIRST)


def history(user, category=None, since=None, until=None, before=None, after=None, per_page=25):
    """The HistoryPage of movements older than entry `before`, newer than entry `after`, or
    the newest ones. Pages are cut at an entry (keyset), never counted off from the top, so
    a page deep in a long history costs what the first one does; an unknown or foreign
    entry id gives the newest page."""
    account = account_for(user)
    query = _movements(account, category, since, until)
    reading_back = before is not None or after is None
    if before is not None:
        page = query.where(_KEY < _key_of(account, before))
    elif after is not None:
        page = query.where(_KEY > _key_of(account, after)).order_by(*_OLDEST_FIRST)
    else:
        page = query
    entries = list(page.limit(per_page + 1))
    beyond = len(entries) > per_page  # more in the direction the page was read
    entries = entries[:per_page] if reading_back else entries[:per_page][::-1]
    linked = before is not None or after is not None
    if not entries:
        if linked:  # a link made up, or from before the filters changed
            return history(user, category, since, until, per_page=per_page)
        return HistoryPage([], None, None, 0)
    # The link's own entry lies on the side it came from: there is more that way.
    newer = beyond if not reading_back else linked
    older = beyond if reading_back else True
    count = _movements(account, category, since, until, with_journals=False).limit(COUNT_CAP + 1).count()
    return HistoryPage(entries, entries[0].id if newer else None, entries[-1].id if older else None, count)


def _key_of(account, entry_id):
    """The account's own entry `entry_id` as a (shop day, id) row, to compare keys with."""
    return Entry.select(Entry.local_date, Entry.id).where((Entry.id == entry_id) & (Entry.account == account))


def all_entries(user, category=None, since=None, until=None, batch=1000):
    """Every matching movement (for the CSV download) with its description (`described`), newest
    first, read in batches."""
    query = movements(user, category, since, until)
    rows = list(query.limit(batch))
    while rows:
        yield from described(rows)
        if len(rows) < batch:
            return
        last = rows[-1]
        rows = list(query.where(_KEY < Tuple(last.local_date, last.id)).limit(batch))


def described(entries):
    """[(entry, what the customer reads for it)] for entries read with their journals, in order;
    the fates of the holds among them cost one query."""
    entries = list(entries)
    fate = fates(entry.journal.idempotency_key for entry in entries if entry.journal.kind == HOLD_KIND)
    return [(entry, _description(entry, fate)) for entry in entries]


def _description(entry, fate):
    journal = entry.journal
    if journal.kind in (HOLD_KIND, RELEASE_KIND) and (number := order_number(journal)):
        if journal.kind == RELEASE_KIND:
            return RELEASE_WORDS % {"number": number}
        return HOLD_WORDS[fate.get(journal.idempotency_key, HELD)] % {"number": number}
    if entry.category == "bonus" and journal.kind == "top_up":
        found = _TOP_UP_MEMO.fullmatch(journal.memo or "")
        if found is None:
            return gettext("Top-up bonus")
        if found.group("what") == "Repayment":
            return gettext("Bonus for repayment %(id)s by card", id=found.group("id"))
        return gettext("Bonus for top-up %(id)s by card", id=found.group("id"))
    if journal.memo:
        return memo_words(journal.memo)
    return str(CATEGORY_LABELS.get(entry.category, entry.category))


_TOP_UP_MEMO = re.compile(r"(?P<what>Top-up|Repayment) (?P<id>\d+) by card")


def entries_of(user, limit=50, offset=0, category=None):
    """A customer's movements, newest first, each with its running balance (the owner's ledger view)."""
    query = (
        Entry.select(Entry, Journal)
        .join(Journal)
        .where(Entry.account == account_for(user))
        .order_by(Entry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if category:
        query = query.where(Entry.category == category)
    return list(query)


def has_money_history(user_id):
    """Whether money ever moved in the customer's account, or they started a top-up."""
    moved = Entry.select().join(LedgerAccount).where(LedgerAccount.user == user_id).exists()
    return moved or TopUp.select().where(TopUp.user == user_id).exists()
