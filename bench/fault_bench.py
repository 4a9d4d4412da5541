"""Faults on purpose, and what is left afterwards: one command each, on loopback, bounded in time.

    .venv/bin/python -m bench.fault_bench kill-web [--payments 1000]
    .venv/bin/python -m bench.fault_bench kill-scheduler [--kills 8]
    .venv/bin/python -m bench.fault_bench mail-down [--phase 15]
    .venv/bin/python -m bench.fault_bench locked-database [--hold 15]

kill-web: gunicorn with the production configuration; customers place orders paid
    with their funds (one POST each, retried with the same form key after a lost
    answer, as a browser's reload would) until --payments are acknowledged, while a
    killer sends SIGKILL to a random web worker every 0.3–1.5 s (gunicorn starts a new
    one). Afterwards: every acknowledged order is there and paid, no form key made two
    orders, every paid order's money was captured exactly once, nothing is left on hold
    for a paid order, and the ledger check passes.
kill-scheduler: the payment-reminder bench's shop (bench/reminders_bench.py --small
    sizes: about 2,500 reminders due); `flask reminders run --at T` (what the scheduler's
    tick does) is killed with SIGKILL at random moments --kills times, then run until
    nothing is planned. Afterwards: no order got the same reminder twice, no customer two
    reminders on one shop day, and the outbox holds exactly one message per sent reminder.
locked-database: another process holds SQLite's write lock (BEGIN IMMEDIATE) for
    --hold seconds while customers keep reading and paying: pages that only read still
    answer, writes wait for the lock up to the busy timeout and then answer 503 "The shop
    is very busy" (never a 500 or a half-done payment), and once the lock is gone
    everything works again; the ledger check passes.

mail-down: gunicorn and the scheduler process (`flask --app shop jobs`) while customers
    keep placing orders, each of which queues a confirmation: the mail server is stopped
    (connection refused), then hangs (takes the connection, never answers; the 3 s
    timeout), then is slow (1 s on each message), then well. Orders never wait for mail;
    /healthz counts the mail waiting; afterwards every message arrived exactly once and
    none failed. (A connection lost after the data makes a message `unknown`, never resent:
    tests/shop/test_mail.py.)

Prints what it checked; exits 1 if a check fails.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from bench import load_bench
from bench import reminders_bench

PROJECT = load_bench.PROJECT
FLASK = str(Path(sys.executable).with_name("flask"))  # the venv's, as the services run it


def workers_of(master_pid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s+{master_pid}$", status, re.M):
                pids.append(int(entry.name))
    return pids


def report(checks):
    failed = [name for name, ok in checks if not ok]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    return 1 if failed else 0


# kill -9 a web worker during payments -------------------------------------------------------------


RETRIES = []


def place_order(browser, slug, keys_sent=None):
    """One order paid with funds; returns its id once the shop acknowledged it (its page), else None.

    After a lost answer the same form (the same idempotency key) is sent again, as a reload would."""
    status, page = browser.get("order", f"/p/{slug}")
    browser.submit("order", page, rf"/p/{re.escape(slug)}/add$", quantity="1")
    status, page = browser.get("order", "/checkout")
    forms = load_bench._Forms()
    forms.feed(page or "")
    form = next((f for f in forms.forms if f["action"].endswith("/checkout")), None)
    if form is None:
        return None
    key = form["fields"].get("idempotency_key", "")
    if keys_sent is not None:
        keys_sent.add(key)
    for attempt in range(5):
        if attempt:
            RETRIES.append(key)  # an answer was lost: the same form again, as a reload sends it
        status, _ = browser.submit(
            "order", page, r"/checkout$", place="1", accept_terms="y", idempotency_key=key
        )
        found = re.fullmatch(r"/account/orders/(\d+)(\?.*)?", browser.last_path)
        if status == 200 and found:
            return int(found.group(1))
        time.sleep(0.2)
    return None


def kill_web(args):
    folder = Path(tempfile.mkdtemp(prefix="fault-web-"))
    port = load_bench.free_port()
    emails, slugs = load_bench.build_shop(folder, args.customers)
    server = load_bench.start_gunicorn(folder, port)
    acknowledged, lock, done = [], threading.Lock(), threading.Event()
    keys_sent = set()
    kills = 0

    def customer(email):
        browser = load_bench.Browser(port, load_bench.Recorder())
        load_bench.sign_in(browser, email)
        while not done.is_set():
            order_id = place_order(browser, random.choice(slugs), keys_sent)
            if order_id is not None:
                with lock:
                    acknowledged.append(order_id)
                    if len(acknowledged) >= args.payments:
                        done.set()

    def killer():
        nonlocal kills
        while not done.wait(random.uniform(0.3, 1.5)):
            victims = workers_of(server.pid)
            if victims:
                try:
                    os.kill(random.choice(victims), signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass

    threads = [threading.Thread(target=customer, args=(email,)) for email in emails]
    threads.append(threading.Thread(target=killer))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1, 900 - (time.monotonic() - started)))
    done.set()
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    print(
        f"kill-web: {len(acknowledged)} orders acknowledged in {time.monotonic() - started:.0f} s, "
        f"{kills} workers killed with SIGKILL"
    )
    connection = sqlite3.connect(folder / "shop.sqlite3")
    paid = {row[0] for row in connection.execute('SELECT id FROM "order" WHERE paid_at IS NOT NULL')}
    orders = connection.execute('SELECT COUNT(*) FROM "order"').fetchone()[0]
    # An order's key is "<customer id>:<the form's key>".
    unasked = [
        key
        for (key,) in connection.execute('SELECT idempotency_key FROM "order"')
        if key.split(":", 1)[1] not in keys_sent
    ]
    # Each customer was seeded with 10,000,000 and has paid only for their own orders, once each.
    overcharged = connection.execute(
        "SELECT COUNT(*) FROM ledger_account a WHERE a.user_id IS NOT NULL AND a.balance != 10000000 - "
        '(SELECT COALESCE(SUM(o.funds_used + o.credit_used), 0) FROM "order" o WHERE o.user_id = a.user_id'
        " AND o.status != 'cancelled')"
    ).fetchone()[0]
    captures = dict(
        connection.execute(
            "SELECT substr(idempotency_key, 15), COUNT(*) FROM journal WHERE idempotency_key LIKE 'order-capture:%' GROUP BY 1"
        ).fetchall()
    )
    on_hold = connection.execute("SELECT balance FROM ledger_account WHERE code = 'funds_on_hold'").fetchone()
    unpaid_held = connection.execute(
        "SELECT COALESCE(SUM(funds_used + credit_used), 0) FROM \"order\" WHERE status = 'pending_payment'"
    ).fetchone()[0]
    connection.close()
    problems = ledger_problems(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return report(
        [
            (f"every acknowledged order is there and paid ({len(acknowledged)})", set(acknowledged) <= paid),
            (
                f"workers were killed ({kills}) and lost answers retried ({len(RETRIES)})",
                kills > 0 and bool(RETRIES),
            ),
            (
                f"every order came from a form a customer sent ({orders} orders, {len(unasked)} not)",
                not unasked,
            ),
            (
                f"every customer charged once per order, no more ({overcharged} accounts off)",
                overcharged == 0,
            ),
            (
                f"every paid order's hold captured ({len(paid)} paid)",
                all(captures.get(str(i), 0) == 1 for i in paid),
            ),
            (
                f"money on hold is exactly the unpaid orders' ({on_hold[0] if on_hold else 0} = {unpaid_held})",
                (on_hold[0] if on_hold else 0) == unpaid_held,
            ),
            ("ledger check passes", not problems),
        ]
    )


def ledger_problems(folder):
    os.environ.update(load_bench.shop_environment(folder))
    from models.base import bind_database
    from models.base import db
    from models.funds.ledger import check_ledger

    bind_database(f"sqlite:///{folder / 'shop.sqlite3'}")
    with db.connection_context():
        return check_ledger()


# kill -9 the scheduler in the middle of a reminder batch ----------------------------------------------


def kill_scheduler(args):
    folder = Path(tempfile.mkdtemp(prefix="fault-scheduler-"))
    path = folder / "shop.sqlite3"
    reminders_bench.build(path, 5_000, 50_000, 10_000, reminders_bench.DEFAULT_AT)
    environment = {**load_bench.shop_environment(folder), "DATABASE_URL": f"sqlite:///{path}"}
    command = [FLASK, "--app", "shop", "reminders", "run", "--at", reminders_bench.DEFAULT_AT]
    env = {**os.environ, **environment}
    killed = 0
    old_batches = last_batch_id(path)  # the builder's history: reminders the runs did not send
    for _ in range(args.kills):
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(random.uniform(0.5, 4.0))
        if process.poll() is None:
            process.kill()
            killed += 1
        process.wait()
    sent_after_kills = sent_in_batch(path, old_batches)
    runs = 0
    while planned(path) and runs < 50:
        subprocess.run(command, cwd=PROJECT, env=env, check=True, capture_output=True)
        runs += 1
    connection = sqlite3.connect(path)
    twice = connection.execute(
        "SELECT COUNT(*) FROM (SELECT order_id, reminder_number FROM reminder WHERE state = 'sent'"
        " GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    same_day = connection.execute(
        "SELECT COUNT(*) FROM (SELECT user_id, local_date FROM reminder WHERE state = 'sent'"
        " GROUP BY 1, 2 HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    sent_today, with_message, messages = connection.execute(
        "SELECT COUNT(*), COUNT(outbox_message_id), COUNT(DISTINCT outbox_message_id) FROM reminder"
        " WHERE state = 'sent' AND batch_id > ?",
        (old_batches,),
    ).fetchone()
    orphans = connection.execute(
        "SELECT COUNT(*) FROM outbox_message WHERE kind LIKE 'payment_reminder_%'"
        " AND id NOT IN (SELECT outbox_message_id FROM reminder WHERE outbox_message_id IS NOT NULL)"
    ).fetchone()[0]
    still_planned = planned(path)
    connection.close()
    shutil.rmtree(folder, ignore_errors=True)
    print(
        f"kill-scheduler: killed {killed} of {args.kills} runs mid-way, then {runs} runs to finish; "
        f"{sent_today} reminders sent in the batch, {sent_after_kills} of them before the last kill"
    )
    return report(
        [
            (
                f"a kill landed mid-batch ({sent_after_kills} of {sent_today} sent by then)",
                killed > 0 and 0 < sent_after_kills < sent_today,
            ),
            ("no order got the same reminder twice (also a unique index)", twice == 0),
            ("no customer got two reminders on one shop day (also a unique index)", same_day == 0),
            (
                f"every sent reminder has its own message ({sent_today} sent, {with_message} with a message, "
                f"{messages} messages)",
                sent_today == with_message == messages,
            ),
            (f"no reminder message without its sent reminder ({orphans})", orphans == 0),
            (f"nothing left planned ({still_planned})", still_planned == 0),
        ]
    )


def scalar(path, sql, *params):
    """One value from the shop file at `path`, on a connection of its own."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchone()[0]
    finally:
        connection.close()


