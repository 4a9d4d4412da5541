"""Planning a payment-reminder batch over a big shop: time and peak memory, at several sizes.

    .venv/bin/python -m bench.reminders_bench [--customers 100000] [--orders 1000000]
        [--unpaid 200000] [--at 2026-11-26T10:05] [--dir DIR] [--rebuild] [--small]
        [--half-orders] [--no-half] [--explain] [--against REVISION [--rounds 3]]

Builds (once, kept under instance/bench-cache/ or --dir, named by the sizes,
the data version and a digest of migrations/) a migrated SQLite file with the
project's pragmas and a shop's worth of customers, orders and earlier
reminders, written straight into the tables with sqlite3 in big transactions.
It builds a second file with the same customers and total orders but half the
unpaid ones (and with --half-orders a third with half the orders and all the
unpaid ones), so the rows of the table show whether planning grows with the
unpaid orders or with the rest of the order history.

Each file is measured in a fresh Python process (so its peak RSS is the
planning's own; the builds run in processes of their own too, so this one
stays small), inside a Flask app context with a connection open:

  plan(at)              wall and CPU time of 3 runs (median), peak RSS growth
                        of the first run (/proc VmHWM reset before it, and
                        ru_maxrss), tracemalloc peak of a 4th run, the counts
                        by reason, and a 5th run timed per _Facts query
  plan_batch(window,at) once: its plan and the rows written, timed apart
  --explain             EXPLAIN QUERY PLAN of every query, with its time in SQLite alone

The batch it writes is deleted afterwards, so the kept file serves the next run
unchanged. Goal (issue 7): under 5 s and under 200 MB, growing no faster than
the number of unpaid orders. Prints figures only, asserts nothing.
--small divides every size by 20 for a quick run.

--against REVISION (issue 26): the plan time with a 10 % control group and a wording B in every
segment, against REVISION's plan on the same first database (its files from `git archive`, run in
a process of their own; the older code ignores the new columns), alternating in --rounds rounds.
Goal: within 10 % of REVISION's figure.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import bisect
import datetime
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CACHE_DIR = PROJECT / "instance" / "bench-cache"  # git-ignored
DATA_VERSION = 1  # bump when the generated data changes shape
DEFAULT_AT = "2026-11-26T10:05"  # a Thursday, inside the 10:00-11:00 window before the 11:00 dispatch
CHUNK = 50_000
TIME_GOAL = 5.0  # seconds
MEMORY_GOAL = 200  # MB

# The mix (fractions are of the count named in the comment).
UNPAID_SPAN_HOURS = 80  # unpaid orders were placed over the last 80 hours: 72 h auto-cancel → some overdue
POOL_PER_UNPAID = 0.4  # customers with unpaid orders per unpaid order: 2.5 unpaid orders each on average
UNPAID_MARKETPLACE = 0.01  # of unpaid orders: on a marketplace (the "marketplace" reason)
UNPAID_CARD = 0.4  # of unpaid shop orders: a card payment never completed (the rest bank transfers)
CONFIRMING = 0.03  # of unpaid card orders: a card payment started in the last hour
CANCELLED_SHARE = 0.05  # of the other orders: cancelled
MARKETPLACE_SHARE = 0.10  # of the other orders: imported from a marketplace, paid
PAID_TODAY = 0.03  # of customers: paid an order today, before the planning moment
NEW_COHORT, RETURNING_COHORT = 0.20, 0.15  # of customers: no paid order yet / exactly one
OPTED_OUT, DELETED, GROUP_OFF = 0.03, 0.005, 0.03  # of customers
EARLIER_REMINDED = 0.85  # of those eligible in each earlier window of the last days
HISTORY_REMINDED = 0.15  # of paid shop orders: reminded before they were paid
TODAY_EARLIER = 0.03  # of customers with unpaid orders: reminded in a batch earlier today
HISTORY_DAYS = 365
MARKETPLACES = ("amazon", "ebay", "etsy", "onbuy")

ORDER_INSERT = """
INSERT INTO "order" (
    id, user_id, number, status, channel, payment_method,
    billing_name, billing_company, billing_line1, billing_line2, billing_city, billing_region,
    billing_postal_code, billing_country, billing_phone,
    shipping_name, shipping_company, shipping_line1, shipping_line2, shipping_city, shipping_region,
    shipping_postal_code, shipping_country, shipping_phone,
    currency, subtotal, total, funds_used, card_amount, bank_amount, idempotency_key, created_at,
    paid_at, cancelled_at, auto_cancel_at, local_date, external_ref, marketplace_amount,
    dispatched_at, completed_at, funds_discount, credit_used, hold_round, refunded,
    delivery_name, delivery_price, delivery_estimate, delivery_pickup, delivery_details, language
) VALUES (
    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
    ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, 0, '', 0, '', 0, '', ''
)
"""
PAYMENT_INSERT = """
INSERT INTO order_payment (
    order_id, user_id, amount, currency, state, provider, provider_payment_id, redirect_url,
    outcome, idempotency_key, created_at, updated_at
) VALUES (?, ?, ?, ?, ?, 'sandbox', ?, '', ?, ?, ?, ?)
"""

# Order kinds in the compact sort key.
UNPAID, UNPAID_MARKET, PAID_SHOP, PAID_MARKET, CANCELLED_ORDER, PAID_TODAY_ORDER = range(6)


# Building the database ---------------------------------------------------------------------


def cache_path(directory, customers, orders, unpaid, at_text):
    """The kept database for these sizes and planning moment (the data is laid out around it)."""
    digest = hashlib.sha256(str(DATA_VERSION).encode())
    for migration in sorted((PROJECT / "migrations").glob("*.py")):
        digest.update(migration.name.encode() + migration.read_bytes())
    at = "".join(char for char in at_text if char.isalnum())
    name = f"reminders-{customers}-{orders}-{unpaid}-{at}-{digest.hexdigest()[:12]}.sqlite3"
    return Path(directory) / name


def make_app(path):
    from shop import create_app

    instance = Path(tempfile.mkdtemp(prefix="reminders-bench-instance-"))
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": f"sqlite:///{path}",
            "SMTP_HOST": "",
            "JOBS_LOCK_PATH": str(instance / "jobs.lock"),
        }
    )
    return app, instance


def parse_at(text, tz):
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def stamp(moment):
    """A naive-UTC datetime as the shop stores it."""
    return moment.isoformat(" ", "microseconds")


def build(path, customers, orders, unpaid, at_text):
    """A migrated database at `path` with the shop described in the module's constants."""
    started = time.perf_counter()
    building = path.with_suffix(".building")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    app, instance = make_app(building)
    try:
        with app.app_context():
            from models.base import db
            from models.groups.group import default_group
            from models.operations.migrate import apply_migrations
            from models.reminders.settings import load_reminder_settings
            from models.shop.settings import load_settings

            with db.connection_context():
                apply_migrations()
                settings = load_settings()
                reminder_settings = load_reminder_settings()
                tz = settings.tz
                context = {
                    "tz": tz,
                    "currency": settings.currency,
                    "auto_cancel": datetime.timedelta(hours=settings.auto_cancel_hours),
                    "default_group": default_group().id,
                    "reminder_settings": reminder_settings,
                    "at": parse_at(at_text, tz),
                }
            _Builder(building, customers, orders, unpaid, context).run()
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    connection = sqlite3.connect(building)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # No ANALYZE: the shop never runs it, so its queries are planned without statistics too.
    connection.close()
    building.rename(path)
    size = path.stat().st_size / 1e6
    print(f"  built {path.name} in {time.perf_counter() - started:.0f} s ({size:.0f} MB)", flush=True)


