"""Load on loopback against gunicorn with the production configuration: what customers feel.

    .venv/bin/python -m bench.load_bench [--customers 50] [--seconds 60] [--levels 1,2,4,8,16]
                                         [--through-nginx]

It builds a fresh shop (migrated SQLite file with the project's pragmas, the demo
catalogue with deep stock, customers with funds and an address), starts gunicorn
with deploy/gunicorn.conf.py (workers from the core count) on a free loopback port,
signs every customer in (timed apart: password hashing is slow on purpose), then:

1. the customer mix: --customers simulated customers, each pausing 1–3 s between
   actions: browsing (home, a category, a product), My Account pages (dashboard,
   funds, orders), htmx fragments (the funds history as htmx asks for it), top-ups
   through the sandbox provider (start, approve, back) and checkouts paid with funds
   (add to cart, checkout, place). Prints p50/p95/p99 per kind and overall, errors,
   and any "database is locked"/503;
2. the most throughput with p95 under 100 ms: the same mix without pauses at each
   concurrency of --levels, requests per second and p95 per level;
3. the framework's ceiling: My Account's dashboard against /bench/constant (the same
   app and middleware, bench/load_app.py), closed loop, and their ratio;
4. memory: each worker's resident size (VmRSS) after the runs.

--through-nginx puts nginx with deploy/nginx-shop.conf (TLS, a throwaway certificate, on
loopback ports) in front, as in production; the app's own time then excludes nginx.

The client runs on the same 2 cores as the server, so every figure includes its
cost; read them as proportions. Everything stays on 127.0.0.1; the run is bounded
by --seconds per phase and stops by itself.
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
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode
from urllib.parse import urlsplit

from bench import nginx_site

PROJECT = Path(__file__).resolve().parent.parent
PASSWORD = "load bench password"  # noqa: S105 (throwaway bench accounts)
GOAL_P95_MS = 50
SEARCH_P95_MS = 100


# A small browser: cookies, forms, redirects ------------------------------------------------


class _Forms(HTMLParser):
    """Every form on a page: its action and the values a browser would send."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button"):
                self._form["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "select" and attrs.get("name"):
            self._select = attrs["name"]
        elif tag == "option" and self._select:
            if self._select not in self._form["fields"] or "selected" in attrs:
                self._form["fields"][self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


class Browser:
    """One customer's connection (keep-alive) and cookies; records every request's time."""

    def __init__(self, port, record):
        self.port, self.record = port, record
        self.cookies = {}
        self.last_path = ""  # where the last request (after redirects) went
        self.connection = connect(port)

    def request(self, kind, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # As a browser sends it: over HTTPS the CSRF check wants the form's page as Referer.
            scheme = "https" if self.port in TLS_PORTS else "http"
            headers["Referer"] = f"{scheme}://127.0.0.1:{self.port}{self.last_path}"
        started = time.perf_counter()
        self.last_path = path
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.connection = connect(self.port)
            self.record(kind, (time.perf_counter() - started) * 1000, f"connection: {error}")
            return None, "", {}
        elapsed = (time.perf_counter() - started) * 1000
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        problem = None
        if response.status >= 500 or (response.status >= 400 and response.status != 422):
            problem = f"{response.status} {path}" + (" database is locked" if "locked" in text else "")
        self.record(kind, elapsed, problem)
        return response.status, text, dict(response.getheaders())

    def get(self, kind, path, **headers):
        status, text, response_headers = self.request(kind, "GET", path, headers=headers)
        return self._follow(kind, status, text, response_headers)

    def submit(self, kind, page, action_pattern, **overrides):
        """Submit the page's first form whose action matches, with `overrides` (a browser click)."""
        parser = _Forms()
        parser.feed(page)
        form = next((f for f in parser.forms if re.search(action_pattern, f["action"])), None)
        if form is None:
            self.record(kind, 0.0, f"no form {action_pattern}")
            return None, ""
        fields = {**form["fields"], **overrides}
        status, text, headers = self.request(kind, "POST", form["action"], body=urlencode(fields))
        return self._follow(kind, status, text, headers)

    def _follow(self, kind, status, text, headers):
        for _ in range(5):
            if status not in (301, 302, 303):
                break
            location = urlsplit(headers.get("Location", "/"))
            path = location.path + (f"?{location.query}" if location.query else "")
            status, text, headers = self.request(kind, "GET", path)
        return status, text


TLS_PORTS = set()  # nginx's loopback ports (--through-nginx): spoken to over HTTPS


def connect(port):
    if port in TLS_PORTS:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the throwaway certificate
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


# The shop under load -------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_shop(folder, customers):
    """A migrated shop with the demo catalogue (deep stock) and `customers` with funds and an address."""
    environment = shop_environment(folder)
    os.environ.update(environment)
    from models.accounts.addresses import add_address
    from models.accounts.administration import create_user
    from models.base import connection
    from models.funds.customer_accounts import account_for
    from models.funds.ledger import Leg
    from models.funds.ledger import PROVIDER_CLEARING
    from models.funds.ledger import system_account
    from models.funds.ledger import transfer
    from models.operations.demo import DEMO_ADDRESS
    from models.operations.demo import load_demo_catalogue
    from models.operations.migrate import apply_migrations
    from models.shop.settings import load_settings
    from models.storefront.catalog import Product
    from shop import create_app

    app = create_app({"PASSWORD_HASH_COST": {"time_cost": 1, "memory_cost": 8, "parallelism": 1}})
    emails = []
    with app.app_context(), connection():
        apply_migrations()
        load_settings()
        load_demo_catalogue()
        Product.update(stock=10_000_000).execute()
        for number in range(customers):
            email = f"customer{number}@load.example"
            user = create_user(email, PASSWORD, first_name="Load", last_name=f"Customer {number}")
            add_address(user, DEMO_ADDRESS, make_default_billing=True, make_default_shipping=True)
            amount = 10_000_000
            transfer(
                f"load-seed-{number}",
                "top_up",
                [
                    Leg(account_for(user), amount, "deposit"),
                    Leg(system_account(PROVIDER_CLEARING), -amount, "deposit"),
                ],
            )
            emails.append(email)
        slugs = [p.slug for p in Product.select().where(Product.stock > 0)]
    return emails, slugs


def shop_environment(folder):
    return {
        "SHOP_INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'shop.sqlite3'}",
        "SECRET_KEY": "load-bench",
        "SHOP_BASE_URL": "http://127.0.0.1",
        "SMTP_HOST": "",
        "SANDBOX_LATE_SECONDS": "1",
    }


def start_gunicorn(folder, port, behind_nginx=False):
    environment = {**os.environ, **shop_environment(folder), "SHOP_BIND": f"127.0.0.1:{port}"}
    if behind_nginx:  # as /etc/shop.env has it in production
        environment.update(TRUSTED_PROXIES="1", SHOP_BASE_URL="https://127.0.0.1")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(folder / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [str(gunicorn), "--config", "deploy/gunicorn.conf.py", "bench.load_app:create_bench_app()"],
        cwd=PROJECT,
        env=environment,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/bench/constant")
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not start; see {folder / 'gunicorn.log'}")


def worker_rss_mb(master_pid):
    """Resident size of each gunicorn worker (children of the master), in MB."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", status, re.M):
            rss = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
            sizes.append(rss / 1024)
    return sorted(sizes)


# What a customer does -----------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.problems = []

    def __call__(self, kind, ms, problem):
        with self.lock:
            self.times[kind].append(ms)
            if problem:
                self.problems.append(problem)

    def all_times(self):
        return [ms for times in self.times.values() for ms in times]


def sign_in(browser, email):
    status, page = browser.get("sign-in", "/sign-in")
    browser.submit("sign-in", page, r"/sign-in$", email=email, password=PASSWORD)


def browse(browser, slugs):
    browser.get("browse", "/")
    browser.get("browse", f"/p/{random.choice(slugs)}")


def my_account(browser, slugs):
    browser.get("my account", random.choice(["/account/", "/account/funds", "/account/orders"]))


def fragment(browser, slugs):
    browser.get("htmx fragment", "/account/funds/history", **{"HX-Request": "true", "HX-Target": "history"})


def top_up(browser, slugs):
    status, page = browser.get("top-up", "/account/funds")
    status, page = browser.submit("top-up", page, r"/account/funds/top-up$", amount="20.00")
    browser.submit("top-up", page, r"/sandbox/pay/", outcome="approve")


def checkout(browser, slugs):
    slug = random.choice(slugs)
    status, page = browser.get("checkout", f"/p/{slug}")
    browser.submit("checkout", page, rf"/p/{re.escape(slug)}/add$", quantity="1")
    status, page = browser.get("checkout", "/checkout")
    browser.submit("checkout", page, r"/checkout$", place="1")


ACTIONS = [(browse, 30), (my_account, 30), (fragment, 15), (top_up, 10), (checkout, 15)]


def customer_loop(browser, slugs, until, pause):
    actions, weights = zip(*ACTIONS, strict=True)
    if pause:  # customers arrive spread out, not all in the same millisecond
        time.sleep(random.uniform(0, 3))
    while time.monotonic() < until:
        random.choices(actions, weights)[0](browser, slugs)
        if pause:
            time.sleep(random.uniform(1, 3))


def run_customers(port, emails, slugs, seconds, pause, count, signed_in=lambda: None):
    recorder = Recorder()
    browsers = []
    sign_in_recorder = Recorder()
    for email in emails[:count]:
        browser = Browser(port, sign_in_recorder)
        sign_in(browser, email)
        browser.record = recorder
        browsers.append(browser)
    signed_in()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=customer_loop, args=(b, slugs, until, pause)) for b in browsers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recorder, time.monotonic() - started, sign_in_recorder


def closed_loop(port, browser_cookies, path, seconds, concurrency):
    """Requests per second and p95 for GET `path`, `concurrency` clients with no pause."""
    recorder = Recorder()
    until = time.monotonic() + seconds

    def loop():
        browser = Browser(port, recorder)
        browser.cookies = dict(browser_cookies)
        while time.monotonic() < until:
            browser.request("x", "GET", path)

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = recorder.all_times()
    return len(times) / (time.monotonic() - started), percentile(times, 95), recorder.problems


def outcome(folder):
    """Orders paid and top-ups credited in the bench shop, and its ledger check."""
    import sqlite3

    connection = sqlite3.connect(f"file:{folder / 'shop.sqlite3'}?mode=ro", uri=True)
    orders = connection.execute('SELECT COUNT(*) FROM "order" WHERE paid_at IS NOT NULL').fetchone()[0]
    top_ups = connection.execute("SELECT COUNT(*) FROM top_up WHERE state = 'succeeded'").fetchone()[0]
    connection.close()
    from models.base import connection as open_connection
    from models.funds.ledger import check_ledger

    with open_connection():
        problems = check_ledger()
    return f"{orders} orders paid, {top_ups} top-ups credited; ledger check {'passed' if not problems else problems[:3]}"


def server_times(log, offset):
    """Milliseconds the app spent on each request logged after `offset` (views/request_log.py)."""
    with open(log, "rb") as lines:
        lines.seek(offset)
        entries = [json.loads(line) for line in lines if line.startswith(b"{")]
    return [entry["ms"] for entry in entries if entry.get("message") == "request"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


def summary(times):
    return f"p50 {statistics.median(times):6.1f} ms  p95 {percentile(times, 95):6.1f}  p99 {percentile(times, 99):6.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument(
        "--through-nginx", action="store_true", help="customers reach gunicorn through nginx over HTTPS"
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="load-bench-"))
    port = upstream = free_port()
    print(f"building a shop with {args.customers} customers in {folder}…", flush=True)
    emails, slugs = build_shop(folder, max(args.customers, max(int(n) for n in args.levels.split(","))))
    server = start_gunicorn(folder, upstream, behind_nginx=args.through_nginx)
    nginx = contextlib.ExitStack()
    try:
        if args.through_nginx:
            port = free_port()
            nginx.enter_context(nginx_site.running(folder, port, free_port(), upstream))
            TLS_PORTS.add(port)
            print(f"nginx (deploy/nginx-shop.conf, TLS) on 127.0.0.1:{port} in front", flush=True)
        print(
            f"gunicorn on 127.0.0.1:{upstream}, workers {len(worker_rss_mb(server.pid))}; load average "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
        log = folder / "gunicorn.log"
        mix_starts = []  # where the log stands once everyone has signed in
        mix, elapsed, sign_ins = run_customers(
            port,
            emails,
            slugs,
            args.seconds,
            True,
            args.customers,
            lambda: mix_starts.append(log.stat().st_size),
        )
        served = server_times(log, mix_starts[0])
        print(f"\n1. {args.customers} customers, 1–3 s between actions, {elapsed:.0f} s:")
        print(f"   sign-in (apart)   {summary(sign_ins.all_times())}  ({len(sign_ins.all_times())} requests)")
        for kind, times in sorted(mix.times.items()):
            print(f"   {kind:<17} {summary(times)}  ({len(times)} requests)")
        every = mix.all_times()
        print(f"   all               {summary(every)}  ({len(every) / elapsed:.1f} requests/s)")
        print(f"   the app's own time (its request log, without queueing and the client): {summary(served)}")
        locked = [p for p in mix.problems if "locked" in p or p.startswith("503")]
        print(
            f"   errors: {len(mix.problems)} ({len(locked)} database locked / 503)"
            + (f", e.g. {mix.problems[:3]}" if mix.problems else "")
        )
        print(
            f"   goal: p95 under {GOAL_P95_MS} ms with no errors: "
            f"{'met' if percentile(every, 95) < GOAL_P95_MS and not mix.problems else 'missed'}"
        )

        print("\n2. the same mix without pauses:")
        best = None
        for level in (int(n) for n in args.levels.split(",")):
            run, elapsed, _ = run_customers(port, emails, slugs, min(args.seconds, 20), False, level)
            times = run.all_times()
            rate, p95 = len(times) / elapsed, percentile(times, 95)
            print(
                f"   {level:>3} at once: {rate:6.1f} requests/s, p95 {p95:6.1f} ms, errors {len(run.problems)}"
            )
            if p95 < SEARCH_P95_MS and not run.problems:
                best = max(best or 0, rate)
        print(f"   most throughput with p95 under {SEARCH_P95_MS} ms: {best or 0:.1f} requests/s")

        print("\n3. the framework's ceiling (closed loop, 4 at once):")
        browser = Browser(port, Recorder())
        sign_in(browser, emails[0])
        account_rate, account_p95, _ = closed_loop(
            port, browser.cookies, "/account/", min(args.seconds, 15), 4
        )
        constant_rate, constant_p95, _ = closed_loop(
            port, browser.cookies, "/bench/constant", min(args.seconds, 15), 4
        )
        print(
            f"   My Account {account_rate:7.1f}/s (p95 {account_p95:.1f} ms); constant route "
            f"{constant_rate:7.1f}/s (p95 {constant_p95:.1f} ms); ratio {account_rate / constant_rate:.2f} (goal 0.40)"
        )

        sizes = worker_rss_mb(server.pid)
        print(
            f"\n4. worker memory after the runs: {', '.join(f'{s:.0f}' for s in sizes)} MB (goal under 80 MB each)"
        )
        print(f"\nwhat the customers did: {outcome(folder)}")
    finally:
        nginx.close()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