def last_batch_id(path):
    return scalar(path, "SELECT COALESCE(MAX(id), 0) FROM reminder_batch")


def sent_in_batch(path, old_batches):
    """Reminders the runs sent (in batches they planned)."""
    return scalar(path, "SELECT COUNT(*) FROM reminder WHERE state = 'sent' AND batch_id > ?", old_batches)


def planned(path):
    return scalar(path, "SELECT COUNT(*) FROM reminder WHERE state = 'planned'")


# A mail server that is down, hangs, or is slow -----------------------------------------------------


def mail_down(args):
    folder = Path(tempfile.mkdtemp(prefix="fault-mail-"))
    port, smtp_port = load_bench.free_port(), load_bench.free_port()
    emails, slugs = load_bench.build_shop(folder, args.customers)
    processes = [load_bench.start_gunicorn(folder, port), start_jobs(folder, smtp_port)]
    customers = OrderingCustomers(port, emails, slugs)
    print(
        f"mail-down: customers keep ordering; the mail server is stopped, hangs, is slow ({args.phase:.0f} s each)"
    )
    try:
        health, held = stopped_then_hanging(customers, port, smtp_port, args.phase)
        received = smtp_server().Recorder(data_delay=1.0)  # 1 s on each message's data, under the 3 s timeout
        with smtp_server().running_smtp(received, port=smtp_port):
            customers.phase = "slow"
            time.sleep(args.phase)
            customers.stop()
            received.data_delay = 0
            print(
                "  the mail server is well again; waiting for the outbox to empty (retries back off: 30 s, 1 min…)"
            )
            drained_after = wait_for_outbox(folder / "shop.sqlite3", args.wait)
    finally:
        customers.stop()
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    return report_mail(folder, customers, received, health, held, drained_after)


