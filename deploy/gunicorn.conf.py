"""gunicorn settings for the shop's web service (deploy/shop-web.service runs it).

    gunicorn --config deploy/gunicorn.conf.py "shop:create_app()"

Sync workers, two per core plus one (WEB_CONCURRENCY overrides): a request
holds its worker while it waits for SQLite's write lock, so a few spare
workers keep pages answering during a burst of payments. The app is not
preloaded: each worker imports it after the fork and opens its database
connection per request (never one inherited across a fork).
"""

import multiprocessing
import os

bind = os.environ.get("SHOP_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
preload_app = False
# Longer than the database busy timeout (10 s), so a request waiting for the write lock
# answers 503 itself instead of being killed mid-way.
timeout = 30
graceful_timeout = 30
keepalive = 5
# A worker is replaced now and then, so slow growth (caches, fragmentation) never piles up.
max_requests = 2000
max_requests_jitter = 200
# nginx on the same host is the only client; the app reads its headers through ProxyFix
# (TRUSTED_PROXIES=1), so gunicorn itself trusts none.
forwarded_allow_ips = ""
accesslog = None  # the app logs one JSON line per request, with its request id
errorlog = "-"
loglevel = "info"
