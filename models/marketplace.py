"""Orders from marketplaces (Amazon, eBay, Etsy…): imported by CSV upload or through the JSON API.

What an imported order is:

- It was paid on the marketplace, so it is `paid` from the start: paid_at (and created_at) is
  when the customer ordered there, else the import time; payment_method is "marketplace" and
  `marketplace_amount` is its total, so payments_total(order) == order.total. No hold and no
  ledger movement: that money never went through the shop's books (the marketplace settles
  with the shop on its own terms). Nothing that looks for orders awaiting payment (reminders,
  auto-cancel) ever sees it, and paid_hooks (affiliate rewards) don't run for it.
- `channel` is the marketplace's short lowercase name (amazon, ebay, etsy, amazon-de…) and
  `external_ref` its own order number. The pair is UNIQUE (migration 0013): importing the same
  order again changes nothing and is reported "already imported", and two imports racing
  can't both save it (the loser finds the winner's order).
- The customer is the account with the same (normalised) email; otherwise a new one with
  source FROM_MARKETPLACE, no password and an unconfirmed email. An import never changes an
  existing customer's name or phone. No email is sent on import: marketplaces talk to their
  own customers (and usually forbid shops to write to them). Such accounts are never purged
  (purge_unconfirmed_accounts only removes self-registrations); the customer claims one with
  "Forgot password" or by registering with the address: either way an emailed link lets them
  choose a password, which also confirms the address.
- Lines copy what the marketplace sold, at the price it charged. A line naming a product's web
  address (product_slug) takes that product's stock, never below zero (a warning says when
  stock ran short); any other line keeps its name and price with product_id 0. A shipping
  charge becomes a line of kind "shipping". Totals: subtotal = total = lines + shipping; when
  the import states a total it must match.
- Each order is saved all or nothing in its own transaction. A bad order is rejected with its
  line numbers (CSV) or position (JSON) and clear reasons; the good ones are kept.

Imports that saved or found something keep their report (MarketplaceImport) so the owner can
read it again; an upload in which nothing was valid leaves nothing in the database.
"""

import csv
import datetime
import functools
import hmac
import io
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass
from dataclasses import field

import babel
import phonenumbers
from babel.numbers import get_currency_precision
from email_validator import EmailNotValidError
from email_validator import validate_email
from peewee import Case
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.audit import audit
from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.catalog import Product
from models.credit import shop_today
from models.orders import ADDRESS_PARTS
from models.orders import Order
from models.orders import OrderEvent
from models.orders import OrderLine
from models.orders import PAID
from models.security_log import record_event
from models.settings import format_money
from models.settings import load_settings
from models.tokens import digest
from models.user import CUSTOMER
from models.user import FROM_MARKETPLACE
from models.user import new_session_token
from models.user import normalize_email
from models.user import User

MARKETPLACE = "marketplace"  # Order.payment_method of every imported order
SHOP_CHANNEL = "shop"
IMPORTED, ALREADY_IMPORTED, REJECTED = "imported", "already_imported", "rejected"
OUTCOME_LABELS = {IMPORTED: "Imported", ALREADY_IMPORTED: "Already imported", REJECTED: "Rejected"}

# Limits: an upload or request beyond them is refused with a message, never half-read.
MAX_UPLOAD_BYTES = 1_000_000
MAX_CSV_ROWS = 5_000
MAX_API_BYTES = 1_000_000
MAX_API_ORDERS = 500
MAX_LINES_PER_ORDER = 200
MAX_QUANTITY = 9_999
MONEY_MAX = 100_000_000  # minor units: 1,000,000.00 for one order or line is a typo
MAX_REASONS = 20  # per order in a report

CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}$")
CHANNEL_NAMES = {
    "amazon": "Amazon",
    "ebay": "eBay",
    "etsy": "Etsy",
    "onbuy": "OnBuy",
    "notonthehighstreet": "notonthehighstreet",
    "bol": "bol.com",
    "cdiscount": "Cdiscount",
    "fruugo": "Fruugo",
    "kaufland": "Kaufland",
    "otto": "OTTO",
    "zalando": "Zalando",
    "walmart": "Walmart",
    "tiktok-shop": "TikTok Shop",
}
# What Excel makes of a long order number in a column it thinks is numeric.
EXCEL_NUMBER = re.compile(r"^[0-9](?:[.,][0-9]+)?E\+?[0-9]+$", re.IGNORECASE)
WHITESPACE = re.compile(r"\s+")

TEXT_LIMITS = {"order_ref": 64, "email": 254, "first_name": 100, "last_name": 100, "phone": 40}
ADDRESS_LIMITS = {"country": 60, "phone": 40, "postal_code": 20}
ADDRESS_REQUIRED = ("name", "line1", "city", "country")
ITEM_NAME_MAX = 250
SLUG_MAX = 80


def channel_label(channel):
    """How a channel is written for people: 'eBay' for ebay, 'Amazon-de' for amazon-de."""
    return CHANNEL_NAMES.get(channel) or channel.capitalize()


