"""Browser-test fixtures: a live server in its own process, one Chromium, desktop and phone pages.

The live server runs in a subprocess (`tests/browser/serve.py`) with its own
database, so it never touches the global database proxy that the unit-test
fixtures rebind for every test. Browser tests never skip: a missing Chromium
or a server that does not start is an error.
"""

import os
import re
import select
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}
DEMO_PASSWORD = "demo-password"
OWNER_EMAIL = "owner@demo.shop"
CUSTOMER_EMAIL = "alice@demo.shop"
SERVER_START_SECONDS = 30


@pytest.fixture(scope="session")
def live_database(tmp_path_factory):
    """Path of the live server's SQLite file (tests may read it, e.g. the outbox)."""
    return tmp_path_factory.mktemp("live-server") / "shop.sqlite3"


@pytest.fixture(scope="session")
def live_server(live_database):
    """Base URL of the shop served from a fresh demo database in a child process."""
    with serving(live_database) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def stripe_live_database(tmp_path_factory):
    return tmp_path_factory.mktemp("stripe-live-server") / "shop.sqlite3"


@pytest.fixture(scope="session")
def stripe_live_server(stripe_live_database, stripe_server):
    """Base URL of a second shop (its own demo database) taking card payments through the fake Stripe."""
    with serving(stripe_live_database, {"TEST_FAKE_STRIPE": stripe_server}) as base_url:
        yield base_url


@contextmanager
def serving(database, extra_env=None):
    log_path = database.with_name("server.log")
    # The shop's own settings from the developer's environment (an https base URL
    # would make the session cookie Secure, a real SMTP host...) must not leak in.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(
            ("SHOP_", "SMTP_", "MAIL_", "DATABASE_", "TRUSTED_PROXIES", "PAYMENT_", "STRIPE_")
        )
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.browser.serve", str(database), "--exit-with-stdin"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        port = wait_for_port(process, log_path)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdin.close()
        process.stdout.close()


def wait_for_port(process, log_path):
    """The port the server prints once it listens; its log if it dies or hangs instead."""
    ready, _, _ = select.select([process.stdout], [], [], SERVER_START_SECONDS)
    line = process.stdout.readline().decode() if ready else ""
    if not line.startswith("PORT "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the live server did not start:\n{log_path.read_text()}")
    return int(line.split()[1])


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def new_page(browser, base_url, viewport, **options):
    context = browser.new_context(base_url=base_url, viewport=viewport, **options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server):
    """A desktop page (1280×800) in a fresh context: no cookies shared between tests."""
    context, page = new_page(browser, live_server, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def mobile_page(browser, live_server):
    """A phone page (390×844, touch) in a fresh context."""
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser, live_server):
    """A desktop page with JavaScript disabled: every flow must still work."""
    context, page = new_page(browser, live_server, DESKTOP, java_script_enabled=False)
    yield page
    context.close()


def sign_in(page, email, password=DEMO_PASSWORD):
    """Sign in through the real form, as a person would."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/sign-in" not in page.url, (
        f"sign-in as {email} failed: {page.title()}: {page.locator('main').inner_text()}"
    )


def assert_no_horizontal_scroll(page):
    """Nothing wider than the viewport the context was opened with.

    On a mobile context (is_mobile=True) Chromium widens the layout viewport to
    fit wide content, so `scrollWidth <= innerWidth` always holds there; compare
    with the configured width instead.
    """
    width = page.viewport_size["width"]
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert max(scroll_width, inner_width) <= width, (
        f"{page.url} scrolls sideways: {scroll_width} px wide, layout viewport {inner_width} px, screen {width} px"
    )


TERMS_BOX = re.compile(r"^I have read and accept the terms of sale")


def accept_terms(page, label=TERMS_BOX):
    """Tick "I have read and accept the terms of sale" at checkout (issue 24). With JavaScript the
    tick recalculates the form through htmx: wait for the new form before going on."""
    javascript = page.evaluate("() => typeof htmx !== 'undefined'")
    if javascript:
        page.locator("#checkout-form").evaluate("form => { form.dataset.beforeTerms = '1' }")
    page.get_by_role("checkbox", name=label).check()
    if javascript:
        expect(page.locator("#checkout-form[data-before-terms]")).to_have_count(0)
    expect(page.get_by_role("checkbox", name=label)).to_be_checked()


def order_button(page):
    """Checkout's button that places the order."""
    return page.get_by_role("button", name="Order with obligation to pay")


def place_order(page):
    """Accept the terms and press "Order with obligation to pay", as a customer would."""
    accept_terms(page)
    order_button(page).click()


def checkout_total(page):
    """The total checkout's breakdown shows."""
    return page.locator("#checkout-breakdown .cart-summary__subtotal dd")
