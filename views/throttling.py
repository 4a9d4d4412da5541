"""Throttling for the views: growing delays stored in the database, answered with 429."""

from functools import wraps

from flask import request
from werkzeug.exceptions import TooManyRequests

from models.shop import throttle
from views.security import client_address


def keys_for(action, email=None):
    """Throttle keys for this request: the client address, and the address with the account."""
    ip = client_address()
    keys = {"ip": f"{action}:ip:{ip}"}
    if email:
        keys["account"] = f"{action}:acct:{ip}:{email.strip().lower()}"
    return keys


def refuse_if_throttled(keys):
    """Raise 429 (with Retry-After and a friendly wait time) while any of `keys` must wait."""
    wait = throttle.retry_after(keys)
    if not wait:
        return
    error = TooManyRequests()
    error.retry_after = wait
    error.friendly = (
        f"For your security, please wait {wait} seconds before trying again."
        if wait < 120
        else f"For your security, please wait about {(wait + 59) // 60} minutes before trying again."
    )
    raise error


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