def first_channel(user):
    """How the marketplace of the customer's first imported order is written, or ""."""
    order = (
        Order.select(Order.channel)
        .where((Order.user == user) & (Order.channel != SHOP_CHANNEL))
        .order_by(Order.id)
        .first()
    )
    return channel_label(order.channel) if order is not None else ""


# The tables ----------------------------------------------------------------------------


class MarketplaceToken(BaseModel):
    """The bearer token the import API accepts. Only its hash is kept; one is live at a time."""

    token_hash = CharField(unique=True)
    hint = CharField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True, index=True)

    class Meta:
        table_name = "marketplace_token"


class MarketplaceImport(BaseModel):
    """The report of one import that saved or found at least one order."""

    source = CharField()  # csv | api
    filename = CharField(default="")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    imported = IntegerField(default=0)
    already_imported = IntegerField(default=0)
    rejected = IntegerField(default=0)
    report = TextField(default="[]")
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "marketplace_import"

    @property
    def results(self):
        return [Result.from_dict(entry) for entry in json.loads(self.report)]

    @property
    def source_label(self):
        return "CSV upload" if self.source == "csv" else "API"


def recent_imports(limit=10):
    return list(MarketplaceImport.select().order_by(MarketplaceImport.id.desc()).limit(limit))


# The API token -------------------------------------------------------------------------

TOKEN_PREFIX = "mkt_"  # noqa: S105 - a prefix that makes the token recognisable, not a secret


def live_token():
    """The token the API accepts now (the row, never the secret), or None."""
    return (
        MarketplaceToken.select()
        .where(MarketplaceToken.revoked_at.is_null())
        .order_by(MarketplaceToken.id.desc())
        .first()
    )


def create_token(owner, now=None):
    """A new API token replacing any earlier one (which stops working at once).

    Returns the token itself: it is shown to the owner once and never stored.
    """
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        replaced = (
            MarketplaceToken.update(revoked_at=now).where(MarketplaceToken.revoked_at.is_null()).execute()
        )
        row = MarketplaceToken.create(
            token_hash=digest(token), hint=token[-4:], created_by=owner, created_at=now
        )
        audit(
            owner,
            "marketplace_token_replaced" if replaced else "marketplace_token_created",
            "marketplace import API token",
            after={"token_ending": row.hint},
        )
    return token


def revoke_token(owner, now=None):
    """Stop the API token working; True if there was one."""
    with write_transaction():
        revoked = (
            MarketplaceToken.update(revoked_at=now or utcnow())
            .where(MarketplaceToken.revoked_at.is_null())
            .execute()
        )
        if revoked:
            audit(owner, "marketplace_token_revoked", "marketplace import API token")
    return bool(revoked)


def check_token(presented, now=None):
    """The live token row matching `presented`, or None. Hashes are compared in constant time."""
    if not presented or not isinstance(presented, str) or len(presented) > 200:
        return None
    wanted = digest(presented)
    found = None
    for row in MarketplaceToken.select().where(MarketplaceToken.revoked_at.is_null()):
        if hmac.compare_digest(row.token_hash, wanted):
            found = row
    if found is not None:
        with write_transaction():
            MarketplaceToken.update(last_used_at=now or utcnow()).where(
                MarketplaceToken.id == found.id
            ).execute()
    return found


# What comes in, whatever the format -------------------------------------------------------


@dataclass
class RawItem:
    where: str  # "line 5" or "lines[0]": used in messages
    values: dict  # product_slug, name, quantity, unit_price


@dataclass
class RawOrder:
    """One order as it came in, before any checking."""

    labels: dict  # internal key -> the name the sender used ("shipping_country", "shipping_address.country")
    values: dict = field(default_factory=dict)
    items: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # CSV line numbers
    index: int | None = None  # position in the JSON "orders" list
    problems: list = field(default_factory=list)  # found while reading (shape, rows that disagree)
    notes: list = field(default_factory=list)  # warnings found while reading
    first_lines: dict = field(default_factory=dict)  # CSV: key -> the line that gave its value


def describe_lines(lines):
    if not lines:
        return ""
    if len(lines) == 1:
        return f"line {lines[0]}"
    if lines == list(range(lines[0], lines[-1] + 1)):
        return f"lines {lines[0]}–{lines[-1]}"
    return "lines " + ", ".join(str(n) for n in lines)