def stopped_then_hanging(customers, port, smtp_port, seconds):
    """Nothing listens, then a server takes connections and never answers; returns /healthz from
    the first phase and how many connections the second took."""
    time.sleep(seconds)
    health = json.loads(http_get(port, "/healthz"))
    customers.phase = "hanging"
    with hanging_server(smtp_port) as held:
        time.sleep(seconds)
    return health, len(held)


class OrderingCustomers:
    """Signed-in customers placing orders paid with funds, a second or so apart, each in a thread."""

    def __init__(self, port, emails, slugs):
        self.port, self.slugs = port, slugs
        self.phase, self.done = "stopped", threading.Event()
        self.acknowledged, self.refused, self.times = [], [], defaultdict(list)
        self.threads = [
            threading.Thread(target=self.customer, args=(email,), daemon=True) for email in emails
        ]
        for thread in self.threads:
            thread.start()

    def customer(self, email):
        browser = load_bench.Browser(self.port, load_bench.Recorder())
        load_bench.sign_in(browser, email)
        while not self.done.is_set():
            started = time.monotonic()
            order_id = place_order(browser, random.choice(self.slugs))
            self.times[self.phase].append((time.monotonic() - started) * 1000)
            (self.acknowledged if order_id is not None else self.refused).append(order_id)
            time.sleep(random.uniform(0.5, 1.5))

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(60)


