"""Money and time as the shop's customers read them (Babel, the shop's locale and zone)."""

import datetime
import re
from decimal import Decimal

import babel
import phonenumbers
from babel.dates import format_date
from babel.dates import format_datetime
from babel.dates import format_skeleton
from babel.dates import format_time
from babel.numbers import format_currency
from babel.numbers import format_decimal
from babel.numbers import get_currency_precision
from babel.units import format_unit
from flask_babel import gettext
from markupsafe import escape
from markupsafe import Markup

from forms.fields import national_phone
from models.shop.language import active_locale
from models.shop.language import country_name as settings_country_name
from models.shop.language import format_percent_bp
from models.shop.legal import blocks
from views.settings import shop_settings


def init_app(app):
    app.add_template_filter(money)
    app.add_template_filter(signed_money)
    app.add_template_filter(vat_rate)
    app.add_template_filter(paragraphs)
    app.add_template_filter(document)
    app.add_template_filter(grouped)
    app.add_template_filter(local_time)
    app.add_template_filter(local_date)
    app.add_template_filter(local_day)
    app.add_template_filter(local_month)
    app.add_template_filter(coming)
    app.add_template_filter(country_name)
    app.add_template_filter(phone)
    app.add_template_filter(duration)
    app.add_template_filter(format_percent_bp, name="percent_bp")  # 550 -> "5.5%"


def money(minor_units, currency=None):
    """Integer minor units (cents) as the shop's locale writes an amount."""
    settings = shop_settings()
    currency = currency or settings.currency
    amount = Decimal(minor_units).scaleb(-get_currency_precision(currency))
    return format_currency(amount, currency, locale=active_locale())


def signed_money(minor_units):
    """An amount that may be negative (a discount line), with a real minus sign: "−€2.00"."""
    if minor_units < 0:
        return "\u2212" + money(-minor_units)
    return money(minor_units)


def vat_rate(basis_points):
    """A VAT rate in basis points as the locale writes a percentage: 2000 -> "20%" ("20 %")."""
    return format_percent_bp(basis_points) if basis_points is not None else ""


def duration(delta):
    """A length of time in whole days when it is some ("30 days"), else in hours ("12 hours")."""
    days, rest = divmod(delta, datetime.timedelta(days=1))
    if days and not rest:
        return format_unit(days, "duration-day", locale=active_locale())
    return format_unit(round(delta / datetime.timedelta(hours=1), 1), "duration-hour", locale=active_locale())


def grouped(number):
    """A whole number with the locale's grouping (1,000)."""
    return format_decimal(number, locale=active_locale())


# One style for dates on every page and in every email (issue 22): a day is "7 Dec 2026", a moment
# "7 Dec 2026, 15:04" -- the month in words (never a numeric date that reads differently abroad),
# no seconds -- in the shop's locale and time zone. The filters' "medium" (the default) and
# "short" both give it, so older templates asking for "short" get it too; any other Babel format
# or pattern ("full", "EEEE") still passes through for the few places that say more.
HOUSE_STYLES = ("medium", "short")
DAY_SKELETON = "yMMMd"


def house_day(day, locale):
    """A date (or the date of a datetime) in the house style: "7 Dec 2026"."""
    return format_skeleton(DAY_SKELETON, day, locale=locale)


def house_moment(aware, locale):
    """An aware datetime in the house style: "7 Dec 2026, 15:04" (the locale's order and punctuation)."""
    parsed = babel.Locale.parse(locale)
    time = format_time(aware, format="short", locale=parsed)
    pattern = str(parsed.datetime_formats["medium"]).replace("'", "")
    return pattern.replace("{0}", time).replace("{1}", house_day(aware, parsed))


def local_time(stored_utc, format="medium"):
    """A stored naive-UTC instant in the shop's time zone: "7 Dec 2026, 15:04"."""
    if stored_utc is None:
        return ""
    settings = shop_settings()
    aware = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    if format in HOUSE_STYLES:
        return house_moment(aware, active_locale())
    return format_datetime(aware, format=format, locale=active_locale())


def local_date(stored_utc, format="medium"):
    """The shop's day of a stored naive-UTC instant: "7 Dec 2026"."""
    if stored_utc is None:
        return ""
    settings = shop_settings()
    aware = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    if format in HOUSE_STYLES:
        return house_day(aware, active_locale())
    return format_date(aware, format=format, locale=active_locale())


def local_month(day):
    """A month as words: "December 2026" (a statement's month)."""
    if day is None:
        return ""
    return format_skeleton("yMMMM", day, locale=active_locale())


def coming(stored_utc):
    """A moment in the next days as people say it: "today at 11:00", "tomorrow at 17:00",
    "Monday 14 December at 11:00" (the shop's zone and locale)."""
    settings = shop_settings()
    local = stored_utc.replace(tzinfo=datetime.UTC).astimezone(settings.tz)
    time = format_time(local, format="short", locale=active_locale())
    days_away = (local.date() - datetime.datetime.now(settings.tz).date()).days
    if days_away == 0:
        return gettext("today at %(time)s", time=time)
    if days_away == 1:
        return gettext("tomorrow at %(time)s", time=time)
    day = format_date(local, format="EEEE d MMMM", locale=active_locale())
    return gettext("%(day)s at %(time)s", day=day, time=time)


def local_day(day, format="medium"):
    """A calendar date (already a shop day, e.g. a due date) in the shop's locale: "7 Dec 2026"."""
    if day is None:
        return ""
    if format in HOUSE_STYLES:
        return house_day(day, active_locale())
    return format_date(day, format=format, locale=active_locale())


def country_name(code):
    """A two-letter country code as its name in the shop's language ("United Kingdom")."""
    return settings_country_name(code, active_locale())


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


def document(text):
    """A legal page's text as HTML (models/shop/legal.py `blocks`): its headings as <h2>, the rest
    as `paragraphs`. Everything is escaped."""
    return Markup("\n").join(
        Markup("<h2>{}</h2>").format(part) if kind == "heading" else paragraphs(part)
        for kind, part in blocks(text)
    )
