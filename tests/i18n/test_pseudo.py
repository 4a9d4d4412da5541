"""Nothing a person reads is left unmarked for translation (issue 23).

The shop runs in French with a pseudo-French catalogue in which every marked message reads
⟦ŵŕàƥƥéð⟧. Every page a visitor, a customer, the staff and the owner reach from the demo shop,
and every kind of email, is read; what is left once the ⟦…⟧ parts are taken out may only be what
people typed or the owner wrote (the database's own text), and what Babel writes in French (amounts,
dates, country names). An English word there is a string nobody marked.
"""

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urldefrag
from urllib.parse import urlsplit

import babel
import pytest

from models.base import db
from models.operations.demo import DEMO_PASSWORD
from models.operations.demo import load_demo_data
from models.shop.language import LANGUAGES
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.users.user import User
from tests.conftest import sign_in
from tests.i18n.catalogues import extract
from tests.i18n.catalogues import without_translated
from tests.i18n.catalogues import write_pseudo_catalogue
from tests.shop import test_email_links as emails

# Words that are the same in every language: names of things, not English.
UNTRANSLATED = {
    "EUR", "GBP", "USD", "IBAN", "BIC", "SWIFT", "PDF", "CSV", "Stripe", "Visa", "Mastercard", "SMTP",
    "HTTP", "HTTPS", "URL", "API", "JSON", "UTC", "SKU", "ISO", "WebP", "JPEG", "PNG", "htmx",
}  # fmt: skip
WORD = re.compile(r"[A-Za-z]{3,}")
UNTRANSLATED |= {word for name in LANGUAGES.values() for word in WORD.findall(name)}  # the selector
# Not read as prose: scripts and styles, and code (column names, headers, URLs the owner copies).
HIDDEN = ("script", "style", "code")
SHOWN_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label", "aria-description")
START = {"visitor": ["/", "/sign-in", "/register", "/no-such-page", "/legal/terms"], "customer": ["/account/"], "staff": ["/admin/"],
         "owner": ["/admin/", "/account/"]}  # fmt: skip
ROLES = {"visitor": None, "customer": "dan@demo.shop", "staff": "staff@demo.shop", "owner": "owner@demo.shop"}
SAME_KIND_MAX = 2
WEB_ADDRESS = re.compile(r"https?(?:://|\[:\]//)\S+")
SKIP = ("/static/", "/pictures/", "/sign-out", "/language")


@pytest.fixture(scope="session")
def pseudo_translations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pseudo")
    return write_pseudo_catalogue(extract(folder / "messages.pot"), folder)


@pytest.fixture
def app_overrides(pseudo_translations):
    return {"BABEL_TRANSLATION_DIRECTORIES": str(pseudo_translations)}


@pytest.fixture
def french_settings(app):
    with app.app_context():
        update_settings({"locale": "fr_FR", "country": "FR"})
    return app


@pytest.fixture
def french_shop(french_settings):
    with french_settings.app_context():
        load_demo_data()
    return french_settings


