"""Validation shared by every form that collects people's details."""

import re
import secrets
import unicodedata
from decimal import Decimal

import phonenumbers
from babel.numbers import get_currency_precision
from flask_babel import format_number
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import ngettext
from wtforms import HiddenField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import Optional
from wtforms.validators import Regexp

from models.shop.settings import load_settings
from models.users.passwords import common_passwords
from models.values import country_names
from models.values import e164_phone
from models.values import has_invisible_characters
from models.values import LINE_BREAKS
from models.values import minor_units
from models.values import MONEY_MAX
from models.values import normalized_email
from models.values import NoSuchPhoneNumber
from models.values import NotAPhoneNumber
from models.values import row_id

PASSWORD_MIN = 8
PASSWORD_MAX = 256
KEY_SHAPE = r"^[A-Za-z0-9_-]{16,64}$"
CHOOSE_LISTED = lazy_gettext("Choose one of the listed options.")
FORM_EXPIRED = lazy_gettext("This form has expired. Please reload the page.")


def clean_text(value):
    """Trimmed, NFC-normalised text with line breaks as \\n (a filter for every free-text field)."""
    if value is None:
        return value
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()


def plain_text(form, field):
    """Refuse control and invisible formatting characters (they only ever cause trouble).

    A text area is text of several lines: line breaks and tabs are welcome there (and shown as
    paragraphs, the `paragraphs` filter); a one-line field refuses them like any control character.
    """
    allowed = LINE_BREAKS if isinstance(field, TextAreaField) else ""
    if field.data and isinstance(field.data, str) and has_invisible_characters(field.data, allowed):
        raise ValidationError(
            gettext("%(label)s contains characters we can't store. Please retype it.", label=field.label.text)
        )


def email_address(form, field):
    try:
        field.data = normalized_email(field.data or "")
    except ValueError:
        raise ValidationError(gettext("Enter an email address like name@example.com.")) from None


def new_password(form, field):
    password = field.data or ""
    if len(password) < PASSWORD_MIN:
        raise ValidationError(gettext("Use at least %(number)s characters.", number=PASSWORD_MIN))
    if len(password) > PASSWORD_MAX:
        raise ValidationError(gettext("Use at most %(number)s characters.", number=PASSWORD_MAX))
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise ValidationError(
            gettext("That password is too common. Try a few words that mean something to you.")
        )


def phone_number(*countries):
    """Validator factory: any valid phone, stored E.164. A number without + is read as a number of
    the first of `countries` where it exists: give the address's country first, then the shop's, so
    06 12 34 56 78 with a French address is French in a British shop."""

    def validate(form, field):
        if not field.data:
            return
        readable = False
        for country in dict.fromkeys(country for country in countries if country):
            try:
                field.data = e164_phone(field.data, country)
                return
            except NotAPhoneNumber:
                continue
            except NoSuchPhoneNumber:
                readable = True
        if not readable:
            raise ValidationError(gettext("Enter a phone number like 020 7946 0000 or +44 20 7946 0000."))
        raise ValidationError(
            gettext("That phone number doesn't look right. Check the digits and the country code.")
        )

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
    """(code, name) for every country, in alphabetical order as the language reads it: accents
    don't count (« Égypte » comes after « Danemark », not after « Zimbabwe »)."""
    return sorted(country_names(locale).items(), key=lambda pair: alphabetical(pair[1]))


def alphabetical(text):
    """A sort key for names: without accents, case folded (then as written, to break ties)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return bare.casefold(), text


def currency_decimals():
    """How many decimals the shop's currency has (2 for EUR, 0 for JPY)."""
    return get_currency_precision(load_settings().currency)


