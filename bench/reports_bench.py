"""The owner's reports over one year of a busy shop: server time per report page and CSV.

    .venv/bin/python -m bench.reports_bench [--requests 5] [--rebuild] [--dir DIR]
    .venv/bin/python -m bench.reports_bench --small      # every size divided by 20

The database is the payment-reminder bench's shop (bench/reminders_bench.py:
100,000 customers, 1,000,000 orders over a year, reminders sent in every
dispatch window) with 1,000,000 ledger entries over the same year added the
way the funds-page bench writes them (bench/funds_page_bench.py), three in ten
orders paid partly with funds, one paid shop order in fifty refunded in part three days
after it was paid (the sales report), and two changes of the top-up minimum in the audit
trail (the order-value report's markers). It is built once and kept in
instance/bench-cache/ (named by the sizes, a data version and a digest of the
migrations); building takes several minutes and about 1 GB.

It signs in as the owner through the Flask test client and GETs each report
for the year before the reminder bench's planning day, grouped by month, with
no filter and with a customer group, plus its CSV and the dashboard; prints
the median and the slowest of --requests runs in milliseconds (goal: under
1,000 ms each). In-process, no network.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import datetime
import hashlib
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from bench import funds_page_bench
from bench import reminders_bench

PROJECT = Path(__file__).resolve().parent.parent
DATA_VERSION = 2  # 2: refunds of paid orders (the sales report)
OWNER_EMAIL = "owner@bench.example"
GOAL_MS = 1000
REPORTS = ("sales", "deposits", "roll-forward", "usage", "order-value", "credit", "reminders")


def cache_path(directory, customers, orders, entries):
    digest = hashlib.sha256(f"{DATA_VERSION}-{reminders_bench.DATA_VERSION}".encode())
    for migration in sorted((PROJECT / "migrations").glob("*.py")):
        digest.update(migration.name.encode() + migration.read_bytes())
    return Path(directory) / f"reports-{customers}-{orders}-{entries}-{digest.hexdigest()[:12]}.sqlite3"


def build(path, customers, orders, entries, at_text):
    started = time.perf_counter()
    shop_path = path.with_suffix(".shop")
    reminders_bench.build(shop_path, customers, orders, max(1000, orders // 50), at_text)
    app, instance = funds_page_bench.make_app(shop_path)
    with app.app_context():
        from models.accounts.administration import create_user
        from models.base import db
        from models.groups.group import CustomerGroup
        from models.users.user import OWNER

        with db.connection_context():
            create_user(OWNER_EMAIL, funds_page_bench.PASSWORD, role=OWNER, first_name="Owner")
            CustomerGroup.get_or_create(name="VIP", defaults={"open_to_applications": True})
            system, customer_ids = _accounts(shop_path)
    at = reminders_bench.parse_at(at_text, datetime.UTC).replace(tzinfo=None)
    start = at - datetime.timedelta(days=365)
    funds_page_bench._history(shop_path, entries, customer_ids[0], customer_ids[1:], system, start, 365)
    _shop_details(shop_path, at)
    shop_path.rename(path)
    print(f"  built {path.name} in {time.perf_counter() - started:.0f} s", flush=True)


def _accounts(path):
    """Ledger accounts for every customer; a tenth of the customers in the VIP group."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        "INSERT INTO ledger_account (code, user_id, balance, credit_limit, created_at)"
        " SELECT 'customer:' || id, id, 0, 0, '2025-01-01 00:00:00' FROM user WHERE role = 'customer'"
        " AND id NOT IN (SELECT user_id FROM ledger_account WHERE user_id IS NOT NULL)"
    )
    connection.execute(
        "UPDATE user SET group_id = (SELECT id FROM customer_group WHERE name = 'VIP')"
        " WHERE role = 'customer' AND id % 10 = 0"
    )
    connection.execute("COMMIT")
    system = dict(connection.execute("SELECT code, id FROM ledger_account WHERE user_id IS NULL"))
    customers = [
        row[0] for row in connection.execute("SELECT id FROM ledger_account WHERE user_id IS NOT NULL")
    ]
    connection.close()
    return system, customers