@dataclass
class Result:
    """What happened to one order of an import."""

    outcome: str
    channel: str = ""
    order_ref: str = ""
    lines: list = field(default_factory=list)
    index: int | None = None
    order_id: int | None = None
    number: str = ""
    customer_id: int | None = None
    new_customer: bool = False
    reasons: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def where(self):
        if self.index is not None:
            return f"orders[{self.index}]"
        return describe_lines(self.lines)

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]

    def as_dict(self):
        return {
            "outcome": self.outcome,
            "channel": self.channel,
            "order_ref": self.order_ref,
            "lines": self.lines,
            "index": self.index,
            "order_id": self.order_id,
            "number": self.number,
            "customer_id": self.customer_id,
            "new_customer": self.new_customer,
            "reasons": self.reasons[:MAX_REASONS],
            "warnings": self.warnings[:MAX_REASONS],
        }

    @classmethod
    def from_dict(cls, data):
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name in data})

    def for_api(self):
        """The JSON endpoint's answer for this order."""
        answer = {"index": self.index, "channel": self.channel, "order_ref": self.order_ref}
        answer["result"] = self.outcome
        if self.number:
            answer["order_number"] = self.number
        if self.outcome == IMPORTED:
            answer["new_customer"] = self.new_customer
        if self.reasons:
            answer["reasons"] = self.reasons[:MAX_REASONS]
        if self.warnings:
            answer["warnings"] = self.warnings[:MAX_REASONS]
        return answer


@dataclass
class ImportReport:
    results: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)  # the whole file was refused
    notices: list = field(default_factory=list)  # e.g. columns that were ignored
    batch_id: int | None = None

    def count(self, outcome):
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def imported(self):
        return self.count(IMPORTED)

    @property
    def already_imported(self):
        return self.count(ALREADY_IMPORTED)

    @property
    def rejected(self):
        return self.count(REJECTED)

    @property
    def anything_valid(self):
        return not self.file_errors and (self.imported or self.already_imported)


# Checking values -------------------------------------------------------------------------


class Context:
    """The shop's settings an import checks against, read once per import."""

    def __init__(self, now):
        settings = load_settings()
        self.now = now
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
        errors.append(f"{label}: expected text.")
        return ""
    text = WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        errors.append(f"{label}: contains control or invisible characters that can't be stored.")
        return ""
    if len(text) > max_length:
        errors.append(f"{label}: use at most {max_length} characters (this has {len(text)}).")
        return ""
    if required and not text:
        errors.append(f"{label}: missing.")
    return text


