"""Ledger transfers per second against raw SQLite commits per second, on one file, in one run.

    .venv/bin/python -m bench.ledger_bench [--seconds 1] [--rounds 7] [--dir /some/disk] [--floor]

Builds a fresh migrated SQLite file with the project's pragmas (WAL,
synchronous=FULL, foreign keys, busy timeout), then measures:

  raw     sqlite3 directly: BEGIN IMMEDIATE; one INSERT of an entry-sized row; COMMIT
  ledger  models.funds.ledger.transfer(): alternating top-ups and spends of one customer,
          each with its own idempotency key (one journal, two entries, two balance
          updates, the customer's debit guarded, per transfer)
  floor   (--floor) transfer()'s statements straight through sqlite3: what the
          schema and the disk cost, the most transfer() could reach

The two alternate in short rounds, so a change in the machine's load hits
both alike, and the medians are compared (the goal is a ratio of at least
0.5). The file lives on the project's own disk (instance/, next to the shop's
database) unless --dir says otherwise: with synchronous=FULL every commit
waits for the disk, so a memory filesystem (tmpfs) makes the ratio
meaningless; the filesystem used is printed. Prints figures only.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = PROJECT / "instance"  # git-ignored; where the shop's own database lives
MEMORY_FILESYSTEMS = {"tmpfs", "ramfs"}

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS bench_raw_row (
    id INTEGER PRIMARY KEY,
    journal_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    category VARCHAR(255) NOT NULL,
    funds_part INTEGER NOT NULL,
    credit_part INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    credit_limit_at INTEGER NOT NULL,
    created_at DATETIME NOT NULL
)
"""


def prepare(path):
    """A migrated database file with the shop's settings and one customer; returns the customer's id."""
    from models.accounts.administration import create_user
    from models.base import bind_database
    from models.base import db
    from models.funds.customer_accounts import account_for
    from models.operations.migrate import apply_migrations
    from models.shop.settings import load_settings

    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        apply_migrations()
        load_settings()
        customer = create_user("bench@example.com", password=None)
        account_for(customer)
        return customer.id


def filesystem_of(path):
    """(mount point, filesystem type, device) holding `path`, from /proc/self/mounts."""
    path = os.path.realpath(path)
    found = ("/", "unknown", "unknown")
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                device, mount_point, kind = line.split()[:3]
                mount_point = mount_point.replace("\\040", " ")
                inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
                if inside and len(mount_point) >= len(found[0]):
                    found = (mount_point, kind, device)
    except OSError:
        pass  # not Linux: the type stays unknown
    return found


def raw_connection(path):
    """sqlite3 with exactly the pragmas and busy timeout models.base gives the app."""
    from models.base import BUSY_TIMEOUT_SECONDS
    from models.base import SQLITE_PRAGMAS

    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    for name, value in SQLITE_PRAGMAS.items():
        connection.execute(f"PRAGMA {name} = {value}")
    return connection


def measure_raw(path, seconds):
    connection = raw_connection(path)
    connection.execute(RAW_TABLE)
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT INTO bench_raw_row (journal_id, account_id, amount, category, funds_part,"
            " credit_part, balance_after, credit_limit_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (count, 7, -1250, "spend", 1250, 0, 98750, 0, "2026-11-22 07:00:00.000000"),
        )
        connection.execute("COMMIT")
        count += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return count / elapsed


def measure_ledger(customer_id, seconds, run):
    from models.base import db
    from models.funds.customer_accounts import account_for
    from models.funds.ledger import Leg
    from models.funds.ledger import PROVIDER_CLEARING
    from models.funds.ledger import SALES
    from models.funds.ledger import system_account
    from models.funds.ledger import transfer
    from models.users.user import User

    with db.connection_context():
        account = account_for(User.get_by_id(customer_id))
        clearing = system_account(PROVIDER_CLEARING)
        sales = system_account(SALES)
        count = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            if count % 2 == 0:
                legs = [Leg(clearing, -1250, "deposit"), Leg(account, 1250, "deposit")]
                transfer(f"bench-{run}-{count}", "top_up", legs)
            else:
                legs = [Leg(account, -1250, "spend"), Leg(sales, 1250, "spend")]
                transfer(f"bench-{run}-{count}", "order", legs)
            count += 1
        elapsed = time.perf_counter() - started
    return count / elapsed


