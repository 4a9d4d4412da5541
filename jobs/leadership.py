"""Which `flask jobs` runs the scheduler: one for the whole shop, however many hosts run it.

SQLite (one host): the lock file in the instance folder (jobs/lock.py); a second process exits.

PostgreSQL (maybe several hosts): the scheduler's advisory lock (models/operations/advisory_locks.py),
held on a connection of its own, opened here with psycopg2 and nothing else on it (not from a
pool, not through PgBouncer in transaction mode: JOBS_DATABASE_URL may name the server directly).
Commands that must not run beside the jobs (restore, copy-to-postgres) take the same lock
(`scheduler_stopped`). The process that gets the lock leads; the others stand by, asking again every few seconds, and
take over within seconds of the leader's connection ending. The leader proves it still holds the
lock every few seconds and before each job; when it cannot (connection lost, backend terminated,
lock gone), it stops at once: another host may already lead.

TCP keepalives on both ends of the lock connection make a dead peer show quickly: the server
ends the session of a host that died or was cut off (freeing the lock for a standby) within
about KEEPALIVE_IDLE + KEEPALIVE_INTERVAL × KEEPALIVE_COUNT seconds, and the leader notices a
server that went away as fast; TCP_USER_TIMEOUT bounds a query whose answer never comes.
(On a Unix socket none of this applies: the kernel tells both ends at once.)
"""

import contextlib
import logging
import threading
import time

import click
import psycopg2
from flask import current_app

from jobs.lock import acquire_lock
from jobs.lock import AlreadyRunning
from models.base import is_postgres_url
from models.base import make_database
from models.operations import advisory_locks

log = logging.getLogger("shop.jobs")

KEEPALIVE_IDLE = 5  # seconds of silence before the first probe
KEEPALIVE_INTERVAL = 2  # seconds between probes
KEEPALIVE_COUNT = 3  # unanswered probes before the connection counts as dead
USER_TIMEOUT_MS = 10_000  # unacknowledged data for this long also ends the connection
CONNECT_TIMEOUT = 5
KEEPALIVES = {
    # libpq's side: the leader learns quickly that the server is gone.
    "keepalives": 1,
    "keepalives_idle": KEEPALIVE_IDLE,
    "keepalives_interval": KEEPALIVE_INTERVAL,
    "keepalives_count": KEEPALIVE_COUNT,
    "tcp_user_timeout": USER_TIMEOUT_MS,
    "connect_timeout": CONNECT_TIMEOUT,
    # The server's side, set for this session only: it frees the lock of a host that is gone.
    "options": (
        f"-c tcp_keepalives_idle={KEEPALIVE_IDLE} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL}"
        f" -c tcp_keepalives_count={KEEPALIVE_COUNT} -c tcp_user_timeout={USER_TIMEOUT_MS}"
    ),
}


class FileLeadership:
    """SQLite: the lock file, held for the life of the process; it cannot be lost."""

    def __init__(self, handle):
        self._handle = handle
        self.lost = threading.Event()  # never set

    def still_held(self):
        return True

    def release(self):
        self._handle.close()


class PostgresLeadership:
    """The scheduler's advisory lock on its own connection. `lost` is set the first time the
    lock cannot be proved held; the scheduler stops then."""

    def __init__(self, connection):
        self._connection = connection
        self._using = threading.Lock()  # the job threads and the main thread share the connection
        self.lost = threading.Event()

    def still_held(self):
        if self.lost.is_set():
            return False
        try:
            with self._using, self._connection.cursor() as cursor:
                cursor.execute(advisory_locks.HOLDS_SQL, advisory_locks.keys(advisory_locks.SCHEDULER))
                held = cursor.fetchone()[0]
        except psycopg2.Error as error:
            log.error("lost the scheduler's lock: its connection failed (%s)", str(error).strip())
            held = False
        else:
            if not held:
                log.error("lost the scheduler's lock: this connection no longer holds it")
        if not held:
            self.lost.set()
        return held

    def release(self):
        """Close the connection, which frees the lock (if the server still had it)."""
        try:
            self._connection.close()
        except psycopg2.Error:
            pass


def hold_now(config):
    """The scheduler's lock if nobody holds it, else raise AlreadyRunning (no waiting)."""
    url = jobs_database_url(config)
    if not is_postgres_url(url):
        return FileLeadership(acquire_lock(config["JOBS_LOCK_PATH"]))
    connection = lock_connection(url)
    if not try_lock(connection):
        connection.close()
        raise AlreadyRunning("the scheduler's advisory lock")
    return PostgresLeadership(connection)


@contextlib.contextmanager
def scheduler_stopped():
    """Hold the scheduler's lock (refused while a `flask jobs` leads), so no job writes meanwhile
    and no standby starts leading: for restore and copy-to-postgres."""
    try:
        held = hold_now(current_app.config)
    except AlreadyRunning:
        on_every_host = " on every host" if is_postgres_url(jobs_database_url(current_app.config)) else ""
        raise click.ClickException(
            f"The scheduler is running (flask jobs): stop the shop's services{on_every_host} first."
        ) from None
    try:
        yield
    finally:
        held.release()


def jobs_database_url(config):
    return config["JOBS_DATABASE_URL"] or config["DATABASE_URL"]


def lead(config):
    """Become the shop's one scheduler: a FileLeadership or PostgresLeadership.

    On SQLite raises jobs.lock.AlreadyRunning when another process holds the lock file. On PostgreSQL
    waits (standby) until this process gets the lock, asking every JOBS_STANDBY_RETRY_SECONDS.
    """
    url = jobs_database_url(config)
    if not is_postgres_url(url):
        return hold_now(config)
    retry = config["JOBS_STANDBY_RETRY_SECONDS"]
    said_waiting = False
    while True:
        try:
            connection = lock_connection(url)
        except psycopg2.Error as error:
            log.warning(
                "cannot reach the database to ask for the lead (%s); trying again", str(error).strip()
            )
            time.sleep(retry)
            continue
        try:
            while not try_lock(connection):
                if not said_waiting:
                    log.info("waiting to lead: another process runs the shop's scheduler")
                    said_waiting = True
                time.sleep(retry)
        except psycopg2.Error as error:
            log.warning(
                "lost the database connection while waiting to lead (%s); reconnecting", str(error).strip()
            )
            connection.close()
            time.sleep(retry)
            continue
        except BaseException:  # SIGTERM or Ctrl-C while standing by
            connection.close()
            raise
        log.info("leading: this process runs the shop's scheduler")
        return PostgresLeadership(connection)


def try_lock(connection):
    with connection.cursor() as cursor:
        cursor.execute(advisory_locks.TRY_LOCK_SQL, advisory_locks.keys(advisory_locks.SCHEDULER))
        return cursor.fetchone()[0]


def lock_connection(url):
    """A new psycopg2 connection to `url` for the lock alone: autocommit, keepalives on."""
    database = make_database(url)
    params = {**database.connect_params, **KEEPALIVES}
    if database.connect_params.get("options"):  # the URL's own server settings, then ours
        params["options"] = f"{database.connect_params['options']} {KEEPALIVES['options']}"
    connection = psycopg2.connect(dbname=database.database, **params)
    connection.autocommit = True
    return connection