class _Builder:
    def __init__(self, path, customers, orders, unpaid, context):
        self.path = path
        self.customers, self.orders, self.unpaid = customers, orders, unpaid
        self.tz = context["tz"]
        self.currency = context["currency"]
        self.auto_cancel = context["auto_cancel"]
        self.default_group = context["default_group"]
        self.reminder_settings = context["reminder_settings"]
        at = context["at"].astimezone(datetime.UTC).replace(tzinfo=None)
        self.at = at  # naive UTC
        local = context["at"].astimezone(self.tz)
        self.today = local.date()
        day_start = datetime.datetime.combine(self.today, datetime.time(0), tzinfo=self.tz)
        self.day_start = day_start.astimezone(datetime.UTC).replace(tzinfo=None)
        self.start = at - datetime.timedelta(days=HISTORY_DAYS + 30)  # the key's time origin
        self.random = random.Random(20261126)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA synchronous = OFF")
        self.connection.execute("PRAGMA cache_size = -400000")  # 400 MB for the index inserts of the load
        self.unpaid_by_user = {}  # user id -> [(order id, created, auto_cancel_at)] of unpaid shop orders
        self.history_candidates = []  # (order id, user id, created, paid_at) of paid shop orders

    def local_date(self, moment):
        return moment.replace(tzinfo=datetime.UTC).astimezone(self.tz).date()

    def run(self):
        timer = time.perf_counter()
        first_user = self._users()
        print(f"  {self.customers:,} customers in {time.perf_counter() - timer:.0f} s", flush=True)
        timer = time.perf_counter()
        keys = self._order_keys(first_user)
        print(f"  {len(keys):,} orders drawn and sorted in {time.perf_counter() - timer:.0f} s", flush=True)
        timer = time.perf_counter()
        self._orders(keys)
        del keys
        print(f"  orders and card payments written in {time.perf_counter() - timer:.0f} s", flush=True)
        timer = time.perf_counter()
        written = self._reminders()
        print(f"  {written:,} earlier reminders written in {time.perf_counter() - timer:.0f} s", flush=True)
        self.connection.close()

    # Customers

    def _users(self):
        c = self.connection
        first = c.execute("SELECT COALESCE(MAX(id), 0) FROM user").fetchone()[0] + 1
        group_off = c.execute("SELECT id FROM customer_group WHERE is_default = 0 ORDER BY id").fetchone()[0]
        # The bench shop has turned reminders off for one group, and put a few customers in it.
        c.execute("UPDATE customer_group SET reminders_enabled = 0 WHERE id = ?", (group_off,))
        rng = self.random
        self.users = range(first, first + self.customers)
        self.opted_out = set()
        self.ineligible = set()  # opted out, deleted or in the group without reminders
        rows = []
        for n, user_id in enumerate(self.users):
            created = self.start - datetime.timedelta(days=rng.uniform(0, 700))
            roll = rng.random()
            opted = stamp(created + datetime.timedelta(days=30)) if roll < OPTED_OUT else None
            deleted = (
                stamp(self.at - datetime.timedelta(days=2))
                if OPTED_OUT <= roll < OPTED_OUT + DELETED
                else None
            )
            in_group_off = OPTED_OUT + DELETED <= roll < OPTED_OUT + DELETED + GROUP_OFF
            if roll < OPTED_OUT + DELETED + GROUP_OFF:
                self.ineligible.add(user_id)
            rows.append(
                (
                    user_id,
                    f"customer{n}@bench.example",
                    f"Customer{n}",
                    stamp(created),
                    group_off if in_group_off else self.default_group,
                    opted,
                    deleted,
                )
            )
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO user (id, email, password_hash, role, first_name, last_name,"
            " created_at, phone, source, group_id, reminders_opted_out_at, deleted_at, language)"
            " VALUES (?, ?, NULL, 'customer', ?, 'Bench', ?, '', 'self', ?, ?, ?, '')",
            rows,
        )
        c.execute("COMMIT")
        return first

    # Orders

    def _order_keys(self, first_user):
        """Every order as one int (created ms since self.start, user id, kind), sorted by time:
        ids go up with the time of placing, as in the shop."""
        rng = self.random
        users = list(self.users)
        rng.shuffle(users)
        new_end = int(len(users) * NEW_COHORT)
        returning = users[new_end : new_end + int(len(users) * RETURNING_COHORT)]
        loyal = users[new_end + len(returning) :] or users
        pool = rng.sample(users, max(1, min(len(users), round(self.unpaid * POOL_PER_UNPAID))))
        at_ms = int((self.at - self.start).total_seconds() * 1000)
        day_start_ms = int((self.day_start - self.start).total_seconds() * 1000)
        history_from = at_ms - HISTORY_DAYS * 86_400_000
        history_to = day_start_ms - 86_400_000  # paid within 20 hours: before today
        keys = []

        def key(ms, user, kind):
            return (ms << 32) | (user << 4) | kind

        span = UNPAID_SPAN_HOURS * 3_600_000
        for _ in range(self.unpaid):
            kind = UNPAID_MARKET if rng.random() < UNPAID_MARKETPLACE else UNPAID
            keys.append(key(at_ms - rng.randrange(1, span), rng.choice(pool), kind))
        rest = self.orders - self.unpaid
        paid_today = min(rest, round(self.customers * PAID_TODAY))
        for user in rng.sample(users, paid_today):
            keys.append(key(rng.randrange(day_start_ms, at_ms - 600_000), user, PAID_TODAY_ORDER))
        rest -= paid_today
        cancelled = round(rest * CANCELLED_SHARE)
        for _ in range(cancelled):
            keys.append(key(rng.randrange(history_from, history_to), rng.choice(users), CANCELLED_ORDER))
        rest -= cancelled
        for n in range(rest):
            kind = PAID_MARKET if rng.random() < MARKETPLACE_SHARE else PAID_SHOP
            user = returning[n] if n < len(returning) else rng.choice(loyal)
            keys.append(key(rng.randrange(history_from, history_to), user, kind))
        keys.sort()
        return keys

    def _orders(self, keys):
        rng = self.random
        c = self.connection
        first = c.execute('SELECT COALESCE(MAX(id), 0) FROM "order"').fetchone()[0] + 1
        order_rows, payment_rows = [], []
        address = ("Bench Customer", "", "1 High Street", "", "London", "", "SW1A 1AA", "GB", "")
        for offset, packed in enumerate(keys):
            order_id = first + offset
            kind = packed & 15
            user = (packed >> 4) & 0xFFFFFFF
            created = self.start + datetime.timedelta(milliseconds=packed >> 32)
            local_date = self.local_date(created)
            total = rng.randrange(500, 25_000)
            status, channel, method = "completed", "shop", "card"
            paid_at = cancelled_at = auto_cancel_at = dispatched_at = completed_at = external_ref = None
            marketplace_amount = 0
            key = f"{user}:bench-{order_id}"
            if kind in (UNPAID, UNPAID_MARKET):
                status = "pending_payment"
                if kind == UNPAID_MARKET:
                    channel, method = rng.choice(MARKETPLACES), "marketplace"
                    external_ref, marketplace_amount = f"MK-{order_id}", total
                    key = f"marketplace:{channel}:{external_ref}"
                else:
                    method = "card" if rng.random() < UNPAID_CARD else "bank"
                    auto_cancel_at = created + self.auto_cancel
                    self.unpaid_by_user.setdefault(user, []).append((order_id, created, auto_cancel_at))
                    if method == "card":
                        payment_rows.append(self._unpaid_card_payment(order_id, user, total, created))
            elif kind == CANCELLED_ORDER:
                status = "cancelled"
                method = "bank" if rng.random() < 0.6 else "card"
                auto_cancel_at = cancelled_at = created + self.auto_cancel
            else:
                paid_at = created + datetime.timedelta(seconds=rng.randrange(60, 20 * 3600))
                if kind == PAID_TODAY_ORDER:
                    paid_at = min(paid_at, created + datetime.timedelta(minutes=rng.randrange(1, 10)))
                if kind == PAID_MARKET:
                    channel, method = rng.choice(MARKETPLACES), "marketplace"
                    external_ref, marketplace_amount, paid_at = f"MK-{order_id}", total, created
                    key = f"marketplace:{channel}:{external_ref}"
                else:
                    method = rng.choice(("card", "card", "bank", "funds"))
                    if method != "funds":
                        auto_cancel_at = created + self.auto_cancel
                    if method == "card":
                        payment_rows.append(
                            (order_id, user, total, "succeeded", f"bench-pay-{order_id}", "paid_order",
                             f"bench-pay:{order_id}", stamp(paid_at - datetime.timedelta(seconds=30)), stamp(paid_at))
                        )  # fmt: skip
                    if rng.random() < HISTORY_REMINDED and kind == PAID_SHOP:
                        self.history_candidates.append((order_id, user, created, paid_at))
                age = self.at - created
                if age < datetime.timedelta(days=3):
                    status = "paid"
                elif age < datetime.timedelta(days=14):
                    status, dispatched_at = "dispatched", paid_at + datetime.timedelta(days=1)
                else:
                    dispatched_at = paid_at + datetime.timedelta(days=1)
                    completed_at = dispatched_at + datetime.timedelta(days=5)
            order_rows.append(
                (
                    order_id, user, f"{local_date:%y%m}-{order_id:05d}", status, channel, method,
                    *address, *address, self.currency, total, total,
                    total if method == "funds" else 0,
                    total if method == "card" and channel == "shop" else 0,
                    total if method == "bank" else 0,
                    key, stamp(created), paid_at and stamp(paid_at), cancelled_at and stamp(cancelled_at),
                    auto_cancel_at and stamp(auto_cancel_at), local_date.isoformat(), external_ref,
                    marketplace_amount, dispatched_at and stamp(dispatched_at), completed_at and stamp(completed_at),
                )
            )  # fmt: skip
            if len(order_rows) >= CHUNK:
                self._flush_orders(order_rows, payment_rows)
        self._flush_orders(order_rows, payment_rows)

    def _unpaid_card_payment(self, order_id, user, total, created):
        """The card payment of an unpaid card order: mostly abandoned or failed, a few still
        being confirmed (started within the hour, or in the last two minutes)."""
        rng = self.random
        roll = rng.random()
        started = created + datetime.timedelta(seconds=rng.randrange(20, 120))
        state = "failed" if roll < 0.3 else "pending"
        if roll >= 1 - CONFIRMING:  # a retry the customer is completing right now
            started = self.at - datetime.timedelta(seconds=rng.randrange(10, 3000))
            if started < created:
                started = created + datetime.timedelta(seconds=1)
        return (
            order_id, user, total, state, f"bench-pay-{order_id}", "", f"bench-pay:{order_id}",
            stamp(started), stamp(started),
        )  # fmt: skip

    def _flush_orders(self, order_rows, payment_rows):
        c = self.connection
        c.execute("BEGIN IMMEDIATE")
        c.executemany(ORDER_INSERT, order_rows)
        c.executemany(PAYMENT_INSERT, [(*row[:3], self.currency, *row[3:]) for row in payment_rows])
        c.execute("COMMIT")
        order_rows.clear()
        payment_rows.clear()

    # Earlier reminders

    def _windows(self, first, last):
        """(key, start, planning moment) of every dispatch window whose planning moment (5 minutes
        into the window) is in [first, last), naive UTC, as models.reminders lays them out."""
        from models.reminders.windows import dispatches

        settings = self.reminder_settings
        length = datetime.timedelta(minutes=settings.window_minutes)
        found = []
        day = self.local_date(first) - datetime.timedelta(days=1)
        for local_day, local_time, moment in dispatches(settings, self.tz, day, (last - first).days + 3):
            start = moment.astimezone(datetime.UTC).replace(tzinfo=None) - length
            planned = start + datetime.timedelta(minutes=5)
            if first <= planned < last:
                found.append((f"dispatch:{local_day.isoformat()}T{local_time:%H:%M}", start, planned))
        return found

    def _reminders(self):
        rng = self.random
        batches, reminders = [], []
        batch_ids = {}
        window_length = datetime.timedelta(minutes=self.reminder_settings.window_minutes)

        def batch(key, start, planned, mode="dispatch"):
            batch_id = len(batches) + 1
            batch_ids[key] = batch_id
            end = start + window_length
            batches.append(
                (batch_id, key, mode, stamp(start), stamp(end), stamp(end) if mode == "dispatch" else None,
                 self.local_date(planned).isoformat(), stamp(planned), stamp(planned + datetime.timedelta(minutes=3)))
            )  # fmt: skip
            return batch_id

        reminded_days = set()  # (user, local date) of every reminder that counts

        def remind(batch_id, user, order_id, number, planned, segment="new", state="sent", reason=""):
            local_date = self.local_date(planned)
            if state != "cancelled":
                if (user, local_date) in reminded_days:
                    return False
                reminded_days.add((user, local_date))
            reminders.append(
                (batch_id, user, order_id, segment, segment, number, local_date.isoformat(), state, reason,
                 stamp(planned), stamp(planned + datetime.timedelta(seconds=30)))
            )  # fmt: skip
            return True

        # A year of windows: paid orders that had a reminder before they were paid.
        windows = self._windows(self.at - datetime.timedelta(days=HISTORY_DAYS + 2), self.at)
        starts = [start for _key, start, _planned in windows]
        for key, start, planned in windows:
            batch(key, start, planned)
        for order_id, user, created, paid_at in self.history_candidates:
            index = bisect.bisect_left(starts, created + datetime.timedelta(hours=1))
            if index < len(windows) and windows[index][2] < paid_at:
                key, _start, planned = windows[index]
                remind(batch_ids[key], user, order_id, 1, planned, rng.choice(("new", "returning", "loyal")))
        # The last days' windows over the orders still unpaid, as the planner would have seen them.
        sent = {}  # order id -> reminders that count
        recent = [w for w in windows if w[2] > self.at - datetime.timedelta(hours=UNPAID_SPAN_HOURS + 1)]
        margin = datetime.timedelta(hours=self.reminder_settings.cancel_margin_hours)
        min_age = datetime.timedelta(minutes=self.reminder_settings.min_age_minutes)
        max_per_order = self.reminder_settings.max_per_order
        for key, _start, planned in recent:
            for user, orders in self.unpaid_by_user.items():
                if user in self.ineligible:
                    continue
                existing = [order for order in orders if order[1] <= planned and order[2] > planned]
                if not existing:
                    continue
                order_id, created, auto_cancel_at = existing[-1]  # the newest
                if created > planned - min_age or auto_cancel_at < planned + margin:
                    continue
                if sent.get(order_id, 0) >= max_per_order or rng.random() >= EARLIER_REMINDED:
                    continue
                if rng.random() < 0.03:  # checked again before sending, and cancelled
                    remind(batch_ids[key], user, order_id, sent.get(order_id, 0) + 1, planned,
                           state="cancelled", reason="payment_confirming")  # fmt: skip
                elif remind(batch_ids[key], user, order_id, sent.get(order_id, 0) + 1, planned):
                    sent[order_id] = sent.get(order_id, 0) + 1
        # A batch earlier today (the shop was in after-order mode at 09:00), so some customers
        # already had today's one message.
        local_nine = datetime.datetime.combine(self.today, datetime.time(9), tzinfo=self.tz)
        nine = local_nine.astimezone(datetime.UTC).replace(tzinfo=None)
        if nine + datetime.timedelta(minutes=5) < self.at:
            key = f"hour:{self.today.isoformat()}T09:00"
            batch_id = batch(key, nine, nine + datetime.timedelta(minutes=5), mode="after_order")
            planned = nine + datetime.timedelta(minutes=5)
            for user, orders in self.unpaid_by_user.items():
                if user in self.ineligible or rng.random() >= TODAY_EARLIER:
                    continue
                candidates = [
                    o for o in orders if o[1] <= planned - min_age and sent.get(o[0], 0) < max_per_order
                ]
                if candidates:
                    order_id = rng.choice(candidates)[0]
                    if remind(batch_id, user, order_id, sent.get(order_id, 0) + 1, planned):
                        sent[order_id] = sent.get(order_id, 0) + 1
        c = self.connection
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO reminder_batch (id, window_key, mode, window_start, window_end, dispatch_at,"
            " local_date, planned_at, finished_at, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            batches,
        )
        c.executemany(
            "INSERT INTO reminder (batch_id, user_id, order_id, segment, template, reminder_number,"
            " local_date, state, cancel_reason, outbox_message_id, planned_at, decided_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
            reminders,
        )
        c.execute("COMMIT")
        return len(reminders)