def _shop_details(path, at):
    """Three in ten paid shop orders partly paid with funds; one in fifty refunded in part (a
    third, to funds) three days after it was paid; two changes of the top-up minimum."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        'UPDATE "order" SET funds_used = total / 2, card_amount = total - total / 2, bank_amount = 0'
        " WHERE id % 10 < 3 AND channel = 'shop' AND paid_at IS NOT NULL"
    )
    connection.execute(
        "INSERT INTO order_refund (order_id, user_id, amount, destination, to_account, to_card, to_bank,"
        " funds_part, credit_part, card_part, bank_part, card_state, failure, attempts, note,"
        " idempotency_key, created_at, updated_at)"
        " SELECT id, user_id, total / 3, 'funds', total / 3, 0, 0, 0, 0, 0, total / 3, '', '', 0, '',"
        " 'bench-refund:' || id, datetime(paid_at, '+3 days'), datetime(paid_at, '+3 days')"
        " FROM \"order\" WHERE id % 50 = 7 AND channel = 'shop' AND paid_at IS NOT NULL AND total >= 3"
    )
    connection.execute(
        'UPDATE "order" SET refunded = total / 3 WHERE id IN (SELECT order_id FROM order_refund)'
    )
    for days_back, before, after in ((200, 1000, 2000), (60, 2000, 1500)):
        moment = (at - datetime.timedelta(days=days_back)).isoformat(" ")
        connection.execute(
            "INSERT INTO audit_entry (actor_id, action, target, before, after, at)"
            " VALUES (NULL, 'settings_changed', 'shop settings', ?, ?, ?)",
            (f'{{"topup_min": {before}}}', f'{{"topup_min": {after}}}', moment),
        )
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def measure(path, at_text, requests):
    app, instance = funds_page_bench.make_app(path)
    client = app.test_client()
    funds_page_bench.sign_in(client, OWNER_EMAIL)
    last = reminders_bench.parse_at(at_text, datetime.UTC).date()
    first = last - datetime.timedelta(days=364)
    period = f"period=custom&date_from={first}&date_to={last}&by=month"
    with app.app_context():
        from models.base import db
        from models.groups.group import CustomerGroup

        with db.connection_context():
            vip = CustomerGroup.get(CustomerGroup.name == "VIP").id
    urls = [("dashboard", "/admin/")]
    for key in REPORTS:
        urls.append((key, f"/admin/reports/{key}?{period}"))
        urls.append((f"{key} (VIP group)", f"/admin/reports/{key}?{period}&group={vip}"))
        urls.append((f"{key} CSV", f"/admin/reports/{key}.csv?{period}"))
    results = {}
    for name, url in urls:
        funds_page_bench.timed_get(client, url)  # warm up
        times = [funds_page_bench.timed_get(client, url) for _ in range(requests)]
        results[name] = (statistics.median(times), max(times))
        print(f"  {name:<28} p50 {results[name][0]:7.0f} ms   max {results[name][1]:7.0f} ms", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--small", action="store_true", help="every size divided by 20")
    parser.add_argument("--dir", default=str(reminders_bench.CACHE_DIR))
    args = parser.parse_args(argv)
    divisor = 20 if args.small else 1
    customers, orders, entries = 100_000 // divisor, 1_000_000 // divisor, 1_000_000 // divisor
    at_text = reminders_bench.DEFAULT_AT
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    path = cache_path(args.dir, customers, orders, entries)
    if args.rebuild or not path.exists():
        print(f"building {customers:,} customers, {orders:,} orders, {entries:,} ledger entries…", flush=True)
        path.unlink(missing_ok=True)
        build(path, customers, orders, entries, at_text)
    print(f"reports over one year: {path} (load average {os.getloadavg()[0]:.1f})", flush=True)
    results = measure(path, at_text, args.requests)
    slowest = max(results.items(), key=lambda item: item[1][0])
    verdict = "meets" if slowest[1][0] < GOAL_MS else "misses"
    print(f"slowest: {slowest[0]} at p50 {slowest[1][0]:.0f} ms: {verdict} the goal of {GOAL_MS} ms")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
