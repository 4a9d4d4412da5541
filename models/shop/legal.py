"""The shop's legal pages: legal notice, terms of sale, privacy policy, model withdrawal form (issue 24).

Every page has a default text in each language the shop speaks (legal_texts.py), filled with the
shop's settings, until the owner saves their own (Admin → Legal pages; owner only, audited). The
owner writes a page in the shop's default language (`LegalPage.body`) and, if they like, in the
other languages (`translated_text` rows, models/shop/texts.py). A reader gets the owner's text in
their language, else the owner's default-language text (one contract, whatever the language: a
page the owner changed never falls back to our default wording), else our default text in their
language.

Markup: paragraphs separated by blank lines, a line starting "## " is a heading; nothing else is
read (pages escape everything: no HTML from the owner).

The terms' version (`terms_version`) is what an order records when its customer accepts them at
checkout: "<revision>, <when>": "0, <date of our default texts>" until the owner saves the terms,
then "1, 2026-12-08T10:15:00Z" (the instant saved, UTC) and so on. Every save is audited with the text before and after, so the
audit list keeps the wording of each version.
"""

import datetime
import re
from contextlib import nullcontext

import phonenumbers
from flask_babel import lazy_gettext
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit
from models.shop.language import active_language
from models.shop.language import in_language
from models.shop.language import LANGUAGES
from models.shop.language import shop_language
from models.shop.legal_texts import DEFAULTS
from models.shop.legal_texts import DEFAULTS_DATE
from models.shop.legal_texts import FILL_IN
from models.shop.legal_texts import FILL_IN_START
from models.shop.settings import load_settings
from models.shop.texts import save_translations
from models.shop.texts import translations

# The pages, in the footer's order: key (also the page's address) -> title.
PAGES = {
    "notice": lazy_gettext("Legal notice"),
    "terms": lazy_gettext("Terms of sale"),
    "privacy": lazy_gettext("Privacy policy"),
    "withdrawal-form": lazy_gettext("Withdrawal form"),
}
TERMS = "terms"
OWNER_KIND = "legal_page"  # the pages' texts in other languages (translated_text)
HEADING = "## "


class LegalPage(BaseModel):
    key = CharField(unique=True)
    body = TextField(default="")  # the owner's text in the shop's default language; "" = ours
    revision = IntegerField(default=0)  # saves that changed a text, in any language
    updated_at = DateTimeField(null=True)

    class Meta:
        table_name = "legal_page"


def _row(key):
    return LegalPage.get_or_none(LegalPage.key == key)


def _values(settings):
    """What the default texts are filled with: the shop's settings, and a visible "[to fill in]"
    for what only the owner knows."""
    phone = _international(settings.contact_phone.strip())
    return {
        "shop_name": settings.legal_name or settings.shop_name,
        "identity": seller_identity(settings),
        "email": settings.contact_email,
        "phone_line": str(lazy_gettext(", phone %(phone)s", phone=phone)) if phone else "",
        "currency": settings.currency,
        "hours": settings.auto_cancel_hours,
        "credit_days": settings.credit_terms_days,
        "director": FILL_IN % {"what": lazy_gettext("the name of the person responsible for the site")},
        "host": FILL_IN % {"what": lazy_gettext("the host's name, postal address and phone number")},
        "mediator": FILL_IN % {"what": lazy_gettext("the mediator's name, postal address and website")},
    }


