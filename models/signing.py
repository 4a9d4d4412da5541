"""The shop's secret keys, and every signer made from them: the one place that knows about rotation.

`SECRET_KEY` signs; each key of `SECRET_KEY_FALLBACKS` (older keys, being rotated out) still
verifies, as Flask does for its session cookie. So every host of one shop must share the keys
(README, Secret keys and rotation), and a link signed before a rotation (a pay link, a reminder
opt-out link, a card payment's page) still opens after it until its old key is dropped.

Flask's session reads the same two settings itself; create_app gives Flask-WTF's CSRF tokens the
same list (`signing_keys`).
"""

import hashlib
import hmac
import re

from flask import current_app
from itsdangerous import URLSafeSerializer


def key_list(value):
    """SECRET_KEY_FALLBACKS as a list, from a list or from text with keys separated by commas
    or whitespace (`"old1 old2"`, `"old1,old2"`); empty entries are dropped."""
    if not value:
        return []
    if isinstance(value, str | bytes):
        text = value.decode() if isinstance(value, bytes) else value
        return [key for key in re.split(r"[\s,]+", text) if key]
    return [key for key in value if key]


def signing_keys(config=None):
    """Every key that may have signed something: the fallbacks, then SECRET_KEY last.

    That is itsdangerous's order for a list of keys: the last one signs, all of them verify
    (newest first)."""
    config = current_app.config if config is None else config
    return [*key_list(config.get("SECRET_KEY_FALLBACKS")), config["SECRET_KEY"]]


def serializer(salt):
    """A URL-safe signer for `salt`: signs with SECRET_KEY, verifies with it and each fallback."""
    return URLSafeSerializer(signing_keys(), salt=salt)


def keyed_digests(message):
    """HMAC-SHA256 of `message` under each key, SECRET_KEY's first: the first is the one to
    hand out, any of them is one the shop handed out."""
    message = message.encode() if isinstance(message, str) else message
    return [
        hmac.new(key.encode() if isinstance(key, str) else key, message, hashlib.sha256).hexdigest()
        for key in reversed(signing_keys())
    ]
