"""The minute tick: one short job that asks the database what is due and does it.

State lives in the database, so restarts, missed ticks and daylight-saving
changes cost nothing. Later features add their due-work here.
"""

import logging

from jobs.health import TICK
from models.heartbeat import beat

log = logging.getLogger("shop.jobs")

DUE_WORK = []


def due_work(function):
    """Register `function(now)` to run on every tick."""
    if function not in DUE_WORK:
        DUE_WORK.append(function)
    return function


def tick(now):
    """Run each piece of due work, then record the heartbeat.

    One piece failing (a bug in one feature) must not stop the others: its
    error is logged and the rest still run. Each piece opens its own write
    transactions, so a failure rolls back only its own work.
    """
    for work in list(DUE_WORK):
        try:
            work(now)
        except Exception:
            log.exception("due work %s failed", getattr(work, "__qualname__", work))
    beat(TICK, now)
