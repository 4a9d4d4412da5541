"""The database handle, the base model and the one way to open a write transaction."""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl
from urllib.parse import unquote
from urllib.parse import urlsplit

from peewee import DatabaseProxy
from peewee import Model
from peewee import PostgresqlDatabase
from peewee import SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

db = DatabaseProxy()

BUSY_TIMEOUT_SECONDS = 10

SQLITE_PRAGMAS = {
    # Before journal_mode, which creates a new file: 2 KiB pages halve what every commit
    # writes and waits for (a money movement dirties a dozen pages; bench/README.md).
    # A no-op on an existing file, which keeps its page size.
    "page_size": 2048,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": 2,  # FULL: a committed payment survives a power cut
    "cache_size": -16000,
    # Overwritten and deleted content is zeroed, not left in free space: a backup copies pages
    # as they are, and an outbox message's sign-in link erased after sending must not be in it.
    "secure_delete": 1,
}


@dataclass(frozen=True)
class PostgresLimits:
    """How the shop's PostgreSQL connections are kept and bounded (README, Several web hosts).

    A pool keeps up to `pool_size` connections open per process (a new one costs 5-12 ms); a
    request waits `pool_wait` seconds for a free one. A statement running longer than
    `statement_timeout` seconds, or waiting longer than `lock_timeout` for a row another
    transaction holds, is cancelled (0 turns a limit off). The error pages answer 503."""

    pool_size: int = 0  # 0: no pool, a connection opened and closed each time
    pool_wait: float = 2.0
    statement_timeout: float = 0
    lock_timeout: float = 0

    def connection_options(self, given=""):
        """libpq's `options` with the time limits added to any the URL gave."""
        limits = [
            f"-c {name}={round(seconds * 1000)}"
            for name, seconds in (
                ("statement_timeout", self.statement_timeout),
                ("lock_timeout", self.lock_timeout),
            )
            if seconds
        ]
        return " ".join([given, *limits]).strip()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


def make_database(url, busy_timeout=BUSY_TIMEOUT_SECONDS, limits=PostgresLimits()):
    """A Peewee database for `url`: a SQLite file path, sqlite:///path or postgresql://…

    A PostgreSQL URL's query parameters are passed to libpq as connection
    keywords, so a Unix socket folder is given as `?host=/run/postgresql`
    (`postgresql://user@/dbname?host=/run/postgresql&port=5433`) and options
    such as `sslmode=require` work too.
    """
    parts = urlsplit(url)
    if is_postgres_url(url):
        params = {
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "host": unquote(parts.hostname) if parts.hostname else None,
            "port": parts.port,
        }
        params.update(parse_qsl(parts.query))
        if options := limits.connection_options(params.pop("options", "")):
            params["options"] = options
        name = unquote(parts.path.lstrip("/"))
        if limits.pool_size:
            # stale_timeout: a connection idle for 5 minutes is replaced (a restarted server,
            # a firewall that forgets quiet connections).
            return PooledPostgresqlDatabase(
                name,
                autoconnect=False,
                max_connections=limits.pool_size,
                timeout=limits.pool_wait,
                stale_timeout=300,
                **params,
            )
        return PostgresqlDatabase(name, autoconnect=False, **params)
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url
    return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=busy_timeout, autoconnect=False)


def is_postgres_url(url):
    return urlsplit(url).scheme in ("postgres", "postgresql")


def bind_database(url, busy_timeout=BUSY_TIMEOUT_SECONDS, limits=PostgresLimits()):
    """Point the shared proxy at `url`. Opens no connection (fork safety)."""
    database = make_database(url, busy_timeout, limits)
    db.initialize(database)
    return database


def is_sqlite():
    return isinstance(db.obj, SqliteDatabase)


def write_transaction():
    """Open a transaction that may write.

    On SQLite it takes the write lock at BEGIN (`BEGIN IMMEDIATE`), so a
    check-then-write inside it can never be overtaken by another writer and
    a busy database waits for the busy timeout instead of failing at COMMIT.
    """
    if is_sqlite():
        return db.atomic("IMMEDIATE")
    return db.atomic()


@contextmanager
def connection():
    """A connection for work outside a request (jobs, CLI); reuses an open one."""
    if not db.is_closed():
        yield
        return
    with db.connection_context():
        yield


def utcnow():
    """The current instant as naive UTC, the only form instants are stored in."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def to_naive_utc(moment):
    """A timezone-aware datetime as naive UTC for storage."""
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def as_aware_utc(stored):
    """A stored naive-UTC datetime as an aware one."""
    return None if stored is None else stored.replace(tzinfo=datetime.UTC)


class Followers:
    """What a domain higher up does after a change in a lower one, inside the same transaction.

    A lower domain cannot import the ones built on it, so it announces the change by calling
    its Followers; they are set in one place only, models/reactions.py (create_app connects
    them). Everything else that follows an event is a plain call.
    """

    def __init__(self, change):
        self.change = change  # what is announced, for people reading the code
        self._functions = None

    def set(self, *functions):
        self._functions = functions

    def __call__(self, *args):
        if self._functions is None:  # a change nobody follows would leave derived data wrong
            raise RuntimeError(f"Nothing follows {self.change!r}: call models.reactions.connect() first.")
        for function in self._functions:
            function(*args)
