"""Password guessing is slowed per address, per address and account, and per account over every
address, without letting an attacker lock the customer out of their own devices."""

import multiprocessing
import traceback

from models.base import bind_database
from models.base import db
from models.shop.throttle import record_failure
from models.shop.throttle import ThrottleCounter
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD

WRONG = "not the password"


def client_at(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def guess(client, email, password=WRONG):
    return post_form(client, "/sign-in", {"email": email, "password": password}, page="/sign-in")


def spread_guesses(app, email, addresses=5, each=2):
    """Guesses from many addresses, each staying under its own address's limits."""
    for number in range(addresses):
        attacker = client_at(app, f"203.0.113.{number + 1}")
        for _ in range(each):
            assert guess(attacker, email).status_code == 422


def test_guesses_from_many_addresses_slow_down_the_account(app, customer):
    spread_guesses(app, customer.email)

    refused = guess(client_at(app, "203.0.113.99"), customer.email, TEST_PASSWORD)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Email me a sign-in code" in refused.get_data(as_text=True)


def test_the_customers_own_device_is_never_slowed_by_guesses_from_elsewhere(app, customer):
    laptop = client_at(app, "198.51.100.7")
    sign_in(laptop, customer)
    post_form(laptop, "/sign-out", page="/account/")

    spread_guesses(app, customer.email)

    assert guess(laptop, customer.email, TEST_PASSWORD).status_code == 303


def test_the_known_device_cookie_names_nobody_and_cannot_be_made_up(app, customer):
    laptop = client_at(app, "198.51.100.7")
    sign_in(laptop, customer)
    cookie = laptop.get_cookie("known_device")
    assert cookie is not None and customer.email not in cookie.value
    assert cookie.http_only and cookie.max_age >= 300 * 86400

    spread_guesses(app, customer.email)
    forger = client_at(app, "203.0.113.50")
    forger.set_cookie("known_device", "0" * 32)
    assert guess(forger, customer.email, TEST_PASSWORD).status_code == 429


def test_one_devices_cookie_does_not_vouch_for_another_account(app, customer, make_user):
    other = make_user()
    laptop = client_at(app, "198.51.100.7")
    sign_in(laptop, other)
    post_form(laptop, "/sign-out", page="/account/")

    spread_guesses(app, customer.email)

    assert guess(laptop, customer.email, TEST_PASSWORD).status_code == 429


# Counting in the database, with real separate processes --------------------------------

PROCESSES = 10
context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["models.shop.throttle"])


def _fail_once(url, barrier, results):
    try:
        bind_database(url)
        db.connect()
        barrier.wait(timeout=30)
        record_failure({"everywhere": "sign-in:any:raced@example.test", "ip": "sign-in:ip:203.0.113.1"})
        db.close()
        results.put("")
    except Exception:  # report it rather than die silently
        results.put(traceback.format_exc())


def test_failures_recorded_at_the_same_moment_all_count(app):
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=_fail_once, args=(app.config["DATABASE_URL"], barrier, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    errors = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)

    assert not any(errors), errors
    counts = {row.key: row.failures for row in ThrottleCounter.select()}
    assert counts == {"sign-in:any:raced@example.test": PROCESSES, "sign-in:ip:203.0.113.1": PROCESSES}