def _amount(value, label, errors, decimals, required=False):
    """Minor units from "12.50" (or "12,50"); None when empty and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(f"{label}: missing.")
        return None
    if not isinstance(value, str):
        errors.append(f'{label}: write the amount as a string like "12.50" (a JSON number can lose cents).')
        return None
    text = value.strip()
    pattern = rf"([0-9]{{1,9}})(?:[.,]([0-9]{{1,{decimals}}}))?" if decimals else r"([0-9]{1,9})()"
    match = re.fullmatch(pattern, text)
    if not match:
        example = "12.50" if decimals else "1250"
        errors.append(
            f"{label}: “{text[:30]}” isn't an amount. Use digits"
            + (f" and at most {decimals} decimals" if decimals else "")
            + f", like {example}, with no currency sign or thousands separator."
        )
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    minor = int(whole) * 10**decimals + (int(fraction.ljust(decimals, "0")) if decimals else 0)
    if minor > MONEY_MAX:
        errors.append(f"{label}: {text} is more than this shop accepts for one order.")
        return None
    return minor


def _quantity(value, label, errors):
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,6}\s*", value):
        number = int(value)
    elif value is None or (isinstance(value, str) and not value.strip()):
        errors.append(f"{label}: missing.")
        return None
    else:
        errors.append(f"{label}: enter a whole number from 1 to {MAX_QUANTITY:,}.")
        return None
    if not 1 <= number <= MAX_QUANTITY:
        errors.append(f"{label}: enter a whole number from 1 to {MAX_QUANTITY:,} (not {number}).")
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
        errors.append(f"{label}: “{text}” isn't a date. Write it like 2026-05-01 or 2026-05-01T14:30:00Z.")
        return None
    if moment.year < 2000:
        errors.append(f"{label}: {text} is before 2000; check the date.")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=context.tz)
    moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    if moment > context.now + datetime.timedelta(days=1):
        errors.append(f"{label}: {text} is in the future.")
        return None
    return moment


@functools.cache
def _countries():
    names = babel.Locale.parse("en").territories
    codes = {c for c in names if len(c) == 2 and c.isalpha() and c not in ("EU", "EZ", "UN", "QO", "ZZ")}
    by_name = {names[code].casefold(): code for code in codes}
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
        errors.append(f"{label}: “{text}” isn't a country. Use its two-letter code, like GB or DE.")
        return ""
    return code


def _phone(text, country):
    """E.164 when it is a valid number, else None."""
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, country or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(text, label, errors):
    if not text:
        errors.append(f"{label}: missing. Each order needs the customer's email to link it to an account.")
        return ""
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        errors.append(f"{label}: “{text}” isn't an email address.")
        return ""
    return normalize_email(info.normalized)


def _channel(value, label, errors):
    text = _text(value, label, errors, 40).lower()
    if not text:
        errors.append(f"{label}: missing. Give the marketplace's short name, like amazon or ebay.")
        return ""
    if text == SHOP_CHANNEL:
        errors.append(
            f"{label}: “shop” means this shop's own orders. Give the marketplace's name, like amazon."
        )
        return ""
    if not CHANNEL_PATTERN.match(text):
        errors.append(
            f"{label}: “{text}” isn't a marketplace name. Use 2–30 lowercase letters, digits or hyphens, "
            "like amazon, ebay or amazon-de."
        )
        return ""
    return text


def _order_ref(value, label, errors):
    before = len(errors)
    text = _text(value, label, errors, TEXT_LIMITS["order_ref"])
    if not text:
        if len(errors) == before:
            errors.append(f"{label}: missing. Give the marketplace's order number.")
        return ""
    if EXCEL_NUMBER.match(text):
        errors.append(
            f"{label}: “{text}” looks like an order number a spreadsheet shortened. "
            "Format that column as text and export the file again."
        )
        return ""
    return text


# Checking one order -----------------------------------------------------------------------


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
            f"{label('currency')}: this order is in {currency}, but the shop keeps its books in "
            f"{context.currency}. Convert the amounts before importing."
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
                f"{label('phone')}: “{phone_text}” isn't a valid phone number, so it isn't saved."
            )
    elif shipping.get("phone"):
        phone = _phone(shipping["phone"], shipping.get("country") or context.country) or ""

    items = []
    if not raw.items:
        errors.append("The order has no item lines.")
    elif len(raw.items) > MAX_LINES_PER_ORDER:
        errors.append(
            f"The order has {len(raw.items)} item lines; at most {MAX_LINES_PER_ORDER} are accepted."
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
            f"The order adds up to {format_money(total)}, more than this shop accepts for one order."
        )
    if not errors and stated_total is not None and stated_total != total:
        errors.append(
            f"{label('total')}: says {format_money(stated_total)}, but the lines and shipping add up to "
            f"{format_money(total)}."
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
                errors.append(f"{raw.labels[f'{which}.{part}']}: missing.")
    address["country"] = _country(address["country"], raw.labels[f"{which}.country"], errors)
    if address["phone"]:
        address["phone"] = _phone(address["phone"], address["country"] or context.country) or address["phone"]
    return address


def _item(raw, raw_item, errors, warnings, context):
    where = raw_item.where
    values = raw_item.values
    label = raw.labels.get
    before = len(errors)
    slug = _text(values.get("product_slug"), f"{where}, {label('product_slug')}", errors, SLUG_MAX).lower()
    name = _text(values.get("name"), f"{where}, {label('name')}", errors, ITEM_NAME_MAX)
    quantity = _quantity(values.get("quantity"), f"{where}, {label('quantity')}", errors)
    unit_price = _amount(
        values.get("unit_price"), f"{where}, {label('unit_price')}", errors, context.decimals, required=True
    )
    product = Product.get_or_none(Product.slug == slug) if slug else None
    if slug and product is None:
        if name:
            warnings.append(
                f"{where}: no product has the web address “{slug}”, so the line is kept as “{name}” "
                "and no stock is taken."
            )
        else:
            errors.append(
                f"{where}: no product has the web address “{slug}”. Check {label('product_slug')} "
                f"or give the item's name in {label('name')}."
            )
    elif not slug and not name:
        errors.append(
            f"{where}: give the item's name ({label('name')}) or its product's web address ({label('product_slug')})."
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


def _split_name(full_name):
    """A new customer's first and last name from the delivery name when the import gives none."""
    words = full_name.split()
    if len(words) < 2:
        return full_name, ""
    return " ".join(words[:-1]), words[-1]


# Saving one order -------------------------------------------------------------------------


def _existing(channel, order_ref):
    return Order.get_or_none((Order.channel == channel) & (Order.external_ref == order_ref))


def import_order(raw, context, actor=None, via="CSV upload"):
    """Check and save one order; returns its Result. Never raises for bad input."""
    result = Result(outcome=REJECTED, lines=raw.lines, index=raw.index)
    channel, order_ref, _ = identify(raw)
    result.channel, result.order_ref = channel, order_ref
    if channel and order_ref:
        existing = _existing(channel, order_ref)
        if existing is not None:
            return _already(result, existing)
    checked, reasons = check_order(raw, context)
    if checked is None:
        result.reasons = reasons
        return result
    result.warnings = list(checked.warnings)
    for _ in range(2):
        try:
            return _save(checked, result, context, actor, via)
        except IntegrityError:
            # Another import saved this order (or created this customer) at the same moment.
            existing = _existing(channel, order_ref)
            if existing is not None:
                return _already(result, existing)
    result.reasons = ["It clashed with another change saved at the same moment. Import it again."]
    return result


def _already(result, order):
    result.outcome = ALREADY_IMPORTED
    result.order_id, result.number, result.customer_id = order.id, order.number, order.user_id
    result.warnings = []
    return result


