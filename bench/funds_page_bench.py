"""My Account funds pages' server time with a long ledger history: p50 and p95 per page.

    .venv/bin/python -m bench.funds_page_bench [--requests 200] [--sizes 10000,1000000] [--rebuild]

For each size (a number of ledger entries in the whole database) it builds
a migrated SQLite file once and keeps it under instance/bench-cache/ (named
by the size, the data version and a digest of the migrations, so a schema
change builds a new one and a rerun starts in seconds). The history is
written straight into the tables in big transactions and is consistent, so
`models.funds.ledger.check_ledger()` passes on it: balanced journals, cached
balances equal to their entries, running balances, the funds/credit split,
local dates in shop time. It is spread over many light customers (about 60
entries each) and one heavy customer with a fifth of all entries (200,000 of
1,000,000).

Then it signs in through the Flask test client, as the heavy customer and as
a light one, and times each page over --requests requests (after a few
warm-up ones): the funds page, the history's first page, a deep history page
(150,000 movements back for the heavy customer at 1,000,000) and a filtered
first page. The sizes take turns in batches of 20 requests, so a change in
the machine's load touches all alike. Prints p50 and p95 in milliseconds, per
size side by side, so a page whose time grows with history shows it. Times
are server side: the test client calls the app in-process, no network, no
browser.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import datetime
import hashlib
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT / "instance" / "bench-cache"  # git-ignored
DATA_VERSION = 2  # bump when the generated data changes shape
PASSWORD = "bench password 1"  # noqa: S105 (throwaway bench accounts)
CHEAP_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
HEAVY_EMAIL = "heavy@bench.example"
LIGHT_EMAIL = "light@bench.example"
LIGHT_CUSTOMER_ENTRIES = 60  # about this many entries in each light customer's own history
CHUNK = 50_000
HISTORY_START = datetime.datetime(2023, 1, 1, 6, 0)
HISTORY_DAYS = 1000


# Building the database ---------------------------------------------------------


def cache_path(size):
    migrations = sorted((PROJECT / "migrations").glob("*.py"))
    digest = hashlib.sha256(str(DATA_VERSION).encode())
    for migration in migrations:
        digest.update(migration.name.encode() + migration.read_bytes())
    return CACHE_DIR / f"funds-{size}-{digest.hexdigest()[:12]}.sqlite3"


def make_app(path):
    from shop import create_app

    instance = Path(tempfile.mkdtemp(prefix="funds-bench-instance-"))
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": f"sqlite:///{path}",
            "PASSWORD_HASH_COST": CHEAP_HASH,
            "SMTP_HOST": "",
            "JOBS_LOCK_PATH": str(instance / "jobs.lock"),
        }
    ), instance


def build(path, size):
    """A migrated database at `path` with `size` consistent ledger entries."""
    started = time.perf_counter()
    building = path.with_suffix(".building")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    app, instance = make_app(building)
    try:
        with app.app_context():
            from models.base import db
            from models.operations.migrate import apply_migrations

            with db.connection_context():
                apply_migrations()
                heavy_id, light_ids, system = _people(size)
            _history(building, size, heavy_id, light_ids, system)
            with db.connection_context():
                from models.funds.ledger import check_ledger

                problems = check_ledger()
            if problems:
                raise SystemExit(f"the generated ledger is inconsistent: {problems[:5]}")
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    connection = sqlite3.connect(building)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    building.rename(path)
    print(f"  built {path.name} in {time.perf_counter() - started:.0f} s (ledger check passed)", flush=True)


def _people(size):
    """The two customers the bench signs in as, the other light customers and the system
    accounts; returns (heavy account id, light account ids, {code: account id})."""
    from models.accounts.administration import create_user
    from models.base import write_transaction
    from models.funds.customer_accounts import account_for
    from models.funds.ledger import LedgerAccount
    from models.groups.group import default_group
    from models.shop.settings import load_settings
    from models.users.user import User

    load_settings()
    heavy = account_for(create_user(HEAVY_EMAIL, PASSWORD, first_name="Heavy"))
    light = account_for(create_user(LIGHT_EMAIL, PASSWORD, first_name="Light"))
    # Light customers' journals are three in five, with one customer entry each.
    others = max(1, size * 3 // 10 // LIGHT_CUSTOMER_ENTRIES - 1)
    group = default_group().id
    with write_transaction():
        for start in range(0, others, 1000):
            rows = [
                {"email": f"customer{n}@bench.example", "first_name": "Light", "group": group}
                for n in range(start, min(others, start + 1000))
            ]
            User.insert_many(rows).execute()
        user_ids = [uid for (uid,) in User.select(User.id).where(User.email.startswith("customer")).tuples()]
        for start in range(0, len(user_ids), 1000):
            LedgerAccount.insert_many(
                [
                    {"code": f"customer:{uid}", "user": uid, "created_at": HISTORY_START}
                    for uid in user_ids[start : start + 1000]
                ]
            ).execute()
    light_ids = [light.id] + [
        account_id
        for (account_id,) in LedgerAccount.select(LedgerAccount.id)
        .where(LedgerAccount.code.startswith("customer:") & (LedgerAccount.id != heavy.id))
        .tuples()
        if account_id != light.id
    ]
    system = dict(
        LedgerAccount.select(LedgerAccount.code, LedgerAccount.id)
        .where(LedgerAccount.user.is_null())
        .tuples()
    )
    return heavy.id, light_ids, system


def journal_owners(journals, heavy_id, light_ids):
    """The customer of each journal, in time order: the heavy customer has two journals
    in five (a fifth of all entries, as every journal has two entries), the light ones
    take turns with the rest."""
    light = 0
    for number in range(journals):
        if number % 5 in (0, 2):
            yield heavy_id
        else:
            yield light_ids[light % len(light_ids)]
            light += 1


def _movement(random_, balance, journal_id):
    """(kind, category, memo, other account's code, amount for the customer) of one journal:
    mostly spends while there is money, top-ups otherwise, now and then a bonus."""
    if balance >= 500 and random_.random() < 0.6:
        amount = random_.randrange(100, min(balance, 6000) + 1)
        return "order", "spend", f"Order {journal_id}", "sales", -amount
    if random_.random() < 0.1:
        return "top_up", "bonus", "", "promotions", random_.randrange(100, 1000)
    return (
        "top_up",
        "deposit",
        f"Top-up {journal_id} by card",
        "provider_clearing",
        random_.randrange(1000, 10001),
    )


def _history(path, size, heavy_id, light_ids, system, start=HISTORY_START, days=HISTORY_DAYS):
    """Journals of two entries each from `start` over `days`, written straight into the tables."""
    from models.base import db
    from models.shop.settings import load_settings

    with db.connection_context():
        zone = zoneinfo.ZoneInfo(load_settings().timezone)
    journals = size // 2
    step = datetime.timedelta(days=days) / max(1, journals)
    random_ = random.Random(20261122)
    balances = dict.fromkeys([heavy_id, *light_ids, *system.values()], 0)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    first_journal = (connection.execute("SELECT COALESCE(MAX(id), 0) FROM journal").fetchone()[0]) + 1
    first_entry = (connection.execute("SELECT COALESCE(MAX(id), 0) FROM entry").fetchone()[0]) + 1
    journal_rows, entry_rows = [], []

    def flush():
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO journal (id, idempotency_key, kind, memo, request_hash, created_by_id,"
            " corrects_id, created_at, local_date) VALUES (?, ?, ?, ?, 'bench', NULL, NULL, ?, ?)",
            journal_rows,
        )
        connection.executemany(
            "INSERT INTO entry (id, journal_id, account_id, amount, category, funds_part, credit_part,"
            " balance_after, credit_limit_at, created_at, local_date) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)",
            entry_rows,
        )
        connection.execute("COMMIT")
        journal_rows.clear()
        entry_rows.clear()

    entry_id = first_entry
    for number, customer in enumerate(journal_owners(journals, heavy_id, light_ids)):
        journal_id = first_journal + number
        at = start + step * number
        created_at = at.isoformat(" ", "microseconds")
        local_date = at.replace(tzinfo=datetime.UTC).astimezone(zone).date().isoformat()
        kind, category, memo, other, customer_amount = _movement(random_, balances[customer], journal_id)
        funds_part = -customer_amount if customer_amount < 0 else 0  # no credit: all from funds
        other = system[other]
        journal_rows.append((journal_id, f"bench:{journal_id}", kind, memo, created_at, local_date))
        for account, amount_, part in ((customer, customer_amount, funds_part), (other, -customer_amount, 0)):
            balances[account] += amount_
            entry_rows.append(
                (
                    entry_id,
                    journal_id,
                    account,
                    amount_,
                    category,
                    part,
                    balances[account],
                    created_at,
                    local_date,
                )
            )
            entry_id += 1
        if len(entry_rows) >= CHUNK:
            flush()
    flush()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "UPDATE ledger_account SET balance = ? WHERE id = ?", [(b, a) for a, b in balances.items()]
    )
    connection.execute("COMMIT")
    connection.close()


# Timing the pages -------------------------------------------------------------------


def sign_in(client, email):
    html = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, f"sign-in as {email} failed: {response.status_code}"


def timed_get(client, url):
    """Milliseconds to GET `url`; the answer must be a 200."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return elapsed * 1000


def percentiles(times):
    """(p50, p95) of `times`."""
    times = sorted(times)
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def deep_history_url(path, email, entries_back):
    """The history page that starts `entries_back` movements from the customer's newest, as
    its Older links lead there (?before= the entry just newer than the page)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (entry_id,) = connection.execute(
        "SELECT entry.id FROM entry JOIN ledger_account ON ledger_account.id = entry.account_id"
        " JOIN user ON user.id = ledger_account.user_id WHERE user.email = ?"
        " ORDER BY entry.local_date DESC, entry.id DESC LIMIT 1 OFFSET ?",
        (email, entries_back - 1),
    ).fetchone()
    connection.close()
    return f"/account/funds/history?before={entry_id}"


def measure(paths, requests, batch=20, warm_up=5):
    """{(customer, page): {size: (p50, p95)}} for the databases {size: path}.

    The databases take turns in batches of `batch` requests per page, so a change in
    the machine's load (other work on it) touches every size alike.
    """
    from models.base import db
    from models.base import make_database

    app, instance = make_app(next(iter(paths.values())))
    databases = {size: make_database(f"sqlite:///{path}") for size, path in paths.items()}
    targets = {}  # (customer, page) -> {size: (signed-in client, url)}
    try:
        for size, path in paths.items():
            db.initialize(databases[size])
            for who, email in (("heavy", HEAVY_EMAIL), ("light", LIGHT_EMAIL)):
                client = app.test_client()
                sign_in(client, email)
                pages = {
                    "funds page": "/account/funds",
                    "history, first page": "/account/funds/history",
                    "history, spends only": "/account/funds/history?category=spend",
                }
                if who == "heavy":
                    pages["history, deep page"] = deep_history_url(path, email, int(size * 0.15))
                for name, url in pages.items():
                    targets.setdefault((who, name), {})[size] = (client, url)
                    for _ in range(warm_up):
                        timed_get(client, url)
        times = {key: {size: [] for size in by_size} for key, by_size in targets.items()}
        for done in range(0, requests, batch):
            for key, by_size in targets.items():
                for size, (client, url) in by_size.items():
                    db.initialize(databases[size])
                    times[key][size] += [timed_get(client, url) for _ in range(min(batch, requests - done))]
            print(f"  {min(done + batch, requests)} of {requests} requests per page", flush=True)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    return {
        key: {size: percentiles(found) for size, found in by_size.items()} for key, by_size in times.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--sizes", default="10000,1000000", help="ledger entries in the database, comma-separated"
    )
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    paths = {}
    for size in sizes:
        paths[size] = cache_path(size)
        if args.rebuild or not paths[size].exists():
            print(f"building a database with {size:,} ledger entries (kept as {paths[size]})", flush=True)
            build(paths[size], size)
        print(f"{size:>9,} entries: {paths[size]}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    results = measure(paths, args.requests)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    print(f"\np50 / p95 in ms over {args.requests} requests (goal: under 20 ms, not growing with history)")
    print(f"{'ledger entries in the database':40s}" + "".join(f"{size:>18,}" for size in sizes))
    for (who, page), by_size in results.items():
        cells = "".join(
            f"{by_size[size][0]:>10.1f} /{by_size[size][1]:>6.1f}" if size in by_size else f"{'':>18}"
            for size in sizes
        )
        print(f"{who + ' customer, ' + page:40s}{cells}")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file: make the project importable
        sys.path.insert(0, str(PROJECT))
    sys.exit(main())
