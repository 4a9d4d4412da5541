"""The fake Stripe the payment tests talk to: localstripe, run as its own process on loopback.

    .localstripe/bin/python tests/stripe_server.py PORT

localstripe (PyPI, installed into .localstripe/ by scripts/install-test-deps.sh) listens on every
interface and keeps its data in /tmp/localstripe.pickle between runs; this launcher serves its
app on 127.0.0.1 only and keeps nothing, so every test run starts with an empty Stripe.
"""

import sys

from aiohttp import web
from localstripe import resources
from localstripe import server

resources.store.dump_to_disk = lambda: None

web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
