"""The minute tick: one short job that asks the database what is due and does it.

State lives in the database, so restarts, missed ticks and daylight-saving
changes cost nothing. Later features add their due-work here.
"""

from jobs.health import TICK
from models.heartbeat import beat

DUE_WORK = []


def due_work(function):
    """Register `function(now)` to run on every tick."""
    DUE_WORK.append(function)
    return function


def tick(now):
    for work in DUE_WORK:
        work(now)
    beat(TICK, now)
