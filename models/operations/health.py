"""What /healthz and the owner's dashboard report about the shop's machinery: database, migrations, scheduler, mail."""

import datetime

from models.base import db
from models.base import utcnow
from models.operations.migrate import pending_migrations
from models.shop.heartbeat import last_beat
from models.shop.outbox import counts_by_state
from models.shop.outbox import FAILED
from models.shop.outbox import QUEUED
from models.shop.outbox import SENDING
from models.shop.outbox import UNKNOWN

TICK = "tick"
# The tick runs every minute; three missed ticks mean the scheduler is down.
TICK_STALE_AFTER = datetime.timedelta(minutes=3)


def health_report():
    try:
        db.execute_sql("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return {"ok": False, "database": f"unreachable: {type(error).__name__}"}
    pending = pending_migrations()
    if pending:
        return {"ok": False, "database": "ok", "migrations": {"pending": pending}}
    counts = counts_by_state()
    last_tick = last_beat(TICK)
    tick_age = None if last_tick is None else round((utcnow() - last_tick).total_seconds())
    return {
        "ok": True,
        "database": "ok",
        "migrations": "applied",
        "scheduler": {
            "last_tick_age_seconds": tick_age,
            "healthy": tick_age is not None and tick_age < TICK_STALE_AFTER.total_seconds(),
        },
        "mail": {
            "waiting": counts[QUEUED] + counts[SENDING],
            "failed": counts[FAILED],
            "unknown": counts[UNKNOWN],
        },
    }