def _save(checked, result, context, actor, via):
    now = context.now
    ordered_at = checked.ordered_at or now
    with write_transaction():
        existing = _existing(checked.channel, checked.order_ref)
        if existing is not None:
            return _already(result, existing)
        user, created = _customer(checked, now)
        order = Order.create(
            user=user,
            status=PAID,
            channel=checked.channel,
            external_ref=checked.order_ref,
            payment_method=MARKETPLACE,
            currency=context.currency,
            subtotal=checked.total,
            funds_discount=0,
            total=checked.total,
            marketplace_amount=checked.total,
            idempotency_key=f"marketplace:{checked.channel}:{checked.order_ref}",
            created_at=ordered_at,
            paid_at=ordered_at,
            auto_cancel_at=None,
            local_date=shop_today(ordered_at),
            **{f"shipping_{part}": value for part, value in checked.shipping.items()},
            **{f"billing_{part}": value for part, value in checked.billing.items()},
        )
        order.number = f"{order.local_date:%y%m}-{order.id:05d}"
        Order.update(number=order.number).where(Order.id == order.id).execute()
        short = []
        for item in checked.items:
            product_id = _take_stock(item, short)
            OrderLine.create(
                order=order,
                product_id=product_id,
                name=item.name,
                unit_price=item.unit_price,
                quantity=item.quantity,
                line_total=item.unit_price * item.quantity,
            )
        if checked.shipping_cost:
            OrderLine.create(
                order=order,
                product_id=0,
                name="Shipping",
                unit_price=checked.shipping_cost,
                quantity=1,
                line_total=checked.shipping_cost,
                kind="shipping",
            )
        label = channel_label(checked.channel)
        who = f"by {actor.email} ({via})" if actor is not None else f"through the {via}"
        note = f"Imported from {label} (order {checked.order_ref}) {who}."
        if short:
            note += " Stock ran short: " + "; ".join(short) + "."
        OrderEvent.create(
            order=order,
            from_status="",
            to_status=PAID,
            actor=actor.id if actor is not None else None,
            actor_label="staff" if actor is not None else "system",
            note=note,
            at=now,
        )
        if created:
            record_event(user, "account_created", f"with {label} order {checked.order_ref}", actor="shop")
    result.outcome = IMPORTED
    result.order_id, result.number = order.id, order.number
    result.customer_id, result.new_customer = user.id, created
    result.warnings += [f"Stock ran short: {text}." for text in short]
    return result


def _customer(checked, now):
    """(user, created): the account with this email, or a new password-less one."""
    user = User.by_email(checked.email)
    if user is not None:
        return user, False
    user = User.create(
        email=checked.email,
        password_hash=None,
        role=CUSTOMER,
        first_name=checked.first_name,
        last_name=checked.last_name,
        phone=checked.phone,
        source=FROM_MARKETPLACE,
        email_confirmed_at=None,
        session_token=new_session_token(),
        created_at=now,
    )
    return user, True


def _take_stock(item, short):
    """Take the line's quantity from its product's stock, never below zero; the product id or 0."""
    if item.product is None:
        return 0
    product = Product.get_or_none(Product.id == item.product.id)
    if product is None:
        return 0
    if product.stock < item.quantity:
        short.append(f"{product.name} (sold {item.quantity}, {product.stock} in stock; now 0)")
    Product.update(
        stock=Case(None, [(Product.stock >= item.quantity, Product.stock - item.quantity)], 0)
    ).where(Product.id == product.id).execute()
    return product.id


# Running an import --------------------------------------------------------------------------


def run_import(raw_orders, actor=None, source="csv", filename="", report=None, now=None):
    """Import each order on its own; keeps the report when anything was saved or found."""
    context = Context(now or utcnow())
    report = report or ImportReport()
    via = "CSV upload" if source == "csv" else "marketplace API"
    for raw in raw_orders:
        report.results.append(import_order(raw, context, actor, via))
    keep = report.anything_valid if source == "csv" else (report.imported or report.rejected)
    if keep:
        report.batch_id = _keep_report(report, actor, source, filename, context.now)
    return report


def _keep_report(report, actor, source, filename, now):
    counts = {
        "imported": report.imported,
        "already_imported": report.already_imported,
        "rejected": report.rejected,
    }
    with write_transaction():
        batch = MarketplaceImport.create(
            source=source,
            filename=filename[:200],
            actor=actor,
            report=json.dumps([result.as_dict() for result in report.results]),
            created_at=now,
            **counts,
        )
        audit(actor, "marketplace_import", f"marketplace import {batch.id} ({source})", after=counts)
    return batch.id


# CSV ------------------------------------------------------------------------------------------

