"""Validation shared by every form that collects people's details."""

import functools
import gzip
import unicodedata
from pathlib import Path

import babel
import phonenumbers
from email_validator import EmailNotValidError
from email_validator import validate_email
from wtforms import ValidationError

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "models" / "data" / "common-passwords.txt.gz"
PASSWORD_MIN = 8
PASSWORD_MAX = 256


def clean_text(value):
    """Trimmed, NFC-normalised text (a filter for every free-text field)."""
    if value is None:
        return value
    return unicodedata.normalize("NFC", value).strip()


def plain_text(form, field):
    """Refuse control and invisible formatting characters (they only ever cause trouble)."""
    if field.data and any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in field.data):
        raise ValidationError(f"{field.label.text} contains characters we can't store. Please retype it.")


def email_address(form, field):
    try:
        info = validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("Enter an email address like name@example.com.") from None
    field.data = info.normalized.lower()


@functools.cache
def common_passwords():
    with gzip.open(COMMON_PASSWORDS_FILE, "rt") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def new_password(form, field):
    password = field.data or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(f"Use at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise ValidationError(f"Use at most {PASSWORD_MAX} characters.")
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise ValidationError("That password is too common. Try a few words that mean something to you.")


def phone_number(default_country):
    """Validator factory: any valid phone, stored E.164 (numbers without + read as the shop's country)."""

    def validate(form, field):
        if not field.data:
            return
        try:
            number = phonenumbers.parse(field.data, default_country)
        except phonenumbers.NumberParseException:
            raise ValidationError("Enter a phone number like 020 7946 0000 or +44 20 7946 0000.") from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(
                "That phone number doesn't look right. Check the digits and the country code."
            )
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return validate


def national_phone(e164, default_country):
    """How a stored E.164 number is shown: national format at home, international otherwise."""
    if not e164:
        return ""
    number = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(number) == default_country:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def country_choices(locale):
    names = babel.Locale.parse(locale).territories
    codes = [
        code
        for code in names
        if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "QO", "ZZ")
    ]
    return sorted(((code, names[code]) for code in codes), key=lambda pair: pair[1])
