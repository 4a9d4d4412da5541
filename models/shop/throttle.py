"""Growing delays after failed attempts, kept in the database so every worker sees them.

No hard lockout: an attacker guessing a customer's password only slows
themselves down. Counters clear on success and are forgotten after two
quiet hours.
"""

import datetime

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


# scope -> (free attempts, seconds of delay doubling every `step` failures after that)
POLICIES = {
    "ip": (20, 5),  # one address, any accounts: shared Wi-Fi gets room
    "account": (3, 1),  # one address guessing one account
    "mail": (3, 1),  # emails (reset, codes) asked for one address
}


def delay_for(scope, failures):
    free, step = POLICIES[scope]
    if failures < free:
        return 0
    return min(2 ** ((failures - free) // step), MAX_DELAY_SECONDS)


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
    now = now or utcnow()
    with write_transaction():
        for key in keys.values():
            row = ThrottleCounter.get_or_none(ThrottleCounter.key == key)
            if row is None or now - row.last_failure_at > FORGET_AFTER:
                failures = 1
            else:
                failures = row.failures + 1
            ThrottleCounter.insert(key=key, failures=failures, last_failure_at=now).on_conflict(
                conflict_target=[ThrottleCounter.key],
                update={ThrottleCounter.failures: failures, ThrottleCounter.last_failure_at: now},
            ).execute()


def clear(*keys):
    with write_transaction():
        ThrottleCounter.delete().where(ThrottleCounter.key.in_(list(keys))).execute()


def forget_old(now):
    with write_transaction():
        ThrottleCounter.delete().where(ThrottleCounter.last_failure_at < now - FORGET_AFTER).execute()
