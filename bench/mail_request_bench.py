"""Does asking for a reset link or a sign-in code take as long for an address with an account as
for one without? Server time per request, known against unknown (issue 19, 6).

    .venv/bin/python -m bench.mail_request_bench [--requests 300] [--rounds 10]

It builds a fresh migrated SQLite file in a temporary folder with as many customers as it needs
(each known address is asked for once, so no per-recipient cap and no IP throttle get in the
way: every request comes from an address of its own) and POSTs `/forgot-password` and
`/sign-in/code` through the Flask test client, in-process (no network, no browser, CSRF off).
Known and unknown addresses take turns, in rounds whose order alternates, so a change in the
machine's load touches both alike. It prints, per form, the median, p95 and mean in ms for each
and the median difference; then how long the jobs process takes to answer the requests the run
left (`jobs.accounts.answer_mail_requests`: the lookup, the token and the message), when the
code it runs has one. It asserts nothing.
"""

# The shop's modules are imported inside the functions that use them: see bench/README.md.

import argparse
import itertools
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

CHEAP_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
FORMS = ("/forgot-password", "/sign-in/code")


def make_app(folder):
    from shop import create_app

    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": f"sqlite:///{folder / 'shop.sqlite3'}",
            "PASSWORD_HASH_COST": CHEAP_HASH,
            "SMTP_HOST": "",
            "JOBS_LOCK_PATH": str(folder / "instance" / "jobs.lock"),
        }
    )


def build(app, customers):
    from models.base import db
    from models.base import write_transaction
    from models.groups.group import default_group
    from models.operations.migrate import apply_migrations
    from models.shop.settings import load_settings
    from models.users.user import User

    with app.app_context(), db.connection_context():
        apply_migrations()
        load_settings()
        group = default_group().id
        with write_transaction():
            rows = [
                {
                    "email": f"known{n}@bench.example",
                    "first_name": "Known",
                    "group": group,
                    "password_hash": "x",
                }
                for n in range(customers)
            ]
            for start in range(0, len(rows), 500):
                User.insert_many(rows[start : start + 500]).execute()


def timed_post(client, path, email, ip):
    started = time.perf_counter()
    response = client.post(path, data={"email": email}, environ_base={"REMOTE_ADDR": ip})
    elapsed = time.perf_counter() - started
    if response.status_code != 303:
        raise SystemExit(f"{path} for {email} answered {response.status_code}")
    return elapsed


def measure(app, requests, rounds):
    """{form: {"known": [seconds], "unknown": [seconds]}}"""
    from models.base import db

    times = {form: {"known": [], "unknown": []} for form in FORMS}
    per_round = max(1, requests // rounds)
    posts = itertools.count(1)
    n = 0
    with db.connection_context():
        client = app.test_client()
        for form in FORMS:  # warm-up: templates compiled, statements prepared
            timed_post(client, form, "warm-up@bench.example", "10.255.255.255")
        for round_number in range(rounds):
            for form in FORMS:
                for _ in range(per_round):
                    sides = ("known", "unknown") if (round_number + n) % 2 == 0 else ("unknown", "known")
                    for side in sides:
                        post = next(posts)  # every request from an address of its own: no IP throttle
                        ip = f"10.{post // 65536 % 256}.{post // 256 % 256}.{post % 256}"
                        times[form][side].append(timed_post(client, form, f"{side}{n}@bench.example", ip))
                    n += 1
    return times


def answer_time(app):
    """(requests answered, seconds) for the jobs process's work the run left, or None."""
    try:
        from jobs.accounts import answer_mail_requests
    except ImportError:
        return None  # the code before issue 19, 6: the request itself made the token and the mail
    import datetime

    from models.accounts.mail_requests import MailRequest
    from models.base import db

    with app.app_context(), db.connection_context():
        waiting = MailRequest.select().count()
        started = time.perf_counter()
        answer_mail_requests(datetime.datetime.now(datetime.UTC))
        return waiting, time.perf_counter() - started


def ms(seconds):
    return f"{seconds * 1000:6.2f}"


def report(times):
    print(
        f"{'form':<18}{'side':<9}{'median':>8}{'p95':>8}{'mean':>8}   (ms, server side, {len(times[FORMS[0]]['known'])} each)"
    )
    for form, sides in times.items():
        for side, values in sides.items():
            ordered = sorted(values)
            p95 = ordered[int(len(ordered) * 0.95) - 1]
            print(
                f"{form:<18}{side:<9}{ms(statistics.median(values)):>8}{ms(p95):>8}{ms(statistics.fmean(values)):>8}"
            )
        difference = statistics.median(sides["known"]) - statistics.median(sides["unknown"])
        print(f"{form:<18}{'known − unknown, median':<25}{ms(difference):>8}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="per form and side")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mail-request-bench-"))
    try:
        app = make_app(folder)
        build(app, args.requests * len(FORMS) + 10)
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        times = measure(app, args.requests, args.rounds)
        report(times)
        answered = answer_time(app)
        if answered is None:
            print("jobs process: nothing to answer (this code makes the token and the mail in the request)")
        else:
            waiting, seconds = answered
            print(
                f"jobs process: answered {waiting} requests in {seconds:.2f} s ({ms(seconds / max(waiting, 1))} ms each)"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
