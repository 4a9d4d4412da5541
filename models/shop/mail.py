"""Messages from templates, with absolute links built from the shop's public address.

Jobs have no request, so links never come from the request's host: they
come from the shop's public address, SHOP_BASE_URL in the configuration, the same for web and
jobs and read on every start (a shop that moves changes it there, and every later email follows).

Only the shop's own links are links. A message says what the shop wrote: its templates, the
owner's reminder texts, the Settings, and the links `absolute_url` builds (`ShopWords`). Everything
else that fills a message is someone's typing: a customer's name (anyone can register as
"Win 500 EUR: https://evil.example/claim"), an address, a company, a note or reason staff typed.
Email templates show every such value through `unlinkable` (the `finalize` of their Jinja
environment, so a new template or value can't forget it), which writes URLs and host names so that
no mail client makes a link of them; and the HTML part links only URLs under the shop's address.
"""

import re
from urllib.parse import urlsplit

from flask import current_app
from flask import render_template
from markupsafe import escape
from markupsafe import Markup

from models.shop.outbox import send_mail
from models.shop.settings import load_settings


def base_url_problem(url):
    """Why `url` cannot be the shop's public address, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"SHOP_BASE_URL must start with https:// (or http://), not {url!r}."
    if parts.query or parts.fragment:
        return f"SHOP_BASE_URL must have no ? or # part, not {url!r}."
    return None


def public_url():
    """The shop's public address without a trailing slash: https://shop.example."""
    return current_app.config["SHOP_BASE_URL"].rstrip("/")


class ShopWords(str):
    """Text the shop wrote itself (a link from `absolute_url`, a value from its Settings): email
    templates show it as it is. Any other value is someone's typing and shows `unlinkable`."""


def absolute_url(endpoint, **values):
    """https://shop.example/path for `endpoint`, without needing a request."""
    base = urlsplit(public_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return ShopWords(adapter.build(endpoint, values, force_external=True))


# A host name: labels joined by dots, the last of at least two letters ("evil.example",
# "www.evil.co.uk", the domain of an address but not its local part), not "J.R.R.", "e.g." or "5.00".
HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+(?![\w-]*@)")


def unlinkable(text):
    """`text` written so that no mail client turns it into a link, and still readable:
    "https://evil.example/claim" becomes "https[:]//evil[.]example/claim"."""
    return HOST.sub(_bracket_dots, str(text).replace("://", "[:]//"))


def _bracket_dots(match):
    host = match.group(0)
    last = host.rsplit(".", 1)[1]
    return host.replace(".", "[.]") if len(last) >= 2 and last.isalpha() else host


def _as_in_email(value):
    """What an email template shows for a value: the shop's own words as they are, anything else unlinkable."""
    return value if isinstance(value, ShopWords) else unlinkable(value)


class _ShopSettingsWords:
    """The shop's settings as email templates read them: the owner's own words (ShopWords)."""

    def __init__(self, settings):
        self._settings = settings

    def __getattr__(self, name):
        value = getattr(self._settings, name)
        return ShopWords(value) if isinstance(value, str) else value


def _email_templates():
    """The app's Jinja environment with every shown value passed through `_as_in_email`."""
    extensions = current_app.extensions
    if "shop_email_templates" not in extensions:
        # A cache of its own: templates compiled without the finalize must never be reused here.
        extensions["shop_email_templates"] = current_app.jinja_env.overlay(
            finalize=_as_in_email, cache_size=100
        )
    return extensions["shop_email_templates"]


def send_templated(to, kind, subject, template, secrets=(), unasked=False, **context):
    """Queue `email/<template>.txt` to `to`, inside the caller's transaction.

    The HTML part is the same text in the shop's fixed email layout, so the
    two versions can never say different things. `secrets` and `unasked`: see send_text.
    """
    settings = load_settings()
    context = {"shop": _ShopSettingsWords(settings), "subject": subject, **context}
    text = _email_templates().get_template(f"email/{template}.txt").render(context).strip() + "\n"
    return send_text(to, kind, subject, text, secrets=secrets, unasked=unasked)


def send_text(to, kind, subject, text, headers=None, expires_at=None, secrets=(), unasked=False):
    """Queue a message whose plain text is already written, in the shop's fixed email layout.

    `secrets`: every value in the message that lets its reader act as the recipient (the token
    of a sign-in, reset, set-password, confirmation or email-change link, a code): the outbox
    masks them on the owner's pages and erases them once delivered (models/shop/outbox.py).
    `unasked`: anyone can make the shop send it to an address that is not theirs; then it is not
    queued (None) once that address had its share (outbox.may_send_unasked).
    Whoever writes `text` shows the values someone typed through `unlinkable`.
    """
    settings = load_settings()
    text = text.strip() + "\n"
    html = render_template(
        "email/_layout.html", paragraphs=text_to_paragraphs(text), shop=settings, subject=subject
    )
    return send_mail(
        to,
        f"{subject} · {settings.shop_name}",
        text,
        html=html,
        kind=kind,
        headers=headers,
        expires_at=expires_at,
        secrets=secrets,
        unasked=unasked,
    )


# A link ends before trailing punctuation: "pay here: https://…/link/abc." links …/link/abc.
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]")


def text_to_paragraphs(text):
    """Plain text as safe HTML paragraphs, with the shop's own links clickable.

    Every link the shop writes is built from its public address (absolute_url), so only URLs
    under that address become links; any other stays text, whatever wrote it.
    """
    shop = public_url() + "/"
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = str(escape(block))
        linked = URL.sub(lambda m: _link(m.group(0), shop), escaped)
        paragraphs.append(Markup(linked.replace("\n", "<br>\n")))  # noqa: S704 - escaped above
    return paragraphs


def _link(url, shop):
    """An escaped URL as a link if it is one of the shop's own (under `shop`, which ends in /)."""
    if (url + "/").startswith(shop):
        return f'<a href="{url}">{url}</a>'
    return url
