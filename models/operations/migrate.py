"""Apply and inspect the numbered schema migrations under migrations/."""

import contextlib
import logging
import time
from pathlib import Path

from playhouse.migrations import Runner

from models.base import db
from models.base import is_sqlite
from models.operations import advisory_locks
from models.shop.settings import seed_settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# How long a host waits for another host's migration before giving up (a large table's new index
# can take minutes), and how often it asks.
MIGRATE_LOCK_TIMEOUT_SECONDS = 15 * 60
MIGRATE_LOCK_POLL_SECONDS = 0.5

log = logging.getLogger("shop.migrate")


class MigrationLockTimeout(Exception):
    pass


def runner():
    return Runner(db.obj, str(MIGRATIONS_DIR))


def apply_migrations(environ=None, timeout=MIGRATE_LOCK_TIMEOUT_SECONDS):
    """Apply every pending migration, then, on the shop's first run, save its settings from the
    environment (`environ`, default os.environ); returns the names applied.

    This is where the environment seeds the settings (`flask migrate`, run before the web
    workers start, and `flask demo`): explicitly, once, never as a side effect of a read.
    On PostgreSQL it holds the migrations' lock meanwhile: hosts starting together migrate one
    after the other, and the later ones find nothing left to do.
    """
    with migrations_lock(timeout), no_statement_limit():
        applied = runner().up()
        seed_settings(environ)
    return applied


@contextlib.contextmanager
def no_statement_limit():
    """A new index on a large table may take longer than a page's DATABASE_STATEMENT_TIMEOUT: on
    PostgreSQL the migrations run without it (the lock limit stays: a migration waiting behind
    the shop's transactions gives up rather than queue every page behind it)."""
    if is_sqlite():
        yield
        return
    db.execute_sql("SET statement_timeout = 0")
    try:
        yield
    finally:
        db.execute_sql("RESET statement_timeout")  # the connection's own (a pooled one is reused)


@contextlib.contextmanager
def migrations_lock(timeout):
    """Hold PostgreSQL's migrations lock on the bound connection (nothing to do on SQLite, where
    one host writes and its write lock already serialises two migrates)."""
    if is_sqlite():
        yield
        return
    key = advisory_locks.keys(advisory_locks.MIGRATIONS)
    deadline = time.monotonic() + timeout
    said_so = False
    while not db.execute_sql(advisory_locks.TRY_LOCK_SQL, key).fetchone()[0]:
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"Another host has been migrating the database for over {timeout:.0f} seconds;"
                " giving up (run `flask migrate` again once it has finished)."
            )
        if not said_so:
            log.warning("another host is migrating the database: waiting for it to finish")
            said_so = True
        time.sleep(MIGRATE_LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        db.execute_sql(advisory_locks.UNLOCK_SQL, key)


def pending_migrations():
    return [m.name for m in runner().status() if m.path and not m.applied]
