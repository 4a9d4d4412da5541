"""Throttling for the views: growing delays stored in the database, answered with 429.

Three counters for a password: the client address (any account), the address with the account,
and the account over every address. The last one is skipped by a browser that signed in to the
account before (the `known_device` cookie: keyed hashes of the addresses signed in with, no
address in clear), so guesses spread over many addresses slow the guessers, never the customer's
own phone or laptop; a new device can still sign in with an emailed code.
"""

from functools import wraps

from flask import after_this_request
from flask import current_app
from flask import request
from flask_babel import ngettext
from werkzeug.exceptions import TooManyRequests

from models.shop import throttle
from models.signing import keyed_digests

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365
KNOWN_DEVICE_ACCOUNTS = 5  # a shared family computer remembers this many accounts


def client_address():
    return request.remote_addr or "unknown"


def _normal(email):
    return email.strip().lower()


def keys_for(action, email=None):
    """Throttle keys for this request: the client address, and the address with the account."""
    ip = client_address()
    keys = {"ip": f"{action}:ip:{ip}"}
    if email:
        keys["account"] = f"{action}:acct:{ip}:{_normal(email)}"
    return keys


def sign_in_keys(email):
    """keys_for a password sign-in, plus the account's own counter unless this is a known device."""
    keys = keys_for("sign-in", email)
    if not set(_device_tags(email)) & set(_known_tags()):
        keys["everywhere"] = f"sign-in:any:{_normal(email)}"
    return keys


def remember_device(email):
    """After a sign-in: this browser is one of the account's own devices from now on."""
    current, *older = _device_tags(email)
    tags = [current] + [tag for tag in _known_tags() if tag != current and tag not in older]

    @after_this_request
    def set_cookie(response):
        response.set_cookie(
            KNOWN_DEVICE_COOKIE,
            ".".join(tags[:KNOWN_DEVICE_ACCOUNTS]),
            max_age=KNOWN_DEVICE_DAYS * 86400,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def _device_tags(email):
    """The account's tag under SECRET_KEY first, then under each fallback key: a device signed in
    before a key rotation stays known (and gets the new tag at its next sign-in)."""
    return [digest[:32] for digest in keyed_digests(b"known-device\0" + _normal(email).encode())]


def _known_tags():
    return [tag for tag in request.cookies.get(KNOWN_DEVICE_COOKIE, "")[:200].split(".") if tag]


def refuse_if_throttled(keys, alternative=""):
    """Raise 429 (with Retry-After and a friendly wait time) while any of `keys` must wait;
    `alternative` says what the customer can do meanwhile."""
    wait = throttle.retry_after(keys)
    if not wait:
        return
    error = TooManyRequests()
    error.retry_after = wait
    error.friendly = (
        ngettext(
            "For your security, please wait %(num)s second before trying again.",
            "For your security, please wait %(num)s seconds before trying again.",
            wait,
        )
        if wait < 120
        else ngettext(
            "For your security, please wait about %(num)s minute before trying again.",
            "For your security, please wait about %(num)s minutes before trying again.",
            (wait + 59) // 60,
        )
    )
    if alternative:
        error.friendly += " " + str(alternative)
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