# Measuring (in a fresh process per database) -------------------------------------------------


def _proc_status(field):
    """A field of /proc/self/status in MB (Linux), or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux 4.0+); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _max_rss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


class _Clock:
    """Wall and CPU seconds of a block: on a shared machine the CPU time is the steadier figure."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    @property
    def pair(self):
        return [self.wall, self.cpu]


STEPS = (
    "_unpaid_orders",
    "_customers",
    "_paid_today",
    "_followed_by_a_paid_order",
    "_confirming",
    "_reminders_so_far",
    "_reminded_today",
    "paid_order_counts",
)


def measure_child(path, at_text, explain=False, experiment=False):
    """Runs in its own process; prints one JSON object. `experiment`: with the control group
    (EXPERIMENT_HOLDOUT %) and a wording B in every segment, taken out again afterwards."""
    import gc
    import tracemalloc
    from collections import Counter

    app, instance = make_app(path)
    result = {}
    try:
        with app.app_context():
            import models.reminders.batches
            from models.base import connection
            from models.base import db
            from models.reminders.batches import plan_batch
            from models.reminders.plan import _Facts
            from models.reminders.plan import plan
            from models.reminders.settings import load_reminder_settings
            from models.reminders.windows import open_window
            from models.shop.settings import load_settings

            with connection():
                if experiment:
                    _experiment_on(db)
                tz = load_settings().tz
                load_reminder_settings()
                at = parse_at(at_text, tz)
                window = open_window(at)
                result["window"] = window.key if window else None
                result["unpaid_in_db"] = db.execute_sql(
                    "SELECT COUNT(*) FROM \"order\" WHERE status = 'pending_payment'"
                ).fetchone()[0]
                result["orders_in_db"] = db.execute_sql('SELECT COUNT(*) FROM "order"').fetchone()[0]
                gc.collect()

                # 1. The first planning in a fresh process: its time and peak RSS growth.
                rss_before = _proc_status("VmRSS")
                maxrss_before = _max_rss_mb()
                hwm_reset = _reset_peak_rss()
                with _Clock() as clock:
                    the_plan = plan(at)
                runs = [clock.pair]
                result["rss_before_mb"] = rss_before
                result["rss_growth_mb"] = (_proc_status("VmHWM") - rss_before) if hwm_reset else None
                result["maxrss_growth_mb"] = _max_rss_mb() - maxrss_before
                result["maxrss_mb"] = _max_rss_mb()
                result["reminders"] = len(the_plan.reminders)
                result["excluded"] = dict(Counter(item.reason for item in the_plan.excluded).most_common())
                result["segments"] = dict(Counter(item.segment for item in the_plan.reminders).most_common())
                result["arms"] = dict(
                    Counter(
                        f"{getattr(item, 'arm', 'reminded')}/{getattr(item, 'variant', 'A')}"
                        for item in the_plan.reminders
                    ).most_common()
                )
                del the_plan
                gc.collect()

                # 2. Two more runs: the median of three.
                for _ in range(2):
                    with _Clock() as clock:
                        plan(at)
                    runs.append(clock.pair)
                    gc.collect()
                result["plan_runs"] = runs  # [[wall, cpu], …]

                # 3. Python allocations during planning (tracemalloc slows it; not timed).
                tracemalloc.start()
                the_plan = plan(at)
                current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                result["traced_peak_mb"] = peak / 1e6
                result["traced_kept_mb"] = current / 1e6  # what the returned plan holds
                del the_plan
                gc.collect()

                # 4. One run timed per step of _Facts (and the rest: rules and result objects).
                result["steps"] = _timed_steps(_Facts, plan, at)
                if explain:
                    result["explain"] = _explain(db, plan, at)

                # 5. plan_batch: the plan plus the rows written (the plan inside it timed apart);
                #    then the batch is removed again, so the file serves the next run unchanged.
                inner = {}

                def timed_plan(*args, **kwargs):
                    with _Clock() as clock:
                        found = plan(*args, **kwargs)
                    inner["plan"] = clock.pair
                    return found

                models.reminders.batches.plan = timed_plan
                try:
                    with _Clock() as clock:
                        batch, created = plan_batch(window, at) if window else (None, False)
                finally:
                    models.reminders.batches.plan = plan
                result["plan_batch"] = clock.pair
                result["plan_batch_plan"] = inner.get("plan", [0, 0])
                result["plan_batch_created"] = created
                if batch is not None:
                    result["rows_written"] = db.execute_sql(
                        "SELECT COUNT(*) FROM reminder WHERE batch_id = ?", (batch.id,)
                    ).fetchone()[0]
                    if created:
                        with db.atomic("IMMEDIATE"):
                            db.execute_sql("DELETE FROM reminder WHERE batch_id = ?", (batch.id,))
                            db.execute_sql("DELETE FROM reminder_batch WHERE id = ?", (batch.id,))
                if experiment:
                    _experiment_off(db)
                db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    print(json.dumps(result))


