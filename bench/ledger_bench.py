"""Ledger transfers per second against raw SQLite commits per second, on one file, in one run.

    .venv/bin/python -m bench.ledger_bench [--seconds 5] [--rounds 1] [--dir /some/disk]

Builds a fresh migrated SQLite file with the project's pragmas (WAL,
synchronous=FULL, foreign keys, busy timeout), then measures:

  raw     sqlite3 directly: BEGIN IMMEDIATE; one INSERT of an entry-sized row; COMMIT
  ledger  models.ledger.transfer(): alternating top-ups and spends of one customer,
          each with its own idempotency key (one journal, two entries, two guarded
          balance updates per transfer)

and prints both rates and their ratio (the goal is at least 0.5). With several
rounds the two alternate and the median of each is used. Prints figures only.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

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
    from models.base import bind_database
    from models.base import db
    from models.ledger import account_for
    from models.migrate import apply_migrations
    from models.settings import load_settings
    from models.user import create_user

    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        apply_migrations()
        load_settings()
        customer = create_user("bench@example.com", password=None)
        account_for(customer)
        return customer.id


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
    from models.ledger import account_for
    from models.ledger import Leg
    from models.ledger import PROVIDER_CLEARING
    from models.ledger import SALES
    from models.ledger import system_account
    from models.ledger import transfer
    from models.user import User

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--rounds", type=int, default=1, help="alternate raw/ledger this many times")
    parser.add_argument("--dir", default=None, help="where to put the database file (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the database file afterwards")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ledger-bench-", dir=args.dir))
    path = workdir / "bench.sqlite3"
    try:
        customer_id = prepare(path)
        with raw_connection(path) as connection:
            settings = {
                name: connection.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        print(f"database: {path}")
        print(f"sqlite {sqlite3.sqlite_version}; pragmas {settings} (synchronous 2 = FULL)")
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )

        raw_rates, ledger_rates = [], []
        for run in range(args.rounds):
            raw_rates.append(measure_raw(path, args.seconds))
            print(f"  round {run + 1}: raw {raw_rates[-1]:8.1f} commits/s", flush=True)
            ledger_rates.append(measure_ledger(customer_id, args.seconds, run))
            print(f"  round {run + 1}: ledger {ledger_rates[-1]:8.1f} transfers/s", flush=True)

        raw, ledger = statistics.median(raw_rates), statistics.median(ledger_rates)
        print(f"raw SQLite BEGIN IMMEDIATE; INSERT; COMMIT: {raw:8.1f} per second")
        print(f"ledger transfer() (deposit/spend pairs):     {ledger:8.1f} per second")
        print(f"ratio ledger/raw: {ledger / raw:.2f} (goal >= 0.5)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        from models.base import db
        from models.ledger import check_ledger

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
