"""The live server the browser tests drive: `python -m tests.browser.serve DATABASE_PATH [--exit-with-stdin]`.

It runs in its own process so it never shares the global database proxy
(`models.base.db`) with the unit-test fixtures. It migrates a fresh database,
loads the demo data plus a few outbox messages (one per delivery state, so the
crawl reaches every outbox page), serves on a free loopback port, and prints
`PORT <n>` on stdout once it is listening. It stops on SIGTERM, and with
--exit-with-stdin also when its stdin closes (the test session ended, however it ended).
A thread does the jobs process's part the flows need: the sign-in codes and reset links
visitors ask for are made and queued within a second (no mail server: they stay in the outbox).
"""

import datetime
import os
import signal
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from tests.stripe_fake import stripe_config

CHEAP_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

SAMPLE_MESSAGES = [
    ("queued", "alice@demo.shop", "Your order is on its way", ""),
    ("sent", "bob@demo.shop", "Welcome to the shop", ""),
    ("failed", "carol@demo.shop", "Payment reminder", "550 5.1.1 mailbox unavailable"),
    (
        "unknown",
        "a.very.long.address.that.should.wrap.on.phones@example-with-a-long-domain.co.uk",
        "Reminder: payment for order 10042 is due on Friday, please transfer the amount",
        "timed out after DATA was sent; the message may have been delivered",
    ),
]


def prepare_database(path):
    from models.base import bind_database
    from models.base import db
    from models.operations.demo import load_demo_data
    from models.operations.migrate import apply_migrations
    from models.shop.outbox import OutboxMessage
    from models.shop.outbox import send_mail
    from models.users import passwords

    passwords.configure(**CHEAP_HASH)
    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        apply_migrations()
        load_demo_data(delivery=False)  # the flows' figures have no delivery; test_delivery.py adds it
        for state, to, subject, error in SAMPLE_MESSAGES:
            message = send_mail(
                to,
                subject,
                f"Hello,\n\n{subject}.\n\nSee https://shop.example/account/orders/10042?tab=payment "
                "for the details.\n\nThe Demo Shop",
                kind="reminder",
            )
            OutboxMessage.update(state=state, last_error=error, attempts=1 if error else 0).where(
                OutboxMessage.id == message.id
            ).execute()


SECRET_KEY = "browser-test-secret"
ANSWER_EVERY_SECONDS = 0.3


def answer_mail_requests_meanwhile(app):
    """What `flask jobs` does every 2 seconds for mail requests, in a daemon thread."""
    from jobs.accounts import answer_mail_requests
    from models.base import connection

    def run():
        while True:
            time.sleep(ANSWER_EVERY_SECONDS)
            try:
                with app.app_context(), connection():
                    answer_mail_requests(datetime.datetime.now(datetime.UTC))
            except Exception as error:  # a locked database, a bug: say so, keep going
                print(f"answering mail requests failed: {error!r}", file=sys.stderr, flush=True)

    threading.Thread(target=run, daemon=True).start()


def main(database_path, exit_with_stdin=False):
    from shop import create_app

    database_path = Path(database_path)
    prepare_database(database_path)
    app = create_app(
        {
            "TESTING": False,  # error pages render as in production
            "INSTANCE_PATH": str(database_path.parent),  # never the developer's instance/config.py
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": f"sqlite:///{database_path}",
            "PASSWORD_HASH_COST": CHEAP_HASH,
            "SMTP_HOST": "",
            "JOBS_LOCK_PATH": str(database_path.with_name("jobs.lock")),
            # Card payments through the fake Stripe at this address (tests/browser/test_stripe.py).
            **(stripe_config(os.environ["TEST_FAKE_STRIPE"]) if os.environ.get("TEST_FAKE_STRIPE") else {}),
        }
    )
    with app.app_context():  # demo orders render their emails, which needs the app
        from models.base import connection
        from models.operations.demo import load_demo_orders

        with connection():
            load_demo_orders()
    answer_mail_requests_meanwhile(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if exit_with_stdin:
        # The test session holds our stdin open; if it dies without stopping us, stdin closes.
        threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1], exit_with_stdin="--exit-with-stdin" in sys.argv[2:])
