"""One JSON log line per request, and every log line of a request carrying its request id.

The id comes from the proxy's X-Request-ID header when it looks like one (nginx
sets `$request_id`, deploy/nginx-shop.conf), else a new one; it is sent back in
the response's X-Request-ID, so a customer's report of an error page can be
matched to the log line and the traceback. Logs go to standard error as JSON
objects (systemd's journal keeps them; `journalctl -u shop-web -o cat | jq`).
"""

import json
import logging
import re
import time
import uuid

from flask import g
from flask import has_request_context
from flask import request

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
log = logging.getLogger("shop.requests")


def init_app(app):
    app.before_request(start_request)
    app.after_request(finish_request)
    if not app.testing:
        configure_logging()


def start_request():
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("request_started")
    log.info(
        "request",
        extra={
            "fields": {
                "request_id": g.get("request_id"),
                "method": request.method,
                # The route, not the path: paths carry secrets (reset and confirmation links).
                "route": _route(),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                "user": _signed_in_user_id(),
                "htmx": request.headers.get("HX-Request") == "true",
            }
        },
    )
    return response


def _route():
    return request.url_rule.rule if request.url_rule is not None else "(no route)"


def _signed_in_user_id():
    """The user this request already loaded (none is loaded just for the log line)."""
    user = g.get("_login_user")
    return user.id if user is not None and user.is_authenticated else None


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, request id, extra fields,
    and the traceback when there is one."""

    def format(self, record):
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        entry.update(getattr(record, "fields", {}))
        if has_request_context():
            entry.setdefault("method", request.method)
            entry.setdefault("route", _route())
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(stream=None):
    """Send the shop's logs (and Flask's) to standard error as JSON lines, at INFO."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    for name in ("shop", "flask.app"):
        logger = logging.getLogger(name)
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
