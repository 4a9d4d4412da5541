"""The checks that values typed or imported from outside must pass, in one place.

Forms (forms/fields.py) and the marketplace import (models/marketplace/checking.py) both read
amounts, phone numbers, countries and email addresses from people and files; each keeps its
own wording of a problem, but what counts as valid is decided here. So are the ids of rows that
arrive in URLs, query strings and forms (`row_id`: views/lookups.py and forms/fields.py use it).
"""

import functools
import re
import unicodedata

import babel
import phonenumbers
from email_validator import EmailNotValidError
from email_validator import validate_email

MONEY_MAX = 100_000_000  # minor units: 1,000,000.00 for one price, order or line is a typo
INVISIBLE = ("Cc", "Cf", "Co", "Cs")  # control, formatting, private-use and surrogate characters
# Territory codes that are no country to ship to: unions, "unknown", and the pseudo-locales
# XA (Pseudo-Accents) and XB (Pseudo-Bidi) that CLDR lists for testing translations.
NOT_COUNTRIES = ("EU", "EZ", "UN", "QO", "ZZ", "XA", "XB")
LARGEST_ID = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint: no row's id is larger


def row_id(text):
    """A row's id read from outside (a URL, a query string, a form field), or None when it is none.

    Written as the shop writes ids: ASCII digits, no sign, no spaces, no leading zero, from 1 to
    LARGEST_ID. Not int(), which also reads " 1", "+1", "1_0" and other scripts' digits ("١٢");
    not str.isdigit(), which also accepts "²" (that int() then refuses). A bigger number would
    reach the database and fail there (OverflowError on SQLite), so it is refused here too.
    """
    if not isinstance(text, str) or not re.fullmatch(r"[1-9][0-9]{0,18}", text):
        return None
    number = int(text)
    return number if number <= LARGEST_ID else None


LINE_BREAKS = "\n\t"  # what text of several lines may hold of the control characters


def has_invisible_characters(text, allowed=""):
    """Whether `text` holds control or invisible characters (they only ever cause trouble),
    other than those `allowed` (LINE_BREAKS for text of several lines)."""
    return any(unicodedata.category(ch) in INVISIBLE and ch not in allowed for ch in text)


def minor_units(text, decimals):
    """An amount typed like 12.50 (or 12,50) as integer minor units, or None when it isn't one.

    Digits only ([0-9], never another script's digits), at most nine before the separator and
    `decimals` after it: no signs, exponents, NaN, infinities or thousands separators.
    """
    pattern = rf"([0-9]{{1,9}})(?:[.,]([0-9]{{1,{decimals}}}))?" if decimals else r"([0-9]{1,9})()"
    match = re.fullmatch(pattern, text)
    if not match:
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    return int(whole) * 10**decimals + (int(fraction.ljust(decimals, "0")) if decimals else 0)


class NotAPhoneNumber(ValueError):
    """Not readable as a phone number at all."""


class NoSuchPhoneNumber(ValueError):
    """Readable, but not a number that can exist (wrong length, unknown area code)."""


def e164_phone(text, default_country):
    """A phone number as E.164 (+442079460000); numbers without + read as `default_country`'s."""
    try:
        number = phonenumbers.parse(text, default_country or None)
    except phonenumbers.NumberParseException:
        raise NotAPhoneNumber(text) from None
    if not phonenumbers.is_valid_number(number):
        raise NoSuchPhoneNumber(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def country_names(locale):
    """{two-letter code: name in `locale`} for every country."""
    names = babel.Locale.parse(locale).territories
    return {
        code: names[code] for code in names if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }


def normalized_email(text):
    """The email address as stored (lower case), or ValueError when it isn't one."""
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError(text) from None
    return info.normalized.strip().lower()