# The statements transfer() runs for one deposit or spend, straight through sqlite3
# (--floor): what the schema and the disk cost without Python and Peewee around them.
FLOOR_STATEMENTS = (
    ('SELECT "timezone" FROM "shop_settings" WHERE "id" = 1', False),
    (
        'INSERT INTO "journal" ("idempotency_key", "kind", "memo", "request_hash", "created_by_id",'
        ' "corrects_id", "created_at", "local_date") VALUES (:key, :kind, \'\', :hash, NULL, NULL, :at, :day)'
        ' ON CONFLICT ("idempotency_key") DO NOTHING RETURNING "id"',
        True,
    ),
    (
        'UPDATE "ledger_account" SET "balance" = "balance" + :out WHERE "id" = :payer'
        ' AND (:guarded = 0 OR "balance" + :out + "credit_limit" >= 0) RETURNING "balance", "credit_limit"',
        False,
    ),
    (
        'UPDATE "ledger_account" SET "balance" = "balance" - :out WHERE "id" = :payee'
        ' RETURNING "balance", "credit_limit"',
        False,
    ),
    (
        'INSERT INTO "entry" ("journal_id", "account_id", "amount", "category", "funds_part", "credit_part",'
        ' "balance_after", "credit_limit_at", "created_at", "local_date") VALUES'
        " (:journal, :payer, :out, :category, 0, 0, 0, 0, :at, :day),"
        " (:journal, :payee, -:out, :category, 0, 0, 0, 0, :at, :day)",
        False,
    ),
)


def measure_floor(path, customer_id, seconds, run):
    connection = raw_connection(path)
    ids = dict(connection.execute('SELECT "code", "id" FROM "ledger_account"').fetchall())
    customer = connection.execute(
        'SELECT "id" FROM "ledger_account" WHERE "user_id" = ?', (customer_id,)
    ).fetchone()[0]
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        deposit = count % 2 == 0
        values = {
            "key": f"floor-{run}-{count}",
            "kind": "top_up" if deposit else "order",
            "hash": "0" * 32,
            "at": "2026-11-22 07:00:00.000000",
            "day": "2026-11-22",
            "out": -1250,
            "payer": ids["provider_clearing"] if deposit else customer,
            "payee": customer if deposit else ids["sales"],
            "guarded": 0 if deposit else 1,
            "category": "deposit" if deposit else "spend",
        }
        connection.execute("BEGIN IMMEDIATE")
        for sql, gives_journal in FLOOR_STATEMENTS:
            row = connection.execute(sql, values).fetchone()
            if gives_journal:
                values["journal"] = row[0]
        connection.execute("COMMIT")
        count += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return count / elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=7, help="alternate raw/ledger this many times")
    parser.add_argument(
        "--dir", default=None, help=f"where to put the database file (default: {DEFAULT_DIR})"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database file afterwards")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run transfer()'s statements straight through sqlite3 (what the schema and disk cost)",
    )
    args = parser.parse_args(argv)

    parent = Path(args.dir) if args.dir else DEFAULT_DIR
    parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ledger-bench-", dir=parent))
    path = workdir / "bench.sqlite3"
    try:
        customer_id = prepare(path)
        with raw_connection(path) as connection:
            settings = {
                name: connection.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        mount_point, kind, device = filesystem_of(workdir)
        print(f"database: {path}")
        print(f"filesystem: {kind} ({device} mounted at {mount_point})")
        if kind in MEMORY_FILESYSTEMS:
            print("  WARNING: a memory filesystem makes fsync free; the ratio means little. Use --dir.")
        print(f"sqlite {sqlite3.sqlite_version}; pragmas {settings} (synchronous 2 = FULL)")
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )

        raw_rates, ledger_rates, floor_rates = [], [], []
        for run in range(args.rounds):
            raw_rates.append(measure_raw(path, args.seconds))
            ledger_rates.append(measure_ledger(customer_id, args.seconds, run))
            line = (
                f"  round {run + 1}: raw {raw_rates[-1]:7.1f} commits/s, ledger {ledger_rates[-1]:7.1f}"
                f" transfers/s, ratio {ledger_rates[-1] / raw_rates[-1]:.2f}"
            )
            if args.floor:
                floor_rates.append(measure_floor(path, customer_id, args.seconds, run))
                line += f"; floor {floor_rates[-1]:7.1f}/s, ratio {floor_rates[-1] / raw_rates[-1]:.2f}"
            print(line, flush=True)

        raw, ledger = statistics.median(raw_rates), statistics.median(ledger_rates)
        print(f"raw SQLite BEGIN IMMEDIATE; INSERT; COMMIT: {raw:8.1f} per second (median)")
        print(f"ledger transfer() (deposit/spend pairs):     {ledger:8.1f} per second (median)")
        if floor_rates:
            floor = statistics.median(floor_rates)
            print(f"transfer()'s statements through sqlite3:    {floor:8.1f} per second (median)")
            print(f"ratio floor/raw: {floor / raw:.2f} (the most transfer() could reach with this schema)")
        print(f"ratio ledger/raw: {ledger / raw:.2f} (goal >= 0.5)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        from models.base import db
        from models.funds.ledger import check_ledger

        with db.connection_context():
            problems = check_ledger()
        print("ledger check afterwards:", "passed" if not problems else problems)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file: make the project importable
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