EXPERIMENT_HOLDOUT = 10  # % held out, the share the settings page suggests


def _experiment_on(db):
    from models.reminders.messages import save_variant
    from models.reminders.plan import SEGMENTS
    from models.reminders.settings import update_reminder_settings

    update_reminder_settings({"holdout_percent": EXPERIMENT_HOLDOUT})
    for segment in SEGMENTS:
        save_variant(segment, "B {order_number}", "Wording B, {first_name}: {items_summary}.\n\n{pay_url}")


def _experiment_off(db):
    from models.reminders.messages import remove_variant
    from models.reminders.plan import SEGMENTS
    from models.reminders.settings import update_reminder_settings

    update_reminder_settings({"holdout_percent": 0})
    for segment in SEGMENTS:
        remove_variant(segment)


def _timed_steps(facts_class, plan, at):
    """{step: [wall, cpu]} of one plan(at), with _Facts' queries timed one by one (this process only)."""
    spent = {}
    originals = {name: getattr(facts_class, name) for name in STEPS}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            with _Clock() as clock:
                found = function(*args, **kwargs)
            total = spent.setdefault(name, [0, 0])
            total[0] += clock.wall
            total[1] += clock.cpu
            return found

        return wrapper

    for name, function in originals.items():
        setattr(facts_class, name, timed(name, function))
    try:
        with _Clock() as clock:
            plan(at)
    finally:
        for name, function in originals.items():
            setattr(facts_class, name, function)
    spent["rules and result objects"] = [
        clock.wall - sum(pair[0] for pair in spent.values()),
        clock.cpu - sum(pair[1] for pair in spent.values()),
    ]
    spent["total"] = clock.pair
    return spent


