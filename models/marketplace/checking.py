"""Checking one incoming order, whatever its format: every value, with a reason for each problem.

Each reason is a lazy message (`lazy_gettext`) with its values: the report keeps its English text and
values (models/marketplace/results.py) and each reader reads it in their language. Column names
(`label`) stay as the file or the API wrote them.
"""

import datetime
import functools
import re
import unicodedata
from dataclasses import dataclass

from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext

from models.marketplace.channels import CHANNEL_PATTERN
from models.orders.order import ADDRESS_PARTS
from models.orders.order import SHOP_CHANNEL
from models.shop.language import format_money
from models.shop.settings import load_settings
from models.storefront.catalog import Product
from models.users.security_log import NO_CLIENT
from models.values import country_names
from models.values import e164_phone
from models.values import has_invisible_characters
from models.values import minor_units
from models.values import MONEY_MAX
from models.values import normalized_email

MAX_LINES_PER_ORDER = 200


MAX_QUANTITY = 9_999


# What Excel makes of a long order number in a column it thinks is numeric.
EXCEL_NUMBER = re.compile(r"^[0-9](?:[.,][0-9]+)?E\+?[0-9]+$", re.IGNORECASE)


WHITESPACE = re.compile(r"\s+")


TEXT_LIMITS = {"order_ref": 64, "email": 254, "first_name": 100, "last_name": 100, "phone": 40}


ADDRESS_LIMITS = {"country": 60, "phone": 40, "postal_code": 20}


ADDRESS_REQUIRED = ("name", "line1", "city", "country")


ITEM_NAME_MAX = 250


SLUG_MAX = 80


class Context:
    """The shop's settings an import checks against, read once per import, and who sent it."""

    def __init__(self, now, client=NO_CLIENT):
        settings = load_settings()
        self.now = now
        self.client = client  # logged with the accounts the import creates
        self.currency = settings.currency
        self.decimals = get_currency_precision(settings.currency)
        self.tz = settings.tz
        self.country = settings.country


def _text(value, label, errors, max_length=200, required=False):
    """Trimmed, NFC, inner whitespace (tabs, line breaks) made single spaces; "" when missing."""
    if value is None:
        value = ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # an order number sent as a JSON number
    if not isinstance(value, str):
        errors.append(lazy_gettext("%(label)s: expected text.", label=label))
        return ""
    text = WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if has_invisible_characters(text):
        errors.append(
            lazy_gettext(
                "%(label)s: contains control or invisible characters that can't be stored.", label=label
            )
        )
        return ""
    if len(text) > max_length:
        errors.append(
            lazy_gettext(
                "%(label)s: use at most %(most)d characters (this has %(count)d).",
                label=label,
                most=max_length,
                count=len(text),
            )
        )
        return ""
    if required and not text:
        errors.append(lazy_gettext("%(label)s: missing.", label=label))
    return text