def start_jobs(folder, smtp_port):
    """The scheduler (`flask --app shop jobs`) as shop-jobs.service runs it, sending to smtp_port."""
    mail = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "SMTP_TIMEOUT": "3",
        "MAIL_FROM": "shop@example.com",
    }
    environment = {**os.environ, **load_bench.shop_environment(folder), **mail}
    log = open(folder / "jobs.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [FLASK, "--app", "shop", "jobs"], cwd=PROJECT, env=environment, stdout=log, stderr=log
    )


@contextlib.contextmanager
def hanging_server(port):
    """A mail server that takes connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield held
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def smtp_server():
    from tests import mailserver  # the test suite's real SMTP server (aiosmtpd)

    return mailserver


def http_get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    return connection.getresponse().read()


def wait_for_outbox(path, seconds):
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not scalar(path, "SELECT COUNT(*) FROM outbox_message WHERE state IN ('queued', 'sending')"):
            return time.monotonic() - started
        time.sleep(1)
    return None


def report_mail(folder, customers, received, health, held, drained_after):
    path = folder / "shop.sqlite3"
    states = dict(
        sqlite3.connect(path).execute("SELECT state, COUNT(*) FROM outbox_message GROUP BY 1").fetchall()
    )
    queued = sum(states.values())
    order_mails = scalar(path, "SELECT COUNT(*) FROM outbox_message WHERE kind = 'order_placed'")
    retried = scalar(path, "SELECT COUNT(*) FROM outbox_message WHERE attempts > 1")
    ids = [item.message["Message-ID"] for item in received.received]
    problems = ledger_problems(folder)
    shutil.rmtree(folder, ignore_errors=True)
    for phase, times in customers.times.items():
        print(
            f"  an order while the mail server was {phase}: p50 {load_bench.percentile(times, 50):.0f} ms, "
            f"p95 {load_bench.percentile(times, 95):.0f} ms ({len(times)} orders)"
        )
    waiting = health.get("mail", {}).get("waiting")
    print(f"  outbox: {states}; {retried} needed more than one attempt; the server received {len(ids)}")
    acknowledged, refused = customers.acknowledged, customers.refused
    return report(
        [
            (
                f"every order went through ({len(acknowledged)} acknowledged, {len(refused)} not)",
                acknowledged and not refused,
            ),
            (f"/healthz answered and counted the mail waiting ({waiting})", health.get("ok") and waiting),
            (
                f"every order's confirmation queued ({order_mails} for {len(acknowledged)} orders)",
                order_mails == len(acknowledged),
            ),
            (
                f"the outbox emptied once the server was well ({drained_after and round(drained_after)} s)",
                drained_after is not None,
            ),
            (f"every message sent, none failed or unknown ({states})", states.get("sent") == queued),
            (f"attempts while it was down were retried ({retried} messages)", retried > 0),
            (f"the hanging server held connections until the shop gave up ({held})", held > 0),
            (
                f"each message arrived exactly once ({len(ids)} arrived, {len(set(ids))} different, {queued} queued)",
                len(ids) == len(set(ids)) == queued,
            ),
            ("ledger check passes", not problems),
        ]
    )


# A locked database ---------------------------------------------------------------------------------------


def locked_database(args):
    folder = Path(tempfile.mkdtemp(prefix="fault-lock-"))
    port = load_bench.free_port()
    emails, slugs = load_bench.build_shop(folder, 4)
    server = load_bench.start_gunicorn(folder, port)
    browsers = []
    for email in emails:
        browser = load_bench.Browser(port, load_bench.Recorder())
        load_bench.sign_in(browser, email)
        browsers.append(browser)
    holder = sqlite3.connect(folder / "shop.sqlite3", isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    print(f"locked-database: write lock held for {args.hold:.0f} s")
    statuses = {"read": [], "write": []}
    until = time.monotonic() + args.hold
    while time.monotonic() < until:
        status, _ = browsers[0].get("read", "/account/funds")
        statuses["read"].append(status)
        status, page = browsers[1].get("write", "/account/funds")
        status, _ = browsers[1].submit("write", page, r"/account/funds/top-up$", amount="20.00")
        statuses["write"].append(status)
    holder.execute("ROLLBACK")
    holder.close()
    after = place_order(browsers[2], random.choice(slugs))
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    problems = ledger_problems(folder)
    shutil.rmtree(folder, ignore_errors=True)
    print(
        f"  reads answered {sorted(set(statuses['read']))}, writes answered {sorted(set(statuses['write']))}"
    )
    return report(
        [
            ("pages that only read answer while the lock is held", set(statuses["read"]) == {200}),
            (
                "writes answer 503 (busy), never 500",
                set(statuses["write"]) <= {503, 200} and 503 in statuses["write"],
            ),
            ("after the lock is gone a payment goes through", after is not None),
            ("ledger check passes", not problems),
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="fault", required=True)
    web = commands.add_parser("kill-web")
    web.add_argument("--payments", type=int, default=1000)
    web.add_argument("--customers", type=int, default=8)
    scheduler = commands.add_parser("kill-scheduler")
    scheduler.add_argument("--kills", type=int, default=8)
    mail = commands.add_parser("mail-down")
    mail.add_argument("--phase", type=float, default=15, help="seconds stopped, then hanging, then slow")
    mail.add_argument("--customers", type=int, default=4)
    mail.add_argument("--wait", type=float, default=600, help="longest wait for the outbox to empty")
    lock = commands.add_parser("locked-database")
    lock.add_argument("--hold", type=float, default=15)
    args = parser.parse_args(argv)
    return {
        "kill-web": kill_web,
        "kill-scheduler": kill_scheduler,
        "mail-down": mail_down,
        "locked-database": locked_database,
    }[args.fault](args)


if __name__ == "__main__":
    sys.exit(main())