def _explain(db, plan, at):
    """EXPLAIN QUERY PLAN of every statement one plan(at) runs, with its time in SQLite alone
    (run again through the bare sqlite3 connection, rows fetched, no Peewee around it)."""
    statements = []
    database = db.obj
    original = type(database).execute_sql

    def recording(self, sql, params=None, *args, **kwargs):
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append((sql, params))
        return original(self, sql, params, *args, **kwargs)

    type(database).execute_sql = recording
    try:
        plan(at)
    finally:
        type(database).execute_sql = original
    found, by_shape = [], {}
    raw = database.connection()
    for sql, params in statements:
        shape = sql if "IN (?" not in sql else sql[: sql.index("IN (?")]
        with _Clock() as clock:
            rows = len(raw.execute(sql, params or ()).fetchall())
        if shape in by_shape:  # the same query again (chunks of an IN list): add up
            entry = by_shape[shape]
            entry["runs"] += 1
            entry["rows"] += rows
            entry["sqlite"] = [a + b for a, b in zip(entry["sqlite"], clock.pair, strict=True)]
            continue
        plan_rows = raw.execute("EXPLAIN QUERY PLAN " + sql, params or ()).fetchall()
        by_shape[shape] = entry = {
            "sql": sql if len(sql) < 600 else sql[:600] + " …",
            "plan": [row[-1] for row in plan_rows],
            "runs": 1,
            "rows": rows,
            "sqlite": clock.pair,
        }
        found.append(entry)
    return found


