"""Throttling for the views: growing delays stored in the database, answered with 429."""

from functools import wraps

from flask import abort
from flask import request

from models import throttle
from views.security import client_address


class TooManyAttempts(Exception):
    pass


def keys_for(action, email=None):
    """Throttle keys for this request: the client address, and the address with the account."""
    ip = client_address()
    keys = {"ip": f"{action}:ip:{ip}"}
    if email:
        keys["account"] = f"{action}:acct:{ip}:{email.strip().lower()}"
    return keys


def refuse_if_throttled(keys):
    """Abort with 429 and Retry-After while any of `keys` must wait."""
    wait = throttle.retry_after(keys)
    if wait:
        error = _too_many(wait)
        abort(error)


def _too_many(wait):
    from werkzeug.exceptions import TooManyRequests

    error = TooManyRequests()
    error.retry_after = wait
    minutes = (wait + 59) // 60
    error.friendly = (
        f"For your security, please wait {wait} seconds before trying again."
        if wait < 120
        else f"For your security, please wait about {minutes} minutes before trying again."
    )
    return error


def throttled(action):
    """Count every POST to this view against the client address (sign-up and request floods)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method == "POST":
                keys = keys_for(action)
                refuse_if_throttled(keys)
                throttle.record_failure(keys)
            return view(*args, **kwargs)

        return wrapped

    return decorate