# Column -> internal key. Order columns repeat on every row of an order (or stay empty after
# the first); item columns describe the row's line.
ORDER_COLUMNS = {
    "channel": "channel",
    "order_ref": "order_ref",
    "ordered_at": "ordered_at",
    "currency": "currency",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    **{f"shipping_{part}": f"shipping.{part}" for part in ADDRESS_PARTS},
    **{f"billing_{part}": f"billing.{part}" for part in ADDRESS_PARTS},
    "shipping_cost": "shipping_cost",
    "order_total": "total",
}
ITEM_COLUMNS = {
    "product_slug": "product_slug",
    "item_name": "name",
    "quantity": "quantity",
    "unit_price": "unit_price",
}
CSV_LABELS = {key: column for column, key in {**ORDER_COLUMNS, **ITEM_COLUMNS}.items()}
REQUIRED_COLUMNS = (
    "channel",
    "order_ref",
    "email",
    "shipping_name",
    "shipping_line1",
    "shipping_city",
    "shipping_country",
    "quantity",
    "unit_price",
)

# (column, required, what it holds) for the import page.
CSV_COLUMN_HELP = [
    ("channel", True, "The marketplace's short name in lowercase: amazon, ebay, etsy, amazon-de…"),
    (
        "order_ref",
        True,
        "The marketplace's order number. Repeat it on every row of an order with several items.",
    ),
    (
        "ordered_at",
        False,
        "When the customer ordered, like 2026-05-01T14:30:00Z. Without an offset it is shop time. Empty: the import time.",
    ),
    (
        "email",
        True,
        "The customer's email. Links the order to the customer with that email, or opens a new account for them.",
    ),
    (
        "first_name, last_name",
        False,
        "The customer's name for a new account; empty: taken from shipping_name.",
    ),
    ("phone", False, "The customer's phone for a new account."),
    (
        "shipping_name, shipping_line1, shipping_city, shipping_country",
        True,
        "The delivery address. Country as a two-letter code, like GB.",
    ),
    (
        "shipping_company, shipping_line2, shipping_region, shipping_postal_code, shipping_phone",
        False,
        "The rest of the delivery address.",
    ),
    (
        "billing_name, billing_line1, … billing_phone",
        False,
        "The billing address, with the same parts. Empty: the delivery address.",
    ),
    (
        "product_slug",
        False,
        "The web address of the product in this shop (the end of /p/…). Its stock goes down by the quantity.",
    ),
    ("item_name", False, "The item as the marketplace sold it. Needed when there is no product_slug."),
    ("quantity", True, "How many, a whole number."),
    ("unit_price", True, "The price of one, as charged on the marketplace, like 12.50 (no currency sign)."),
    ("shipping_cost", False, "What the customer paid for delivery; once per order."),
    (
        "order_total",
        False,
        "What the customer paid in all; when given, it must equal the items plus shipping.",
    ),
    ("currency", False, "When given, it must be the shop's currency."),
]

# The downloadable example: two rows make one Amazon order (the second only adds an item).
EXAMPLE_CSV = """\
channel,order_ref,ordered_at,email,first_name,last_name,phone,shipping_name,shipping_company,\
shipping_line1,shipping_line2,shipping_city,shipping_region,shipping_postal_code,shipping_country,\
shipping_phone,product_slug,item_name,quantity,unit_price,shipping_cost,order_total
amazon,204-5550123-1234567,2026-05-01T09:15:00Z,jane.doe@example.com,Jane,Doe,,Jane Doe,,\
12 Market Street,Flat 3,Bristol,,BS1 4DJ,GB,+44 117 496 0000,house-blend-250g,"House blend, 250 g",\
2,9.50,3.95,22.95
amazon,204-5550123-1234567,,,,,,,,,,,,,,,,Gift wrapping,1,0.00,,
ebay,12-34567-89012,2026-05-02 18:40,sam@example.org,,,,Sam Green,Green & Co,4 Harbour Road,,Leith,\
Edinburgh,EH6 6AA,GB,,ethiopia-guji-250g,,1,13.50,,
"""


def example_csv():
    """The downloadable example (UTF-8 with a byte-order mark, so Excel reads it right)."""
    return "\ufeff" + EXAMPLE_CSV.replace("\n", "\r\n")


def _header_name(cell):
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _delimiter(first_line):
    """Comma, semicolon (spreadsheets in many European locales) or tab (marketplace reports)."""
    known = set(ORDER_COLUMNS) | set(ITEM_COLUMNS)

    def hits(delimiter):
        return sum(1 for cell in first_line.split(delimiter) if _header_name(cell.strip('"')) in known)

    return max((",", ";", "\t"), key=hits)


def read_csv(data):
    """(raw orders, report) from an uploaded file; the report holds file errors and notices."""
    report = ImportReport()
    if not data:
        report.file_errors.append("The file is empty.")
        return [], report
    if len(data) > MAX_UPLOAD_BYTES:
        report.file_errors.append(
            f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB. Split it into smaller files and "
            "upload them one by one (orders already imported are skipped)."
        )
        return [], report
    if b"\x00" in data:
        report.file_errors.append(
            "This isn't a CSV file: it holds binary data. Export the orders as CSV and upload that file."
        )
        return [], report
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        report.file_errors.append(
            f"The file isn't UTF-8 text (at byte {error.start + 1}). Save it as “CSV UTF-8” "
            "(Excel) or with the Unicode (UTF-8) character set, and upload it again."
        )
        return [], report
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    position = {"end": 0}  # where the last whole record ended, for the message below
    try:
        return _read_rows(reader, report, position)
    except csv.Error as error:
        why = str(error)
        if "field larger than field limit" in why:
            why = "a value runs on for more than 131,072 characters: is a quotation mark left open?"
        report.file_errors.append(
            f"Line {position['end'] + 1} can't be read as CSV ({why}). Nothing was imported."
        )
        return [], report


