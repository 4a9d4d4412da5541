"""Growing delays after failed attempts, kept in the database so every worker sees them.

No hard lockout: an attacker guessing a customer's password only slows
themselves down. An account's own counter, over every address, slows guesses spread over many
addresses; the customer's browsers that signed in before skip it (views/throttling.py), so the
attacker cannot slow them. Counters are forgotten after two quiet hours; a success clears the
address's own counters.

Every failure is one atomic upsert (`failures + 1` computed by the database), so failures
recorded at the same moment by several workers all count.
"""

import datetime

from peewee import Case
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction

FORGET_AFTER = datetime.timedelta(hours=2)
MAX_DELAY_SECONDS = 3600


class ThrottleCounter(BaseModel):
    key = CharField(primary_key=True)
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField()


# scope -> (free attempts, seconds of delay doubling every `step` failures after that, longest delay)
POLICIES = {
    "ip": (20, 5, MAX_DELAY_SECONDS),  # one address, any accounts: shared Wi-Fi gets room
    "account": (3, 1, MAX_DELAY_SECONDS),  # one address guessing one account
    "everywhere": (10, 1, 15 * 60),  # one account guessed from any number of addresses
}


def delay_for(scope, failures):
    free, step, longest = POLICIES[scope]
    if failures < free:
        return 0
    return min(2 ** ((failures - free) // step), longest)


def retry_after(keys, now=None):
    """Seconds to wait before another attempt for any of `keys` ({scope: key}); 0 when free."""
    now = now or utcnow()
    wait = 0
    rows = {
        row.key: row for row in ThrottleCounter.select().where(ThrottleCounter.key.in_(list(keys.values())))
    }
    for scope, key in keys.items():
        row = rows.get(key)
        if row is None or now - row.last_failure_at > FORGET_AFTER:
            continue
        until = row.last_failure_at + datetime.timedelta(seconds=delay_for(scope, row.failures))
        wait = max(wait, int((until - now).total_seconds() + 0.999))
    return wait


def record_failure(keys, now=None):
    """One more failure on each key, counted by the database itself (never read, then written)."""
    now = now or utcnow()
    still_remembered = ThrottleCounter.last_failure_at >= now - FORGET_AFTER
    with write_transaction():
        for key in sorted(keys.values()):  # one order everywhere: concurrent upserts never deadlock
            ThrottleCounter.insert(key=key, failures=1, last_failure_at=now).on_conflict(
                conflict_target=[ThrottleCounter.key],
                update={
                    ThrottleCounter.failures: Case(
                        None, [(still_remembered, ThrottleCounter.failures + 1)], 1
                    ),
                    ThrottleCounter.last_failure_at: now,
                },
            ).execute()


def clear(*keys):
    with write_transaction():
        ThrottleCounter.delete().where(ThrottleCounter.key.in_(list(keys))).execute()


def forget_old(now):
    with write_transaction():
        ThrottleCounter.delete().where(ThrottleCounter.last_failure_at < now - FORGET_AFTER).execute()