class MoneyField(StringField):
    """An amount typed as 12.50 (or 12,50), held as integer minor units (1250).

    Refuses NaN, infinities, exponents, signs, thousands separators, more
    decimals than the currency has, and absurd sizes, each with a clear message.
    """

    def __init__(self, label=None, validators=None, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        kwargs.setdefault(
            "render_kw", {"inputmode": "decimal", "autocomplete": "off", "class": "input-short"}
        )
        super().__init__(label, validators, **kwargs)
        # An amount is required unless the form says Optional (labels show "(optional)" from this).
        self.flags.required = not any(isinstance(v, Optional) for v in self.validators)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        decimals = currency_decimals()
        return f"{Decimal(self.data).scaleb(-decimals):.{decimals}f}"

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        text = (valuelist[0] or "").strip()
        self.data = None
        if not text:
            raise ValueError(gettext("Enter an amount, like 10 or 12.50."))
        decimals = currency_decimals()
        minor = minor_units(text, decimals)
        if minor is None:
            raise ValueError(
                ngettext(
                    "Enter an amount using digits and at most %(num)d decimal, like 12.5.",
                    "Enter an amount using digits and at most %(num)d decimals, like 12.50.",
                    decimals,
                )
                if decimals
                else gettext("Enter a whole amount using digits, like 1200.")
            )
        if minor > MONEY_MAX:
            raise ValueError(gettext("That amount is too large."))
        if minor == 0 and not self.allow_zero:
            raise ValueError(gettext("Enter an amount above zero."))
        self.data = minor

    def pre_validate(self, form):
        if self.data is None and not self.process_errors:
            raise ValidationError(gettext("Enter an amount, like 10 or 12.50."))


class Required:
    """Marks a field required (the label, the `required` attribute) for fields that refuse empty
    input themselves, like MoneyField."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        pass


def new_key():
    """A fresh idempotency key."""
    return secrets.token_urlsafe(18)


class IdempotencyKeyField(HiddenField):
    """A key made once per rendered form: a double click, a reload or a retry of that form finds
    what its first submission did instead of doing it again. A key that isn't one is refused
    with `expired`."""

    def __init__(self, expired=FORM_EXPIRED, **kwargs):
        super().__init__(default=new_key, validators=[Regexp(KEY_SHAPE, message=expired)], **kwargs)


def as_id(value):
    """A row's id from a form (text) or from code (an int), as an int; None for no choice ("").
    ValueError for anything no row's id can be (models.values.row_id decides)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = row_id(value)
    if number is None:
        raise ValueError(value)
    return number


class IdField(HiddenField):
    """A row's id in a hidden field, held as an int (None when empty). Anything no id can be
    (2**63, "-1", "²", "١٢", "abc") is refused with `message`, and never reaches the database."""

    def __init__(self, label=None, validators=None, message=CHOOSE_LISTED, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        self.data = None
        try:
            self.data = as_id(valuelist[0])
        except ValueError:
            raise ValueError(self.message) from None


class IdSelectField(SelectField):
    """A choice among rows, their ids as the values, held as an int (None for a "" choice).
    Anything no id can be is refused with `message`, as is an id not offered (unless
    validate_choice=False, where the view looks the row up itself)."""

    def __init__(self, label=None, validators=None, message=CHOOSE_LISTED, **kwargs):
        super().__init__(
            label,
            validators,
            coerce=as_id,
            invalid_value_message=message,
            invalid_choice_message=message,
            **kwargs,
        )


# A whole number's problems, each a whole sentence (word order and agreement differ between
# languages). A field gives its own with `messages=` ({key: lazy_gettext(...)}, the keys below;
# %(minimum)s and %(maximum)s are filled in); WHOLE_NUMBER_MESSAGES otherwise. `noun` is the older
# way and still works: it names the field inside general sentences (NOUN_MESSAGES).
WHOLE_NUMBER_MESSAGES = {
    "missing": lazy_gettext("Enter a number, like 2."),
    "negative": lazy_gettext("The number can't be negative."),
    "not_whole": lazy_gettext("Enter the number as a whole number using digits, like 2."),
    "too_small": lazy_gettext("The number must be at least %(minimum)s."),
    "too_large": lazy_gettext("The number can be at most %(maximum)s."),
}
NOUN_MESSAGES = {
    "missing": lazy_gettext("Enter a %(noun)s, like 2."),
    "negative": lazy_gettext("The %(noun)s can't be negative."),
    "not_whole": lazy_gettext("Enter the %(noun)s as a whole number using digits, like 2."),
    "too_small": lazy_gettext("The %(noun)s must be at least %(minimum)s."),
    "too_large": lazy_gettext("The %(noun)s can be at most %(maximum)s."),
}


class WholeNumberField(StringField):
    """A count typed as digits ("3"), held as an int; each wrong shape gets its own message.

    A text input with inputmode=numeric, not type=number: browsers quietly
    empty a number input holding "abc" or accept "1e3", and the message
    would then be about the wrong thing. What was typed is shown back as typed.
    """

    def __init__(
        self,
        label=None,
        validators=None,
        minimum=0,
        maximum=None,
        noun=None,
        missing=None,
        messages=None,
        **kwargs,
    ):
        self.minimum, self.maximum, self.noun = minimum, maximum, noun
        self.messages = {**(NOUN_MESSAGES if noun else WHOLE_NUMBER_MESSAGES), **(messages or {})}
        if missing:
            self.messages["missing"] = missing
        render_kw = {"inputmode": "numeric", "autocomplete": "off", "class": "input-number"}
        render_kw.update(kwargs.pop("render_kw", {}))
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.flags.required = not any(isinstance(v, Optional) for v in self.validators)

    @property
    def missing(self):
        return self.message("missing")

    def message(self, key):
        """The problem `key` in the page's language, with the field's numbers filled in."""
        text = str(self.messages[key])
        if "%(" not in text:
            return text
        return text % {
            "noun": self.noun,
            "minimum": format_number(self.minimum),
            "maximum": format_number(self.maximum) if self.maximum is not None else "",
        }

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        text = (valuelist[0] or "").strip()
        self.data = None
        if not text:
            if self.flags.required:
                raise ValueError(self.missing)
            return
        if re.fullmatch(r"-\s*[0-9]+", text):
            raise ValueError(self.message("negative"))
        # [0-9], not \d: \d also matches other scripts' digits.
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise ValueError(self.message("not_whole"))
        number = int(text)
        if number < self.minimum:
            raise ValueError(self.message("too_small"))
        if self.maximum is not None and number > self.maximum:
            raise ValueError(self.message("too_large"))
        self.data = number

    def pre_validate(self, form):
        if self.data is None and self.flags.required and not self.process_errors:
            raise ValidationError(self.missing)


class PercentField(StringField):
    """A percentage typed as 2.5, held as basis points (250); between 0 and 100."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{Decimal(self.data).scaleb(-2).normalize():f}"

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        text = (valuelist[0] or "").strip().rstrip("%").strip()
        self.data = None
        if not re.match(r"^[0-9]{1,3}(?:[.,][0-9]{1,2})?$", text):
            raise ValueError(gettext("Enter a percentage like 2 or 2.5."))
        basis_points = int(Decimal(text.replace(",", ".")) * 100)
        if basis_points > 10_000:
            raise ValueError(gettext("A percentage can be at most 100."))
        self.data = basis_points
