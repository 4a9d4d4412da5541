"""The fake Stripe (localstripe) the tests talk to, as a separate process on loopback.

`start_fake_stripe()` runs tests/stripe_server.py with the .localstripe venv that
scripts/install-test-deps.sh installs; the `stripe_server` fixture (tests/conftest.py) keeps one
for the whole test session.
"""

import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALSTRIPE_PYTHON = ROOT / ".localstripe" / "bin" / "python"
WEBHOOK_SECRET = "whsec_test_shop_webhooks"  # noqa: S105 - the fake server's test secret


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the fake Stripe stopped: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the fake Stripe did not start in time")


@contextmanager
def fake_stripe():
    """The base URL of a fresh localstripe, stopped afterwards."""
    if not LOCALSTRIPE_PYTHON.exists():
        raise RuntimeError(
            "The fake Stripe is not installed: run `make test-deps` (scripts/install-test-deps.sh)."
        )
    port = free_port()
    process = subprocess.Popen(
        [str(LOCALSTRIPE_PYTHON), str(ROOT / "tests" / "stripe_server.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def stripe_config(stripe_server, **overrides):
    """The app's configuration for card payments through the fake Stripe at `stripe_server`."""
    return {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": "sk_test_shop",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_shop",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server,
        "STRIPE_JS_URL": f"{stripe_server}/js.stripe.com/v3/",
        **overrides,
    }