def _read_rows(reader, report, position):
    header, header_line = None, 0
    for row in reader:
        if any(cell.strip() for cell in row):
            header, header_line = [_header_name(cell) for cell in row], reader.line_num
            break
    if header is None:
        report.file_errors.append("The file has no rows.")
        return [], report
    known = {**ORDER_COLUMNS, **ITEM_COLUMNS}
    if not any(name in known for name in header):
        report.file_errors.append(
            f"Line {header_line} must name the columns (channel, order_ref, email, …). "
            "Download the example file to see the layout."
        )
        return [], report
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        report.file_errors.append(f"These columns appear more than once: {', '.join(duplicates)}.")
        return [], report
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if "item_name" not in header and "product_slug" not in header:
        missing.append("item_name or product_slug")
    if missing:
        report.file_errors.append(f"These columns are missing: {', '.join(missing)}. Nothing was imported.")
        return [], report
    ignored = [name for name in header if name and name not in known]
    if ignored:
        report.notices.append(f"These columns were ignored: {', '.join(ignored)}.")

    orders = {}  # (channel, order_ref) -> RawOrder, in the order they first appear
    loose = []  # rows that can't be put with an order: each is rejected on its own
    rows = 0
    end = position["end"] = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        position["end"] = end
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_CSV_ROWS:
            report.file_errors.append(
                f"The file has more than {MAX_CSV_ROWS:,} rows. Split it into smaller files. Nothing was imported."
            )
            return [], report
        line = start
        if len(row) > len(header):
            bad = RawOrder(labels=CSV_LABELS, lines=[line])
            bad.values = {
                ORDER_COLUMNS[c]: v
                for c, v in zip(header, row, strict=False)
                if c in ("channel", "order_ref")
            }
            bad.problems.append(
                f"line {line} has {len(row)} values but line {header_line} names {len(header)} columns. "
                "Is there a comma inside a value that isn't in quotes?"
            )
            loose.append(bad)
            continue
        cells = dict(zip(header, row, strict=False))  # a short row: the rest are empty
        key = (
            WHITESPACE.sub(" ", cells.get("channel", "")).strip().lower(),
            WHITESPACE.sub(" ", cells.get("order_ref", "")).strip(),
        )
        if not key[0] or not key[1]:
            bad = RawOrder(labels=CSV_LABELS, lines=[line])
            bad.values = {"channel": cells.get("channel", ""), "order_ref": cells.get("order_ref", "")}
            loose.append(bad)  # identify() says what is missing
            continue
        raw = orders.get(key)
        if raw is None:
            raw = orders[key] = RawOrder(labels=CSV_LABELS)
        _add_row(raw, line, cells)
    return list(orders.values()) + loose, report


def _add_row(raw, line, cells):
    """One CSV row into its order: order columns from the first row that fills them, plus its item."""
    raw.lines.append(line)
    for column, key in ORDER_COLUMNS.items():
        value = (cells.get(column) or "").strip()
        if not value:
            continue
        first = raw.values.get(key)
        if first is None:
            raw.values[key] = value
            raw.first_lines[key] = line
        elif WHITESPACE.sub(" ", first) != WHITESPACE.sub(" ", value):
            raw.problems.append(
                f"line {line}: {column} differs from line {raw.first_lines[key]}. The rows of one order must agree "
                "(or leave it empty after the first row)."
            )
    item = {key: cells.get(column, "") for column, key in ITEM_COLUMNS.items()}
    if any((value or "").strip() for value in item.values()):
        raw.items.append(RawItem(where=f"line {line}", values=item))


def import_csv(data, filename="", actor=None, now=None):
    """Read and import an uploaded CSV file; returns the ImportReport."""
    raw_orders, report = read_csv(data)
    if report.file_errors:
        return report
    if not raw_orders:
        report.file_errors.append("The file has a header line but no orders.")
        return report
    return run_import(raw_orders, actor, "csv", filename, report, now)


# JSON -------------------------------------------------------------------------------------------

JSON_ORDER_FIELDS = {"channel", "order_ref", "ordered_at", "currency", "customer", "shipping_address",
                     "billing_address", "lines", "shipping_cost", "total"}  # fmt: skip