def measure(path, at_text, explain=False, experiment=False, code=PROJECT):
    """measure_child in a fresh process, running the shop's code found in `code` (this checkout,
    or an earlier revision's files: see `revision_code`)."""
    command = [sys.executable, "-m", "bench.reminders_bench", "--measure-child", str(path), "--at", at_text]
    if explain:
        command.append("--explain")
    if experiment:
        command.append("--experiment")
    done = subprocess.run(command, cwd=code, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"measuring {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def revision_code(revision):
    """The project's files at `revision` (`git archive`, no repository change) in a temporary
    folder, run with this checkout's Python."""
    folder = Path(tempfile.mkdtemp(prefix="reminders-bench-revision-"))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=PROJECT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def compare_with_revision(path, at_text, revision, rounds):
    """Plan time with the control group and wording B on, against `revision`'s plan on the same
    database (its code ignores the new columns), alternating in `rounds` rounds: the medians."""
    code = revision_code(revision)
    try:
        now_runs, before_runs = [], []
        for number in range(rounds):
            before = measure(path, at_text, code=code)
            now = measure(path, at_text, experiment=True)
            before_runs += before["plan_runs"]
            now_runs += now["plan_runs"]
            print(
                f"  round {number + 1}: {revision} {_median(before['plan_runs'], 0):.2f} s "
                f"(cpu {_median(before['plan_runs'], 1):.2f}), this checkout with the experiment "
                f"{_median(now['plan_runs'], 0):.2f} s (cpu {_median(now['plan_runs'], 1):.2f}) "
                f"{now.get('arms', {})}",
                flush=True,
            )
    finally:
        shutil.rmtree(code, ignore_errors=True)
    for index, what in ((0, "wall"), (1, "CPU")):
        now_median, before_median = _median(now_runs, index), _median(before_runs, index)
        ratio = now_median / before_median
        print(
            f"\nplan {what} time at {before['unpaid_in_db']:,} unpaid orders, median of {len(now_runs)} runs "
            f"each: {revision} {before_median:.2f} s; this checkout with a {EXPERIMENT_HOLDOUT} % control "
            f"group and wording B in every segment {now_median:.2f} s; ratio {ratio:.2f} "
            f"(goal ≤ {1 + COMPARE_GOAL:.2f}: {'ok' if ratio <= 1 + COMPARE_GOAL else 'MISSED'})"
        )


COMPARE_GOAL = 0.10  # issue 26: within 10 % of the previous commit's figure


# Reporting -----------------------------------------------------------------------------------


def load_average():
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def _rss(result):
    return result["rss_growth_mb"] if result["rss_growth_mb"] is not None else result["maxrss_growth_mb"]


def _median(runs, index):
    return statistics.median(run[index] for run in runs)


def report(rows):
    def verdict(ok):
        return "ok" if ok else "MISSED"

    print("\nplan(at): median of 3 runs in a fresh process (wall and CPU seconds); memory of the first run")
    print(
        f"goal: under {TIME_GOAL:g} s and under {MEMORY_GOAL} MB, growing no faster than the unpaid orders\n"
    )
    print(
        f"{'orders':>10} {'unpaid':>8} {'reminders':>9} {'plan s':>7} {'cpu s':>6} {'RSS+ MB':>8} "
        f"{'traced MB':>9} {'plan_batch s':>12} {'cpu s':>6} {'rows':>7}"
    )
    for row in rows:
        r = row["result"]
        print(
            f"{r['orders_in_db']:>10,} {r['unpaid_in_db']:>8,} {r['reminders']:>9,} "
            f"{_median(r['plan_runs'], 0):>7.2f} {_median(r['plan_runs'], 1):>6.2f} {_rss(r):>8.0f} "
            f"{r['traced_peak_mb']:>9.0f} {r['plan_batch'][0]:>12.2f} {r['plan_batch'][1]:>6.2f} "
            f"{r.get('rows_written', 0):>7,}"
        )
    for row in rows:
        r = row["result"]
        wall = _median(r["plan_runs"], 0)
        print(
            f"\n{r['unpaid_in_db']:,} unpaid of {r['orders_in_db']:,} orders ({row['path'].name}), window {r['window']}"
        )
        runs = ", ".join(f"{w:.2f}/{c:.2f}" for w, c in r["plan_runs"])
        print(
            f"  plan: {wall:.2f} s (goal < {TIME_GOAL:g} s: {verdict(wall < TIME_GOAL)}); runs wall/cpu s: {runs}"
        )
        batch, inner = r["plan_batch"], r["plan_batch_plan"]
        print(
            f"  plan_batch: {batch[0]:.2f} s (goal < {TIME_GOAL:g} s: {verdict(batch[0] < TIME_GOAL)}) = its plan "
            f"{inner[0]:.2f} s + writing {r.get('rows_written', 0):,} rows {batch[0] - inner[0]:.2f} s "
            f"(cpu {batch[1]:.2f} = {inner[1]:.2f} + {batch[1] - inner[1]:.2f})"
        )
        print(
            f"  memory: peak RSS growth {_rss(r):.0f} MB (goal < {MEMORY_GOAL} MB: {verdict(_rss(r) < MEMORY_GOAL)}; "
            f"ru_maxrss growth {r['maxrss_growth_mb']:.0f} MB, {r['rss_before_mb']:.0f} MB before); "
            f"tracemalloc peak {r['traced_peak_mb']:.0f} MB, {r['traced_kept_mb']:.0f} MB held by the returned plan"
        )
        print(f"  {r['reminders']:,} reminders {r['segments']}")
        print(f"  excluded: {r['excluded']}")
        print("  one run by step, wall/cpu s:")
        for name, (step_wall, step_cpu) in r["steps"].items():
            print(f"    {name.strip('_'):26s} {step_wall:6.2f} {step_cpu:6.2f}")
        for item in r.get("explain", []):
            wall_s, cpu_s = item["sqlite"]
            print(
                f"  EXPLAIN ({item['runs']} run(s), {item['rows']:,} rows, in SQLite alone {wall_s:.2f}/{cpu_s:.2f} s) "
                f"{item['sql']}"
            )
            for line in item["plan"]:
                print(f"      {line}")
    full = rows[0]["result"]

    def ratio(x, y):
        return f"{x / y:.2f}" if y else "-"

    for row in rows[1:]:
        other = row["result"]
        print(
            f"\n{full['orders_in_db']:,} orders, {full['unpaid_in_db']:,} unpaid against "
            f"{other['orders_in_db']:,} orders, {other['unpaid_in_db']:,} unpaid: "
            f"orders x{ratio(full['orders_in_db'], other['orders_in_db'])}, "
            f"unpaid x{ratio(full['unpaid_in_db'], other['unpaid_in_db'])}; "
            f"plan wall x{ratio(_median(full['plan_runs'], 0), _median(other['plan_runs'], 0))}, "
            f"cpu x{ratio(_median(full['plan_runs'], 1), _median(other['plan_runs'], 1))}, "
            f"RSS growth x{ratio(_rss(full), _rss(other))}, "
            f"traced peak x{ratio(full['traced_peak_mb'], other['traced_peak_mb'])}"
        )
        steps = ", ".join(
            f"{name.strip('_')} x{ratio(full['steps'][name][1], other['steps'][name][1])}"
            for name in full["steps"]
            if full["steps"][name][1] >= 0.05
        )
        print(f"  by step (cpu): {steps}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--unpaid", type=int, default=200_000)
    parser.add_argument("--small", action="store_true", help="every size divided by 20, for a quick run")
    parser.add_argument(
        "--at", default=DEFAULT_AT, help="the planning moment, shop time unless it has an offset"
    )
    parser.add_argument("--dir", default=str(CACHE_DIR), help="where the databases are built and kept")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument(
        "--no-half", action="store_true", help="skip the database with half the unpaid orders"
    )
    parser.add_argument(
        "--half-orders",
        action="store_true",
        help="also a database with half the orders and all the unpaid ones (a shorter history)",
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN QUERY PLAN of plan's queries")
    parser.add_argument(
        "--against",
        metavar="REVISION",
        help="also compare plan time with the control group and wording B on against this revision's "
        "(e.g. HEAD~1 or main), on the first database, alternating",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the --against comparison")
    parser.add_argument("--experiment", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-child", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--build-child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_child:
        measure_child(Path(args.measure_child), args.at, args.explain, args.experiment)
        return 0
    if args.build_child:
        build(Path(args.build_child), args.customers, args.orders, args.unpaid, args.at)
        return 0
    if args.small:
        args.customers, args.orders, args.unpaid = args.customers // 20, args.orders // 20, args.unpaid // 20

    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    sizes = [(args.orders, args.unpaid)]  # (orders, unpaid orders) of each database
    if not args.no_half:
        sizes.append((args.orders, args.unpaid // 2))
    if args.half_orders:
        sizes.append((args.orders // 2, args.unpaid))
    paths = []
    for orders, unpaid in sizes:
        path = cache_path(directory, args.customers, orders, unpaid, args.at)
        if args.rebuild or not path.exists():
            print(
                f"building {args.customers:,} customers, {orders:,} orders, {unpaid:,} unpaid (kept as {path})",
                flush=True,
            )
            # In its own process, so this one stays small: a child's ru_maxrss starts at its
            # parent's size (Linux keeps the high-water mark across fork and exec).
            command = [sys.executable, "-m", "bench.reminders_bench", "--build-child", str(path)]
            command += ["--at", args.at, "--customers", str(args.customers)]
            command += ["--orders", str(orders), "--unpaid", str(unpaid)]
            if subprocess.run(command, cwd=PROJECT, check=False).returncode != 0:
                raise SystemExit(f"building {path} failed")
        else:
            print(f"reusing {path}")
        paths.append(path)
    print(f"planning at {args.at} (shop time); load average before: {load_average()}", flush=True)
    rows = []
    for path in paths:
        rows.append({"path": path, "result": measure(path, args.at, args.explain)})
        print(f"  measured {path.name}", flush=True)
    print(f"load average after: {load_average()}")
    report(rows)
    if args.against:
        print(f"\ncomparing with {args.against}; load average before: {load_average()}", flush=True)
        compare_with_revision(paths[0], args.at, args.against, args.rounds)
        print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file: make the project importable
        sys.path.insert(0, str(PROJECT))
    sys.exit(main())
