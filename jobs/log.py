"""The jobs process's log: one JSON object a line on standard error, like the web workers' lines.

views/request_log.py writes the same fields and adds the request's (id, route, user); jobs
have no request, and jobs/ does not import views/, so each layer keeps its own formatter.
"""

import json
import logging
import time


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, extra fields, traceback."""

    def format(self, record):
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging():
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # APScheduler logs every run at INFO (every 2 seconds for mail): keep only its warnings.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