JSON_CUSTOMER_FIELDS = {"email", "first_name", "last_name", "phone"}
JSON_LINE_FIELDS = {"product_slug", "name", "quantity", "unit_price"}
JSON_LABELS = {
    "channel": "channel",
    "order_ref": "order_ref",
    "ordered_at": "ordered_at",
    "currency": "currency",
    "email": "customer.email",
    "first_name": "customer.first_name",
    "last_name": "customer.last_name",
    "phone": "customer.phone",
    **{f"shipping.{part}": f"shipping_address.{part}" for part in ADDRESS_PARTS},
    **{f"billing.{part}": f"billing_address.{part}" for part in ADDRESS_PARTS},
    "shipping_cost": "shipping_cost",
    "total": "total",
    "product_slug": "product_slug",
    "name": "name",
    "quantity": "quantity",
    "unit_price": "unit_price",
}

JSON_EXAMPLE = {
    "orders": [
        {
            "channel": "amazon",
            "order_ref": "204-5550123-1234567",
            "ordered_at": "2026-05-01T09:15:00Z",
            "currency": "EUR",
            "customer": {
                "email": "jane.doe@example.com",
                "first_name": "Jane",
                "last_name": "Doe",
                "phone": "",
            },
            "shipping_address": {
                "name": "Jane Doe",
                "company": "",
                "line1": "12 Market Street",
                "line2": "Flat 3",
                "city": "Bristol",
                "region": "",
                "postal_code": "BS1 4DJ",
                "country": "GB",
                "phone": "+44 117 496 0000",
            },
            "billing_address": None,
            "lines": [
                {
                    "product_slug": "house-blend-250g",
                    "name": "House blend, 250 g",
                    "quantity": 2,
                    "unit_price": "9.50",
                },
                {"name": "Gift wrapping", "quantity": 1, "unit_price": "0.00"},
            ],
            "shipping_cost": "3.95",
            "total": "22.95",
        }
    ]
}


class BadRequest(Exception):
    """The request as a whole can't be read; the message says why (HTTP 400, or 413 when too big)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def read_json(body):
    """The raw orders of an API request body (bytes). Raises BadRequest."""
    if len(body) > MAX_API_BYTES:
        raise BadRequest(
            f"The body is larger than {MAX_API_BYTES:,} bytes; send fewer orders per request.", 413
        )
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("The body isn't UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The body isn't valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from None
    except RecursionError:
        raise BadRequest("The body is nested too deeply.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("orders"), list):
        raise BadRequest('The body must be a JSON object with a list of orders: {"orders": [ … ]}.')
    orders = payload["orders"]
    if not orders:
        raise BadRequest('"orders" is empty: send at least one order.')
    if len(orders) > MAX_API_ORDERS:
        raise BadRequest(f"{len(orders)} orders in one request; send at most {MAX_API_ORDERS}.", 413)
    return [_json_order(index, entry) for index, entry in enumerate(orders)]


def _json_order(index, entry):
    raw = RawOrder(labels=JSON_LABELS, index=index)
    if not isinstance(entry, dict):
        raw.problems.append(f"orders[{index}] must be an object.")
        return raw
    unknown = sorted(set(entry) - JSON_ORDER_FIELDS)
    if unknown:
        raw.notes.append(f"Unknown fields ignored: {', '.join(unknown)[:200]}.")
    for key in ("channel", "order_ref", "ordered_at", "currency", "shipping_cost", "total"):
        raw.values[key] = entry.get(key)
    customer = _json_object(entry, "customer", JSON_CUSTOMER_FIELDS, raw, required=True)
    for key in JSON_CUSTOMER_FIELDS:
        raw.values[key] = customer.get(key)
    for which, name in (("shipping", "shipping_address"), ("billing", "billing_address")):
        address = _json_object(entry, name, set(ADDRESS_PARTS), raw, required=which == "shipping")
        for part in ADDRESS_PARTS:
            raw.values[f"{which}.{part}"] = address.get(part)
    lines = entry.get("lines")
    if not isinstance(lines, list):
        raw.problems.append("lines: must be a list of the order's items.")
        return raw
    for position, line in enumerate(lines):
        where = f"lines[{position}]"
        if not isinstance(line, dict):
            raw.problems.append(f"{where}: must be an object.")
            continue
        unknown = sorted(set(line) - JSON_LINE_FIELDS)
        if unknown:
            raw.notes.append(f"{where}: unknown fields ignored: {', '.join(unknown)[:200]}.")
        raw.items.append(RawItem(where=where, values={key: line.get(key) for key in JSON_LINE_FIELDS}))
    return raw


def _json_object(entry, name, fields, raw, required):
    value = entry.get(name)
    if value is None:
        if required:
            raw.problems.append(f"{name}: missing.")
        return {}
    if not isinstance(value, dict):
        raw.problems.append(f"{name}: must be an object.")
        return {}
    unknown = sorted(set(value) - fields)
    if unknown:
        raw.notes.append(f"{name}: unknown fields ignored: {', '.join(unknown)[:200]}.")
    return value


def import_json(body, now=None):
    """Import the orders of an API request body; returns the ImportReport. Raises BadRequest."""
    return run_import(read_json(body), actor=None, source="api", now=now)