def _amount(value, label, errors, decimals, required=False):
    """Minor units from "12.50" (or "12,50"); None when empty and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(lazy_gettext("%(label)s: missing.", label=label))
        return None
    if not isinstance(value, str):
        errors.append(
            lazy_gettext(
                '%(label)s: write the amount as a string like "12.50" (a JSON number can lose cents).',
                label=label,
            )
        )
        return None
    text = value.strip()
    minor = minor_units(text, decimals)
    if minor is None:
        if decimals:
            errors.append(
                lazy_gettext(
                    "%(label)s: “%(text)s” isn't an amount. Use digits and at most %(decimals)d decimals, "
                    "like 12.50, with no currency sign or thousands separator.",
                    label=label,
                    text=text[:30],
                    decimals=decimals,
                )
            )
        else:
            errors.append(
                lazy_gettext(
                    "%(label)s: “%(text)s” isn't an amount. Use digits, like 1250, with no currency sign or "
                    "thousands separator.",
                    label=label,
                    text=text[:30],
                )
            )
        return None
    if minor > MONEY_MAX:
        errors.append(
            lazy_gettext(
                "%(label)s: %(text)s is more than this shop accepts for one order.", label=label, text=text
            )
        )
        return None
    return minor


def _quantity(value, label, errors):
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,6}\s*", value):
        number = int(value)
    elif value is None or (isinstance(value, str) and not value.strip()):
        errors.append(lazy_gettext("%(label)s: missing.", label=label))
        return None
    else:
        errors.append(
            lazy_gettext(
                "%(label)s: enter a whole number from 1 to %(most)s.", label=label, most=f"{MAX_QUANTITY:,}"
            )
        )
        return None
    if not 1 <= number <= MAX_QUANTITY:
        errors.append(
            lazy_gettext(
                "%(label)s: enter a whole number from 1 to %(most)s (not %(number)d).",
                label=label,
                most=f"{MAX_QUANTITY:,}",
                number=number,
            )
        )
        return None
    return number


def _moment(value, label, errors, context):
    """When the customer ordered, as naive UTC; None when not given.

    ISO 8601: 2026-05-01, 2026-05-01 14:30, 2026-05-01T14:30:00Z or with an offset. A time
    without an offset is the shop's local time.
    """
    text = _text(value, label, errors, 40)
    if not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        errors.append(
            lazy_gettext(
                "%(label)s: “%(text)s” isn't a date. Write it like 2026-05-01 or 2026-05-01T14:30:00Z.",
                label=label,
                text=text,
            )
        )
        return None
    if moment.year < 2000:
        errors.append(
            lazy_gettext("%(label)s: %(text)s is before 2000; check the date.", label=label, text=text)
        )
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=context.tz)
    moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    if moment > context.now + datetime.timedelta(days=1):
        errors.append(lazy_gettext("%(label)s: %(text)s is in the future.", label=label, text=text))
        return None
    return moment


@functools.cache
def _countries():
    names = country_names("en")
    codes = set(names)
    by_name = {name.casefold(): code for code, name in names.items()}
    by_name.update({"uk": "GB", "great britain": "GB", "usa": "US", "united states of america": "US"})
    return frozenset(codes), by_name


def _country(text, label, errors):
    if not text:
        return ""
    codes, by_name = _countries()
    if text.upper() in codes:
        return text.upper()
    code = by_name.get(text.casefold())
    if code is None:
        errors.append(
            lazy_gettext(
                "%(label)s: “%(text)s” isn't a country. Use its two-letter code, like GB or DE.",
                label=label,
                text=text,
            )
        )
        return ""
    return code


def _phone(text, country):
    """E.164 when it is a valid number, else None."""
    if not text:
        return None
    try:
        return e164_phone(text, country)
    except ValueError:
        return None


def _email(text, label, errors):
    if not text:
        errors.append(
            lazy_gettext(
                "%(label)s: missing. Each order needs the customer's email to link it to an account.",
                label=label,
            )
        )
        return ""
    try:
        return normalized_email(text)
    except ValueError:
        errors.append(lazy_gettext("%(label)s: “%(text)s” isn't an email address.", label=label, text=text))
        return ""


def _channel(value, label, errors):
    text = _text(value, label, errors, 40).lower()
    if not text:
        errors.append(
            lazy_gettext(
                "%(label)s: missing. Give the marketplace's short name, like amazon or ebay.", label=label
            )
        )
        return ""
    if text == SHOP_CHANNEL:
        errors.append(
            lazy_gettext(
                "%(label)s: “shop” means this shop's own orders. Give the marketplace's name, like amazon.",
                label=label,
            )
        )
        return ""
    if not CHANNEL_PATTERN.match(text):
        errors.append(
            lazy_gettext(
                "%(label)s: “%(text)s” isn't a marketplace name. Use 2–30 lowercase letters, digits or hyphens, "
                "like amazon, ebay or amazon-de.",
                label=label,
                text=text,
            )
        )
        return ""
    return text


def _order_ref(value, label, errors):
    before = len(errors)
    text = _text(value, label, errors, TEXT_LIMITS["order_ref"])
    if not text:
        if len(errors) == before:
            errors.append(
                lazy_gettext("%(label)s: missing. Give the marketplace's order number.", label=label)
            )
        return ""
    if EXCEL_NUMBER.match(text):
        errors.append(
            lazy_gettext(
                "%(label)s: “%(text)s” looks like an order number a spreadsheet shortened. "
                "Format that column as text and export the file again.",
                label=label,
                text=text,
            )
        )
        return ""
    return text


@dataclass
class Item:
    where: str
    slug: str
    product: Product | None
    name: str
    quantity: int
    unit_price: int


@dataclass
class Checked:
    """An order that passed every check, ready to save."""

    channel: str
    order_ref: str
    ordered_at: datetime.datetime | None
    email: str
    first_name: str
    last_name: str
    phone: str
    shipping: dict
    billing: dict
    items: list
    shipping_cost: int
    total: int
    warnings: list


def identify(raw):
    """(channel, order_ref, errors) of a raw order: what every check and every report needs first."""
    errors = []
    channel = _channel(raw.values.get("channel"), raw.labels["channel"], errors)
    order_ref = _order_ref(raw.values.get("order_ref"), raw.labels["order_ref"], errors)
    return channel, order_ref, errors


def check_order(raw, context):
    """(Checked, []) for a good order, (None, [reasons]) for a bad one."""
    label = raw.labels.get
    values = raw.values
    errors = list(raw.problems)
    warnings = list(raw.notes)
    channel, order_ref, identity_errors = identify(raw)
    errors += identity_errors

    ordered_at = _moment(values.get("ordered_at"), label("ordered_at"), errors, context)
    currency = _text(values.get("currency"), label("currency"), errors, 10).upper()
    if currency and currency != context.currency:
        errors.append(
            lazy_gettext(
                "%(label)s: this order is in %(currency)s, but the shop keeps its books in %(shop_currency)s. "
                "Convert the amounts before importing.",
                label=label("currency"),
                currency=currency,
                shop_currency=context.currency,
            )
        )

    before = len(errors)
    email_text = _text(values.get("email"), label("email"), errors, TEXT_LIMITS["email"])
    email = _email(email_text, label("email"), errors) if len(errors) == before else ""
    first_name = _text(values.get("first_name"), label("first_name"), errors, TEXT_LIMITS["first_name"])
    last_name = _text(values.get("last_name"), label("last_name"), errors, TEXT_LIMITS["last_name"])
    phone_text = _text(values.get("phone"), label("phone"), errors, TEXT_LIMITS["phone"])

    shipping = _address(raw, "shipping", errors, warnings, context, required=True)
    billing_given = any(values.get(f"billing.{part}") for part in ADDRESS_PARTS)
    billing = (
        _address(raw, "billing", errors, warnings, context, required=True)
        if billing_given
        else dict(shipping)
    )

    phone = ""
    if phone_text:
        phone = _phone(phone_text, shipping.get("country") or context.country) or ""
        if not phone:
            warnings.append(
                lazy_gettext(
                    "%(label)s: “%(text)s” isn't a valid phone number, so it isn't saved.",
                    label=label("phone"),
                    text=phone_text,
                )
            )
    elif shipping.get("phone"):
        phone = _phone(shipping["phone"], shipping.get("country") or context.country) or ""

    items = []
    if not raw.items:
        errors.append(lazy_gettext("The order has no item lines."))
    elif len(raw.items) > MAX_LINES_PER_ORDER:
        errors.append(
            lazy_gettext(
                "The order has %(count)d item lines; at most %(most)d are accepted.",
                count=len(raw.items),
                most=MAX_LINES_PER_ORDER,
            )
        )
    else:
        for raw_item in raw.items:
            item = _item(raw, raw_item, errors, warnings, context)
            if item is not None:
                items.append(item)

    shipping_cost = (
        _amount(values.get("shipping_cost"), label("shipping_cost"), errors, context.decimals) or 0
    )
    stated_total = _amount(values.get("total"), label("total"), errors, context.decimals)
    total = sum(item.quantity * item.unit_price for item in items) + shipping_cost
    if not errors and total > MONEY_MAX:
        errors.append(
            lazy_gettext(
                "The order adds up to %(total)s, more than this shop accepts for one order.",
                total=format_money(total),
            )
        )
    if not errors and stated_total is not None and stated_total != total:
        errors.append(
            lazy_gettext(
                "%(label)s: says %(stated)s, but the lines and shipping add up to %(total)s.",
                label=label("total"),
                stated=format_money(stated_total),
                total=format_money(total),
            )
        )
    if errors:
        return None, errors
    if not first_name and not last_name:
        first_name, last_name = _split_name(shipping["name"])
    return (
        Checked(
            channel=channel,
            order_ref=order_ref,
            ordered_at=ordered_at,
            email=email,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            shipping=shipping,
            billing=billing,
            items=items,
            shipping_cost=shipping_cost,
            total=total,
            warnings=warnings,
        ),
        [],
    )


def _address(raw, which, errors, warnings, context, required):
    address = {}
    for part in ADDRESS_PARTS:
        key = f"{which}.{part}"
        address[part] = _text(raw.values.get(key), raw.labels[key], errors, ADDRESS_LIMITS.get(part, 200))
    if required:
        for part in ADDRESS_REQUIRED:
            if not address[part]:
                errors.append(lazy_gettext("%(label)s: missing.", label=raw.labels[f"{which}.{part}"]))
    address["country"] = _country(address["country"], raw.labels[f"{which}.country"], errors)
    if address["phone"]:
        address["phone"] = _phone(address["phone"], address["country"] or context.country) or address["phone"]
    return address


def _item(raw, raw_item, errors, warnings, context):
    where = raw_item.where
    values = raw_item.values
    label = raw.labels.get
    before = len(errors)
    slug = _text(values.get("product_slug"), _at(where, label("product_slug")), errors, SLUG_MAX).lower()
    name = _text(values.get("name"), _at(where, label("name")), errors, ITEM_NAME_MAX)
    quantity = _quantity(values.get("quantity"), _at(where, label("quantity")), errors)
    unit_price = _amount(
        values.get("unit_price"), _at(where, label("unit_price")), errors, context.decimals, required=True
    )
    product = Product.get_or_none(Product.slug == slug) if slug else None
    if slug and product is None:
        if name:
            warnings.append(
                lazy_gettext(
                    "%(where)s: no product has the web address “%(slug)s”, so the line is kept as “%(name)s” "
                    "and no stock is taken.",
                    where=where,
                    slug=slug,
                    name=name,
                )
            )
        else:
            errors.append(
                lazy_gettext(
                    "%(where)s: no product has the web address “%(slug)s”. Check %(slug_column)s or give the "
                    "item's name in %(name_column)s.",
                    where=where,
                    slug=slug,
                    slug_column=label("product_slug"),
                    name_column=label("name"),
                )
            )
    elif not slug and not name:
        errors.append(
            lazy_gettext(
                "%(where)s: give the item's name (%(name_column)s) or its product's web address (%(slug_column)s).",
                where=where,
                name_column=label("name"),
                slug_column=label("product_slug"),
            )
        )
    if len(errors) > before:
        return None
    return Item(
        where=where,
        slug=slug,
        product=product,
        name=name or product.name,
        quantity=quantity,
        unit_price=unit_price,
    )


def _at(where, column):
    """A value's place in an item line: "line 5, quantity" (the column as the sender named it)."""
    return lazy_gettext("%(where)s, %(column)s", where=where, column=column)


def _split_name(full_name):
    """A new customer's first and last name from the delivery name when the import gives none."""
    words = full_name.split()
    if len(words) < 2:
        return full_name, ""
    return " ".join(words[:-1]), words[-1]
