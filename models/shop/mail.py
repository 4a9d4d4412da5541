"""Messages from templates, with absolute links built from the shop's public address.

Jobs have no request, so links never come from the request's host: they
come from the shop's public address, SHOP_BASE_URL in the configuration, the same for web and
jobs and read on every start (a shop that moves changes it there, and every later email follows).
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


def absolute_url(endpoint, **values):
    """https://shop.example/path for `endpoint`, without needing a request."""
    base = urlsplit(public_url())
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def send_templated(to, kind, subject, template, secrets=(), **context):
    """Queue `email/<template>.txt` to `to`, inside the caller's transaction.

    The HTML part is the same text in the shop's fixed email layout, so the
    two versions can never say different things. `secrets`: see send_text.
    """
    settings = load_settings()
    context = {"shop": settings, "subject": subject, **context}
    text = render_template(f"email/{template}.txt", **context).strip() + "\n"
    return send_text(to, kind, subject, text, secrets=secrets)


def send_text(to, kind, subject, text, headers=None, expires_at=None, secrets=()):
    """Queue a message whose plain text is already written, in the shop's fixed email layout.

    `secrets`: every value in the message that lets its reader act as the recipient (the token
    of a sign-in, reset, set-password, confirmation or email-change link, a code): the outbox
    masks them on the owner's pages and erases them once delivered (models/shop/outbox.py).
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
    )


# A link ends before trailing punctuation: "pay here: https://…/link/abc." links …/link/abc.
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]")


def text_to_paragraphs(text):
    """Plain text as safe HTML paragraphs, with its links clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = str(escape(block))
        linked = URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(Markup(linked.replace("\n", "<br>\n")))  # noqa: S704 - escaped above
    return paragraphs
