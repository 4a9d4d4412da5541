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

Two parts, one template. A template writes the text part and asks for the blocks the HTML part
draws differently (`_Blocks`: a button with words for each of the shop's links, a code set large,
bank details in a box, the order's items as a table, a heading in bold); the text part keeps every fact and every
full address. How the HTML part is laid out for phones: see "The HTML part" below.
"""

import re
from html import unescape
from urllib.parse import urlsplit

from flask import current_app
from flask import render_template
from flask_babel import get_translations
from flask_babel import gettext
from flask_babel import lazy_gettext
from markupsafe import escape
from markupsafe import Markup

from models.shop.language import format_money
from models.shop.language import format_percent_bp
from models.shop.language import in_language
from models.shop.language import supported
from models.shop.outbox import send_mail
from models.shop.settings import load_settings
from models.users.user import User


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


# The characters that mark a template's blocks (TOKEN, below): never part of what someone typed.
NOT_TYPED = str.maketrans("", "", "\ue000\ue001")


def unlinkable(text):
    """`text` written so that no mail client turns it into a link, and still readable:
    "https://evil.example/claim" becomes "https[:]//evil[.]example/claim"."""
    text = str(text).translate(NOT_TYPED).replace("://", "[:]//")
    return HOST.sub(_bracket_dots, text)


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
    """The app's Jinja environment with every shown value passed through `_as_in_email`, and its
    own `_`/`gettext`/`ngettext` (`_email_gettext`)."""
    extensions = current_app.extensions
    if "shop_email_templates" not in extensions:
        # A cache of its own: templates compiled without the finalize must never be reused here.
        overlay = current_app.jinja_env.overlay(finalize=_as_in_email, cache_size=100)
        overlay.globals = {
            **overlay.globals,
            "_": _email_gettext,
            "gettext": _email_gettext,
            "ngettext": _email_ngettext,
        }
        extensions["shop_email_templates"] = overlay
    return extensions["shop_email_templates"]


# The shop's sentences in an email template are its own words (ShopWords), and what fills their
# placeholders is shown as any value is (`_as_in_email`): a customer's name stays unlinkable, the
# shop's contact address or name as written. Jinja's new-style gettext: `%` is always applied, so
# a message writes a literal percent sign as %%.
def _email_gettext(message, **variables):
    translated = get_translations().ugettext(message)
    return ShopWords(translated % {name: _as_in_email(value) for name, value in variables.items()})


def _email_ngettext(singular, plural, num, **variables):
    variables.setdefault("num", num)
    translated = get_translations().ungettext(singular, plural, num)
    return ShopWords(translated % {name: _as_in_email(value) for name, value in variables.items()})


def send_templated(to, kind, subject, template, secrets=(), unasked=False, language=None, **context):
    """Queue `email/<template>.txt` to `to`, inside the caller's transaction.

    Both parts come from that one template, so they can never say different things: the text
    part is what it writes; the HTML part is the same paragraphs in the shop's email layout, with
    the blocks the template asked for drawn for a phone (`button`, `code`, `order_items`: see
    `_Blocks`). `secrets` and `unasked`: see send_text. Written in the recipient's language
    (`recipient_language`); `subject` is a lazy string (`lazy_gettext`), read in that language.
    """
    with in_language(recipient_language(to, language)):
        settings = load_settings()
        blocks = _Blocks()
        subject = str(subject)
        context = {
            "shop": _ShopSettingsWords(settings),
            "subject": subject,
            "button": blocks.button,
            "link": blocks.link,
            "code_block": blocks.code,
            "order_items": blocks.order_items,
            "details": blocks.details,
            "heading": blocks.heading,
            **context,
        }
        marked = _email_templates().get_template(f"email/{template}.txt").render(context).strip() + "\n"
        text = blocks.as_text(marked)
        html = _layout(settings, subject, kind, text_to_paragraphs(marked, blocks))
    return _queue(to, kind, subject, text, html, secrets=secrets, unasked=unasked)


def recipient_language(to, language=None):
    """The language a message to `to` is written in: `language` when the sender knows it (a
    registration not yet confirmed, an order's), else the language of the account with that
    address, else the shop's default language (None)."""
    if supported(language):
        return language
    user = User.by_email(to)
    return user.language if user is not None else None


def send_text(
    to,
    kind,
    subject,
    text,
    headers=None,
    expires_at=None,
    secrets=(),
    unasked=False,
    links=None,
    language=None,
    pictures=(),
):
    """Queue a message whose plain text is already written, in the shop's fixed email layout.

    `links`: {url: label} for the shop's links that stand on a line of their own: the HTML part
    shows a button with that label (a `Quiet` label: a plain link) instead of the address.
    `secrets`: every value in the message that lets its reader act as the recipient (the token
    of a sign-in, reset, set-password, confirmation or email-change link, a code): the outbox
    masks them on the owner's pages and erases them once delivered (models/shop/outbox.py).
    `unasked`: anyone can make the shop send it to an address that is not theirs; then it is not
    queued (None) once that address had its share (outbox.may_send_unasked).
    Whoever writes `text` shows the values someone typed through `unlinkable`, in the
    recipient's language (`language`: see recipient_language); the layout around it follows.
    `pictures`: (absolute URL under the shop's address, alt text, width, height) of small pictures
    the HTML part shows in a row after the text's second paragraph (a reminder's items).
    """
    with in_language(recipient_language(to, language)):
        settings = load_settings()
        subject = str(subject)
        text = text.translate(NOT_TYPED).strip() + "\n"
        blocks = _Blocks(links)
        pieces = text_to_paragraphs(text, blocks)
        if pictures:
            for url, *_ in pictures:
                _check_shop_link(url)
            pieces.insert(min(2, len(pieces)), blocks._render("_pictures.html", pictures=pictures))
        html = _layout(settings, subject, kind, pieces)
    return _queue(
        to,
        kind,
        subject,
        text,
        html,
        headers=headers,
        expires_at=expires_at,
        secrets=secrets,
        unasked=unasked,
    )


def _queue(to, kind, subject, text, html, **fields):
    settings = load_settings()
    return send_mail(to, f"{subject} · {settings.shop_name}", text, html=html, kind=kind, **fields)


# The HTML part -------------------------------------------------------------------------------
#
# Read on a phone first: at most 600 px wide (a centred table with max-width, and a fixed-width
# table for Outlook, which ignores max-width), 16 px text, inline styles (mail clients drop
# <style>; the dark-mode rules there are a bonus for those that keep it), long words wrap. No
# address is shown as text: each of the shop's links is a button (or a link) with words on it;
# the text part keeps the full addresses. A sign-in or confirmation code is set large; an order's
# items are a table. The footer says who sent it and why the reader got it (`WHY`).

# Why the reader got the message, by kind (the footer); a kind not listed has an account.
WHY_OWNER = lazy_gettext("You get this email as the shop's contact address.")
WHY_MOVE = lazy_gettext("You get this email because someone asked to move an account to this address.")
WHY = {
    "new_order_owner": WHY_OWNER,
    "new_orders_digest_owner": WHY_OWNER,
    "order_late_payment_owner": WHY_OWNER,
    "order_withdrawal_owner": WHY_OWNER,
    "confirm_email": lazy_gettext(
        "You get this email because this address was used to create an account with us."
    ),
    "already_registered": lazy_gettext(
        "You get this email because someone asked to register this address with us."
    ),
    "sign_in_code": lazy_gettext("You get this email because someone asked to sign in with this address."),
    "reset_password": lazy_gettext(
        "You get this email because someone asked to reset the password for this address."
    ),
    "set_password": lazy_gettext("You get this email because we opened an account for this address."),
    "confirm_new_email": WHY_MOVE,
    "email_change_taken": WHY_MOVE,
}
WHY_ORDER = lazy_gettext("You get this email because you ordered from us.")
WHY_REMINDER = lazy_gettext("You get this email because an order of yours is waiting for payment.")
WHY_ACCOUNT = lazy_gettext("You get this email because you have an account with us.")


def why_sent(kind):
    """The footer's sentence: why the reader got a message of this kind."""
    if kind in WHY:
        return WHY[kind]
    if kind.startswith("payment_reminder"):
        return WHY_REMINDER
    if kind.startswith("order_"):
        return WHY_ORDER
    return WHY_ACCOUNT


def _layout(settings, subject, kind, body):
    return render_template(
        "email/_layout.html",
        body=Markup("\n").join(body),
        shop=settings,
        subject=subject,
        why=str(why_sent(kind)),
    )


class Quiet(str):
    """A link's label for `send_text`'s links that asks for a plain link, not a button."""


class _Block:
    """Something a template asked for: what the text part says, and the HTML part's markup.

    `inline` is its markup inside a sentence (a block alone on its line is drawn as `html`)."""

    def __init__(self, text, html, inline=None, quiet=False):
        self.text = text
        self.html = html
        self.inline = inline if inline is not None else html
        self.quiet = quiet


# A block's place in the template's output until both parts are written (private-use characters
# no template writes, taken out of typed values by `unlinkable` and of send_text's text).
TOKEN = re.compile("\ue000(\\d+)\ue001")


class _Blocks:
    """The blocks of one message, asked for by its template through these helpers (each returns
    a token that stands for the block until `as_text` or `text_to_paragraphs` writes it)."""

    def __init__(self, links=None):
        self.blocks = []
        self.buttons = 0
        self.links = links or {}

    def _add(self, block):
        self.blocks.append(block)
        return ShopWords(f"\ue000{len(self.blocks) - 1}\ue001")

    def _render(self, name, **context):
        """A partial in email/, through the email templates (values unlinkable; .html autoescaped)."""
        written = _email_templates().get_template(f"email/{name}").render(context).strip()
        return Markup(written) if name.endswith(".html") else written  # noqa: S704 - autoescaped

    def _button(self, url, label, quiet=False):
        _check_shop_link(url)
        primary = not quiet and self.buttons == 0
        self.buttons += not quiet
        label = unlinkable(label)
        html = self._render("_button.html", url=url, label=label, primary=primary, quiet=quiet)
        inline = self._render("_button.html", url=url, label=label, quiet=True, inline=True)
        return html, inline

    def button(self, url, label, lead=""):
        """The shop's link `url`: a button that says `label` in the HTML part, the address in the
        text part. `lead`: a line the text part writes above the address that the button's words
        already say ("See your order:" above the button "See your order")."""
        html, inline = self._button(url, label)
        return self._add(_Block(f"{lead}\n{url}" if lead else url, html, inline))

    def link(self, url, label, lead=""):
        """Like `button`, drawn as a plain link (one of many in a list, an opt-out)."""
        html, inline = self._button(url, label, quiet=True)
        return self._add(_Block(f"{lead}\n{url}" if lead else url, html, inline, quiet=not lead))

    def code(self, value):
        """A sign-in or confirmation code, set large and easy to copy in the HTML part."""
        html = self._render("_code.html", code=value)
        return self._add(_Block(str(value), html, self._render("_code.html", code=value, inline=True)))

    def order_items(self, lines, total, heading=None):
        """An order's lines (`order.lines`: its products, then any discount and delivery line, each
        with its name and amount) and its total: in both parts from email/_order_items.*.
        `heading`: what the list is called (by default "What you ordered")."""
        heading = heading or gettext("What you ordered")
        rows = [_item_row(line) for line in lines]
        vat_lines = getattr(lines, "vat_lines", ())  # models/orders/messages.OrderLines
        context = {
            "rows": rows,
            "total": format_money(total),
            "heading": heading,
            "vat_rows": [_vat_row(vat) for vat in vat_lines if vat.rate_bp],
            "vat_not_applicable": bool(vat_lines) and not any(vat.rate_bp for vat in vat_lines),
        }
        text = self._render("_order_items.txt", **context)
        return self._add(_Block(str(text), self._render("_order_items.html", **context)))

    def details(self, rows):
        """Facts to copy, such as bank details: (label, value) pairs, "Label: value" lines in the text
        part, a shaded box with each value large under its label in the HTML part."""
        rows = [(label, value) for label, value in rows if value]
        text = "\n".join(
            gettext("%(label)s: %(value)s", label=label, value=_as_in_email(value)) for label, value in rows
        )
        return self._add(_Block(text, self._render("_details.html", rows=rows)))

    def heading(self, text):
        """A heading inside a long message (the terms of sale in an order's first email): its line
        in the text part, set in bold in the HTML part."""
        html = Markup('<p style="margin:24px 0 8px;font-weight:700;">{}</p>').format(_as_in_email(text))
        return self._add(_Block(str(_as_in_email(text)), html))

    def as_text(self, marked):
        """The template's output with every block written as text: the text part."""
        return TOKEN.sub(lambda m: self.blocks[int(m.group(1))].text, marked)

    def on_line(self, line):
        """The block that stands alone on `line`, or None: a token, or one of the shop's links
        (labelled by `links`, else with words that say where it goes)."""
        stripped = line.strip()
        match = TOKEN.fullmatch(stripped)
        if match:
            return self.blocks[int(match.group(1))]
        if URL.fullmatch(stripped) and _is_shops(stripped):
            label = self.links[stripped] if stripped in self.links else gettext("Open the page")
            stripped = ShopWords(stripped)  # under the shop's address: its own link
            quiet = isinstance(label, Quiet)
            html, inline = self._button(stripped, label, quiet=quiet)
            return _Block(stripped, html, inline, quiet=quiet)
        return None


def _vat_row(vat):
    """("of which VAT 20 %", amount) of one of an order's VAT lines."""
    return gettext("of which VAT %(rate)s", rate=format_percent_bp(vat.rate_bp)), format_money(vat.vat)


def _item_row(line):
    """(quantity or None, name, amount) of an order line as the items list shows it."""
    kind = getattr(line, "kind", "product")
    if kind == "delivery" and not line.line_total:
        amount = gettext("Free")
    else:
        amount = format_money(line.line_total)
    return (line.quantity if kind == "product" else None, line.name, amount)


def _check_shop_link(url):
    if not isinstance(url, ShopWords) and not _is_shops(url):
        raise ValueError(f"only the shop's own links are buttons, not {url!r}")


def _is_shops(url):
    return (url + "/").startswith(public_url() + "/")


# A link ends before trailing punctuation: "pay here: https://…/link/abc." links …/link/abc.
URL = re.compile(r"https?://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]")


def text_to_paragraphs(text, blocks=None):
    """The message as the HTML part's body: a list of safe HTML pieces.

    Paragraphs (separated by blank lines) become <p>; a line that is a block alone (see
    `_Blocks.on_line`) is drawn as that block between them. The shop's links inside a sentence
    are links that read as the address without its scheme; any other URL stays text, whatever
    wrote it: only URLs under the shop's address become links.
    """
    blocks = blocks or _Blocks()
    pieces = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        run = []
        for line in paragraph.split("\n"):
            block = blocks.on_line(line)
            if block is None:
                run.append(line)
                continue
            if block.quiet:  # a plain link: a line of its paragraph
                run.append(block.inline)
                continue
            if run:
                pieces.append(_paragraph(run, blocks))
                run = []
            pieces.append(block.html)
        if run:
            pieces.append(_paragraph(run, blocks))
    return pieces


def _paragraph(lines, blocks):
    html = "<br>\n".join(line if isinstance(line, Markup) else _inline(line, blocks) for line in lines)
    return Markup(f'<p style="margin:0 0 16px;">{html}</p>')  # noqa: S704 - escaped in _inline


def _inline(line, blocks):
    shop = public_url() + "/"
    escaped = str(escape(line))
    pieces, end = [], 0
    for match in URL.finditer(escaped):
        pieces += [_kept_together(escaped[end : match.start()]), _link(match.group(0), shop, blocks.links)]
        end = match.end()
    pieces.append(_kept_together(escaped[end:]))
    return TOKEN.sub(lambda m: str(blocks.blocks[int(m.group(1))].inline), "".join(pieces))


# An order number or a reference ("2612-00042"): never split over two lines at its hyphen.
NUMBER = re.compile(r"\b\d+(?:-\d+)+\b")


def _kept_together(escaped):
    return NUMBER.sub(lambda m: f'<span style="white-space:nowrap;">{m.group(0)}</span>', escaped)


def _link(url, shop, labels):
    """An escaped URL as a link if it is one of the shop's own (under `shop`, which ends in /): its
    words from `labels` (send_text's links), else the address without its scheme."""
    if not (url + "/").startswith(shop):
        return url
    label = labels.get(unescape(url))
    shown = escape(label) if label else url.split("://", 1)[1]
    return f'<a href="{url}" class="link" style="color:#0a6e4f;overflow-wrap:anywhere;">{shown}</a>'
