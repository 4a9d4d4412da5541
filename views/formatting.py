"""Money and time as the shop's customers read them (Babel, the shop's locale and zone)."""

import datetime
import re
from decimal import Decimal

import babel
import phonenumbers
from babel.dates import format_date
from babel.dates import format_datetime
from babel.dates import format_time
from babel.numbers import format_currency
from babel.numbers import format_decimal
from babel.numbers import get_currency_precision
from babel.units import format_unit
from markupsafe import escape
from markupsafe import Markup

from forms.fields import national_phone
from views.settings import shop_settings


def init_app(app):
    app.add_template_filter(money)
    app.add_template_filter(paragraphs)
    app.add_template_filter(grouped)
    app.add_template_filter(local_time)
    app.add_template_filter(local_date)
    app.add_template_filter(local_day)
    app.add_template_filter(coming)
    app.add_template_filter(country_name)
    app.add_template_filter(phone)
    app.add_template_filter(duration)


def money(minor_units, currency=None):
    """Integer minor units (cents) as the shop's locale writes an amount."""
    settings = shop_settings()
    currency = currency or settings.currency
    amount = Decimal(minor_units).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=settings.locale)


def duration(delta):
    """A length of time in whole days when it is some ("30 days"), else in hours ("12 hours")."""
    days, rest = divmod(delta, datetime.timedelta(days=1))
    if days and not rest:
        return format_unit(days, "duration-day", locale=shop_settings().locale)
    return format_unit(
        round(delta / datetime.timedelta(hours=1), 1), "duration-hour", locale=shop_settings().locale
    )


def grouped(number):
    """A whole number with the locale's grouping (1,000)."""
    return format_decimal(number, locale=shop_settings().locale)


def local_time(stored_utc, format="medium"):
    """A stored naive-UTC instant in the shop's time zone."""
    if stored_utc is None:
        return ""
    settings = shop_settings()
    aware = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    return format_datetime(aware, format=format, locale=settings.locale)


def local_date(stored_utc, format="medium"):
    if stored_utc is None:
        return ""
    settings = shop_settings()
    aware = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    return format_date(aware, format=format, locale=settings.locale)


def coming(stored_utc):
    """A moment in the next days as people say it: "today at 11:00", "tomorrow at 17:00",
    "Monday 14 December at 11:00" (the shop's zone and locale)."""
    settings = shop_settings()
    local = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    time = format_time(local, format="short", locale=settings.locale)
    days_away = (local.date() - datetime.datetime.now(settings.tz).date()).days
    if days_away == 0:
        return f"today at {time}"
    if days_away == 1:
        return f"tomorrow at {time}"
    return f"{format_date(local, format='EEEE d MMMM', locale=settings.locale)} at {time}"


def local_day(day, format="medium"):
    """A calendar date (already a shop day, e.g. a due date) in the shop's locale."""
    if day is None:
        return ""
    return format_date(day, format=format, locale=shop_settings().locale)


def country_name(code):
    return babel.Locale.parse(shop_settings().locale).territories.get(code, code)


def phone(e164):
    """A stored E.164 number as people at home write it (as stored, if it doesn't parse)."""
    try:
        return national_phone(e164, shop_settings().country)
    except phonenumbers.NumberParseException:
        return e164


def paragraphs(text):
    """Text of several lines as HTML: a blank line starts a new paragraph, a line break stays one."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text or "") if block.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in block.split("\n")))
        for block in blocks
    )