def _international(phone):
    """A stored phone number as anyone, anywhere, dials it: "+44 20 7123 4567"."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def seller_identity(settings):
    """Who sells, as the legal notice, the terms and the withdrawal form name them: the legal
    identity the owner gives in Settings (as on invoices), with a visible "[to fill in]" for
    what is still missing."""
    lines = [settings.legal_name or settings.shop_name]
    lines += [settings.legal_mentions, settings.legal_address]
    if settings.company_number:
        lines.append(str(lazy_gettext("Registration number: %(number)s", number=settings.company_number)))
    if settings.vat_number:
        lines.append(str(lazy_gettext("VAT number: %(number)s", number=settings.vat_number)))
    missing = [
        what
        for what, given in (
            (lazy_gettext("registered address"), settings.legal_address),
            (lazy_gettext("registration number (SIREN/SIRET)"), settings.company_number),
        )
        if not given
    ]
    if missing:
        lines.append(FILL_IN % {"what": ", ".join(str(what) for what in missing)})
    return "\n".join(line for line in lines if line)


def default_text(key, language=None):
    """Our default text of page `key` in `language` (the active one unless told), filled in."""
    with in_language(language) if language else nullcontext():
        values = _values(load_settings())
        blocks = []
        for kind, message in DEFAULTS[key]:
            text = str(message) % values
            blocks.append(HEADING + text if kind == "heading" else text)
        return "\n\n".join(blocks)


def owner_texts(key):
    """{language: text} the owner saved for page `key` (the default language's in its row)."""
    texts = {
        language: text for language, text in translations(OWNER_KIND, key, "body").items() if text.strip()
    }
    row = _row(key)
    if row is not None and row.body.strip():
        texts[shop_language()] = row.body
    return texts


def page_text(key, language=None):
    """Page `key` as a reader in `language` (the active one unless told) reads it (module doc)."""
    language = language or active_language()
    texts = owner_texts(key)
    return texts.get(language) or texts.get(shop_language()) or default_text(key, language)


def last_updated(key):
    """The shop's day page `key` last changed: the owner's last save, else the date of our default
    texts."""
    row = _row(key)
    if row is None or not row.updated_at:
        return datetime.date.fromisoformat(DEFAULTS_DATE)
    return row.updated_at.replace(tzinfo=datetime.UTC).astimezone(load_settings().tz).date()


def terms_version():
    """The version of the terms of sale customers accept now: "<revision>, <when>" (module doc)."""
    row = _row(TERMS)
    if row is None or not row.revision:
        return f"0, {DEFAULTS_DATE}"
    return f"{row.revision}, {row.updated_at:%Y-%m-%dT%H:%M:%SZ}"


def unfilled(text):
    """Whether `text` still has a "[to fill in: …]" of our default texts, in any language."""
    markers = set()
    for language in LANGUAGES:
        with in_language(language):
            markers.add(str(FILL_IN_START))
    return any(marker in (text or "") for marker in markers)


def page_states():
    """For the owner's list: each page with, per language, whose text readers get ("own": the
    owner's; "fallback": the owner's default-language text; "default": ours) and whether it still
    has something to fill in."""
    default = shop_language()
    states = []
    for key, title in PAGES.items():
        texts = owner_texts(key)
        languages = []
        for language in sorted(LANGUAGES, key=lambda code: code != default):
            source = "own" if language in texts else "fallback" if default in texts else "default"
            languages.append(
                {
                    "language": language,
                    "name": LANGUAGES[language],
                    "source": source,
                    "unfilled": unfilled(page_text(key, language)),
                }
            )
        row = _row(key)
        states.append(
            {
                "key": key,
                "title": title,
                "updated_at": row.updated_at if row else None,
                "languages": languages,
            }
        )
    return states


def normalized(text):
    """The owner's text as kept: Unix line ends, no trailing spaces at its ends."""
    return re.sub(r"\r\n?", "\n", text or "").strip()


def save_page(key, body, translated, actor):
    """Keep the owner's text of page `key`: `body` in the shop's default language, `translated`
    ({language: text}) in the others ("" gives that language's readers the default-language text).
    Each change is audited; a save that changes anything is a new revision."""
    body = normalized(body)
    translated = {language: normalized(text) for language, text in translated.items()}
    now = utcnow()
    with write_transaction():
        row = _row(key) or LegalPage.create(key=key)
        before = translations(OWNER_KIND, key, "body")
        changed = body != row.body
        if changed:
            audit(
                actor,
                "legal_page_changed",
                f"legal page {key}",
                before={"body": row.body},
                after={"body": body},
            )
        changed |= any(text != normalized(before.get(language, "")) for language, text in translated.items())
        save_translations(OWNER_KIND, key, "body", translated, actor)
        if changed:
            LegalPage.update(body=body, revision=LegalPage.revision + 1, updated_at=now).where(
                LegalPage.id == row.id
            ).execute()
    return changed


def form_texts(key):
    """{language: text} the owner's edit form starts from: our default texts until they first save
    the page, then what they saved (a language they left empty stays empty)."""
    row = _row(key)
    if row is None or not row.revision:
        return {language: default_text(key, language) for language in LANGUAGES}
    texts = owner_texts(key)
    return {language: texts.get(language, "") for language in LANGUAGES}


def blocks(text):
    """A page's text as [(kind, text)]: ("heading", …) for a "## " line, ("paragraph", …) for the
    rest, in order (an email shows them)."""
    found = []
    for block in re.split(r"\n\s*\n", text or ""):
        lines = block.strip().split("\n")
        if lines[0].startswith(HEADING):
            found.append(("heading", lines.pop(0).removeprefix(HEADING).strip()))
        if any(line.strip() for line in lines):
            found.append(("paragraph", "\n".join(lines)))
    return found
