"""Which language the shop speaks, to whom: English (the source language) and French.

A language is a two-letter code ("en", "fr"). The shop's default language is the language of its
locale setting ("fr_FR" → "fr"). Each page is in the language its visitor chose (views/language.py
picks it); each message in its recipient's (`in_language`), also when the jobs process writes it.

Amounts, dates and country names follow the active language with the shop's region, currency and
time zone: an English page of a French shop writes "7 Dec 2026" and "€1,234.50" in en_FR, a French
page "7 déc. 2026" and "1 234,50 €" (`locale_for`).
"""

from contextlib import contextmanager
from decimal import Decimal

import babel
from babel.numbers import format_currency
from babel.numbers import format_percent
from babel.numbers import get_currency_precision
from flask import has_app_context
from flask_babel import force_locale
from flask_babel import get_locale

from models.shop.settings import load_settings

# Each language's name written in that language: what the selector shows.
LANGUAGES = {"en": "English", "fr": "Français"}
SOURCE_LANGUAGE = "en"


def supported(language):
    """`language` when the shop speaks it ("fr", "fr-CA", "fr_FR" → "fr"), else None."""
    code = (language or "").replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def shop_language(settings=None):
    """The shop's default language: its locale's language when the shop speaks it, else English."""
    if settings is None:
        settings = load_settings()
    return supported(settings.locale) or SOURCE_LANGUAGE


def locale_for(language, settings=None):
    """The Babel locale for `language` in the shop's region: "en" in a French shop is en_FR, "fr"
    in a British one plain fr (Babel has no fr_GB); the shop's own language is its locale."""
    if settings is None:
        settings = load_settings()
    language = supported(language) or shop_language(settings)
    if language == supported(settings.locale):
        return settings.locale
    regional = f"{language}_{settings.country}"
    try:
        babel.Locale.parse(regional)
    except (babel.UnknownLocaleError, ValueError):
        return language
    return regional


def active_locale():
    """The locale amounts and dates are written in now: the page's or the message's (as a string)."""
    locale = get_locale() if has_app_context() else None
    if locale is None:
        return load_settings().locale
    return str(locale)


def active_language():
    """The language pages and messages are written in now ("en", "fr")."""
    return supported(active_locale()) or SOURCE_LANGUAGE


@contextmanager
def in_language(language):
    """Write everything inside in `language` (the shop's default when None or unknown): a message
    to a customer in their language, whoever or whatever is sending it."""
    with force_locale(locale_for(language)):
        yield


def format_money(minor_units):
    """Minor units as the shop writes an amount, for messages built outside templates."""
    settings = load_settings()
    amount = Decimal(minor_units).scaleb(-get_currency_precision(settings.currency))
    return format_currency(amount, settings.currency, locale=active_locale())


def format_percent_bp(basis_points):
    """Basis points as the shop's locale writes a percentage: 200 -> "2%", 250 -> "2.5%"."""
    value = Decimal(basis_points) / 10000
    return format_percent(value, locale=active_locale(), decimal_quantization=False)


def country_name(code, locale=None):
    """A country's name in the shop's language ("United Kingdom" for GB), for addresses on every
    page, invoice and email; the code itself when CLDR has no name for it."""
    if not code:
        return ""
    return babel.Locale.parse(locale or active_locale()).territories.get(code, code)
