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

    .venv/bin/python -m bench.load_bench --postgres URL [--hosts 2] [--customers 16] [--seconds 15]

--postgres runs the shop on a database it creates on that server (URL of its maintenance database,
e.g. what scripts/with-test-postgres.sh exports as SHOP_TEST_POSTGRES_URL) and measures instead:
the pool's gain (My Account, closed loop, DATABASE_POOL_SIZE=4 against 0), one host against
--hosts web hosts (each gunicorn with its own instance folder) behind an nginx load balancer
(the mix without pauses: requests/s, p95 and how the requests were shared between the hosts),
and a host killed in the middle of a run (what the customers saw while nginx moved to the other).

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


def build_shop(folder, customers, database_url=None):
    """A migrated shop with the demo catalogue (deep stock) and `customers` with funds and an address."""
    environment = shop_environment(folder, database_url)
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


def shop_environment(folder, database_url=None):
    return {
        "SHOP_INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": database_url or f"sqlite:///{folder / 'shop.sqlite3'}",
        "SECRET_KEY": "load-bench",
        "SHOP_BASE_URL": "http://127.0.0.1",
        "SMTP_HOST": "",
        "SANDBOX_LATE_SECONDS": "1",
    }


def start_gunicorn(folder, port, behind_nginx=False, database_url=None, **settings):
    """gunicorn for the shop in `folder` (its instance folder and log there); `settings` are more
    environment variables (DATABASE_POOL_SIZE=…)."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **shop_environment(folder, database_url), "SHOP_BIND": f"127.0.0.1:{port}"}
    environment.update({name: str(value) for name, value in settings.items()})
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
    browser.submit("checkout", page, r"/checkout$", place="1", accept_terms="y")  # the terms ticked


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


def outcome():
    """Orders paid and top-ups credited in the bench shop, and its ledger check."""
    from models.base import connection
    from models.funds.ledger import check_ledger
    from models.funds.top_ups import TopUp
    from models.orders.order import Order

    with connection():
        orders = Order.select().where(Order.paid_at.is_null(False)).count()
        top_ups = TopUp.select().where(TopUp.state == "succeeded").count()
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


# Several web hosts on one PostgreSQL -------------------------------------------------------------


@contextlib.contextmanager
def bench_database(server_url):
    """A new database on the PostgreSQL server at `server_url`, dropped afterwards."""
    from models.base import make_database

    admin = make_database(server_url)
    name = f"load_bench_{os.getpid()}"
    with admin.connection_context():
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute_sql(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        from models.base import db

        if not db.is_closed():
            db.close()
        with admin.connection_context():
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def load_balancer(folder, port, upstream_ports):
    """nginx spreading requests round-robin over the hosts, as a load balancer in front of them."""
    folder.mkdir(parents=True, exist_ok=True)
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in upstream_ports)
    config = folder / "nginx.conf"
    config.write_text(
        f"pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\nworker_processes 1;\n"
        f"daemon off;\nevents {{}}\nhttp {{\n  access_log off;\n  upstream hosts {{\n{servers}  }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://hosts;\n"
        "      proxy_set_header Host $http_host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "      proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_set_header X-Forwarded-Host $http_host;\n"
        "    }\n  }\n}\n"
    )
    process = subprocess.Popen([nginx_site.NGINX, "-p", str(folder), "-c", str(config)])
    if not nginx_site.listening(port, process):
        process.kill()
        raise SystemExit(f"nginx did not start; see {folder / 'error.log'}")
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def hosts_running(folder, database_url, count, **settings):
    """`count` gunicorn hosts, each with its own instance folder; yields [(port, process, log)]."""
    hosts = []
    try:
        for number in range(count):
            host_folder, port = folder / f"host-{number + 1}", free_port()
            process = start_gunicorn(host_folder, port, database_url=database_url, **settings)
            hosts.append((port, process, host_folder / "gunicorn.log"))
        yield hosts
    finally:
        for _, process, _ in hosts:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)


def requests_logged(log):
    return len(server_times(log, 0)) if log.exists() else 0


def mix_at_levels(port, emails, slugs, levels, seconds):
    rows = []
    for level in levels:
        run, elapsed, _ = run_customers(port, emails, slugs, seconds, False, level)
        times = run.all_times()
        rows.append((level, len(times) / elapsed, percentile(times, 95), len(run.problems)))
    return rows


def print_levels(rows):
    for level, rate, p95, errors in rows:
        print(f"   {level:>3} at once: {rate:6.1f} requests/s, p95 {p95:6.1f} ms, errors {errors}")


def my_account_rate(port, email, seconds):
    browser = Browser(port, Recorder())
    sign_in(browser, email)
    return closed_loop(port, browser.cookies, "/account/", seconds, 4)


def several_hosts(args, folder):
    levels = [int(n) for n in args.levels.split(",")]
    with bench_database(args.postgres) as database_url:
        print(f"building a shop with {args.customers} customers on PostgreSQL…", flush=True)
        emails, slugs = build_shop(folder, max(args.customers, *levels), database_url)
        seconds = min(args.seconds, 15)

        print("\n1. the pool (one host, My Account, closed loop, 4 at once):")
        for pool in (0, 4):
            with hosts_running(folder, database_url, 1, DATABASE_POOL_SIZE=pool) as [(port, _, _)]:
                rate, p95, problems = my_account_rate(port, emails[0], seconds)
            label = "a connection per request" if pool == 0 else f"pool of {pool}"
            print(f"   {label:<25} {rate:6.1f} requests/s, p95 {p95:6.1f} ms, errors {len(problems)}")

        print("\n2. one host, the mix without pauses:")
        with hosts_running(folder / "one", database_url, 1) as [(port, _, _)]:
            print_levels(mix_at_levels(port, emails, slugs, levels, seconds))

        print(f"\n3. {args.hosts} hosts behind an nginx load balancer, the same mix:")
        balancer = free_port()
        with hosts_running(folder / "many", database_url, args.hosts, TRUSTED_PROXIES=1) as hosts:
            with load_balancer(folder / "balancer", balancer, [port for port, _, _ in hosts]):
                before = [requests_logged(log) for _, _, log in hosts]
                print_levels(mix_at_levels(balancer, emails, slugs, levels, seconds))
                served = [
                    requests_logged(log) - start for (_, _, log), start in zip(hosts, before, strict=True)
                ]
                shares = ", ".join(
                    f"host {n + 1} {100 * c / max(1, sum(served)):.0f} %" for n, c in enumerate(served)
                )
                print(f"   requests served: {sum(served)} ({shares})")

                print(
                    f"\n4. host 1 killed (SIGKILL) {seconds / 3:.0f} s into a {seconds:.0f} s run, 4 customers:"
                )
                killer = threading.Timer(seconds / 3, hosts[0][1].kill)
                killer.start()
                run, elapsed, _ = run_customers(balancer, emails, slugs, seconds, False, 4)
                killer.join()
                times = run.all_times()
                print(
                    f"   {len(times) / elapsed:6.1f} requests/s, p95 {percentile(times, 95):6.1f} ms, "
                    f"errors {len(run.problems)}" + (f", e.g. {run.problems[:3]}" if run.problems else "")
                )
        print(f"\nwhat the customers did: {outcome()}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--levels", default="1,2,4,8,16")
    parser.add_argument(
        "--through-nginx", action="store_true", help="customers reach gunicorn through nginx over HTTPS"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server (its maintenance database's URL)"
    )
    parser.add_argument(
        "--hosts", type=int, default=2, help="with --postgres: web hosts behind the load balancer"
    )
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="load-bench-"))
    if args.postgres:
        try:
            several_hosts(args, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        return 0
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
        print(f"\nwhat the customers did: {outcome()}")
    finally:
        nginx.close()
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.exit(main())