class ShownText(HTMLParser):
    """The text a page shows: its text outside scripts and styles, and the attributes people read."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self._hidden = [], [], 0
        self._other_language_field = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in HIDDEN or self._in_other_language(tag, attrs):
            self._hidden += 1
        self.parts.extend(attrs[name] for name in SHOWN_ATTRIBUTES if attrs.get(name))
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in HIDDEN or (tag == "textarea" and self._other_language_field):
            self._hidden -= 1
            self._other_language_field = False

    def _in_other_language(self, tag, attrs):
        """A field for the owner's text in another language (lang="en" on a French page: a legal
        page's English version, forms/translations.py) holds that language's words on purpose."""
        if tag == "textarea" and attrs.get("lang") and attrs["lang"] != "fr":
            self._other_language_field = True
        return tag == "textarea" and self._other_language_field

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


# Tables the shop writes its own words into (messages sent, ledger memos, logs, events; an order's
# events stay: staff type the dispatch note): their
# words are the shop's, so they are no excuse for English on a page.
SHOPS_OWN_WORDS = {
    "outbox_message", "journal", "entry", "ledger_account", "ledger_check_run", "audit_entry", "security_event",
    "provider_event", "reminder", "reminder_batch", "mail_request", "new_order_digest",
    "schema_migration", "heartbeat", "throttle_counter", "sandbox_notification", "sandbox_payment",
    "sandbox_refund", "user_session", "account_token", "credit_statement", "marketplace_import",
}  # fmt: skip


def words_people_wrote():
    """Every word of the text people typed or the owner wrote (names, products, addresses, codes)."""
    found = set()
    for table in set(db.get_tables()) - SHOPS_OWN_WORDS:
        columns = [column.name for column in db.get_columns(table)]
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            for value, _column in zip(row, columns, strict=True):
                if isinstance(value, str) and len(value) < 20_000:
                    found.update(WORD.findall(value))
    return found


def words_babel_writes(locale="fr_FR"):
    """What Babel writes in French: month and day names, countries, currencies."""
    data = babel.Locale.parse(locale)
    names = [*data.territories.values(), *data.currencies.values(), *data.languages.values()]
    for context in data.months.values():
        for width in context.values():
            names.extend(width.values())
    for context in data.days.values():
        for width in context.values():
            names.extend(width.values())
    return {word for name in names for word in WORD.findall(name)}


def english_left(text, allowed):
    return sorted({word for word in WORD.findall(without_translated(text)) if word not in allowed})


def kind_of(path):
    return re.sub(r"\d+", "N", path.split("?")[0]) + ("?" if "?" in path else "")


def crawl(client, role):
    """Each page `role` reaches by links from its start pages: {path: shown text}."""
    queue, seen, shown, kinds = list(START[role]), set(), {}, Counter()
    while queue:
        path = queue.pop(0)
        if path in seen or path.startswith(SKIP) or kinds[kind_of(path)] >= SAME_KIND_MAX:
            continue
        seen.add(path)
        kinds[kind_of(path)] += 1
        response = client.get(path)
        if response.status_code in (301, 302, 303) or not response.content_type.startswith("text/html"):
            continue
        parser = ShownText()
        parser.feed(response.get_data(as_text=True))
        shown[path] = WEB_ADDRESS.sub(" ", " ".join(parser.parts))  # addresses are not words
        for href in parser.links:
            parts = urlsplit(urldefrag(href)[0])
            if not parts.scheme and not parts.netloc and parts.path.startswith("/"):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return shown


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_written_in_marked_messages(french_shop, role):
    client = french_shop.test_client()
    if ROLES[role]:
        sign_in(client, User.by_email(ROLES[role]), password=DEMO_PASSWORD)
    pages = crawl(client, role)
    assert len(pages) >= 5, pages.keys()
    allowed = UNTRANSLATED | words_people_wrote() | words_babel_writes()
    unmarked = {path: left for path, text in pages.items() if (left := english_left(text, allowed))}
    assert not unmarked, f"English left on {len(unmarked)} of {len(pages)} pages:\n" + "\n".join(
        f"{path}: {' '.join(words[:25])}" for path, words in unmarked.items()
    )


@pytest.mark.parametrize("kind", sorted(emails.KINDS))
def test_every_email_is_written_in_marked_messages(french_settings, make_customer, owner, kind):
    with french_settings.app_context():
        to = emails.KINDS[kind](french_settings, make_customer, owner)
    message = emails.latest_message(to, kind)
    parser = ShownText()
    parser.feed(message.html_body)
    # What the triggers typed (a note, a reason) is kept in tables of the shop's own words too.
    typed = {*WORD.findall(emails.TYPED), *WORD.findall("Sorry about the delay.")}
    allowed = UNTRANSLATED | words_people_wrote() | words_babel_writes() | typed
    parts = {
        "subject": message.subject,
        "text": WEB_ADDRESS.sub(" ", message.text_body),  # the shop's links are addresses, not words
        "html": " ".join(parser.parts),
    }
    for part, text in parts.items():
        left = english_left(text, allowed)
        assert not left, f"{kind} {part}: English left: {' '.join(left)}"
    for link in re.findall(r"https?://\S+", message.text_body):  # and every link still answers
        client = emails.recipient_client(french_settings, to)
        response = client.get(link.removeprefix("http://shop.test"), follow_redirects=True)
        assert response.status_code == 200, f"{kind}: {link} answered {response.status_code}"


def test_the_check_finds_an_unmarked_word(french_shop):
    allowed = UNTRANSLATED | words_babel_writes()
    assert english_left("⟦Ƥàýéŕ⟧ Pay now 12,00 € · 7 déc. 2026", allowed) == ["Pay", "now"]
    assert OutboxMessage.select().count() > 0  # the demo's orders wrote their emails
