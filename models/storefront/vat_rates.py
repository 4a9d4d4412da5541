"""The shop's VAT rates and which one each product carries (issue 24).

The owner defines the rates (Admin → VAT rates): a name and a rate in basis points (2000 = 20 %,
550 = 5.5 %), one of them the default. Migration 0038 seeded the French rates (20 % standard,
the default; 10 %, 5.5 %, 2.1 %) for every shop: a shop elsewhere edits them. Staff read them.

A product carries one rate (Product.vat_rate; NULL means the shop's default rate). Prices are
entered and shown VAT included; what an order records is in models/orders/vat.py. A rate is
never deleted, only archived (no longer offered for products), and only when no product uses it:
orders keep their own copy of the rate (OrderLine.vat_rate_bp), so changing or archiving a rate
never rewrites an order.
"""

from flask_babel import gettext
from flask_babel import ngettext
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit

NAME_MAX = 60
RATE_MAX_BP = 10000  # 100 %


class VatRate(BaseModel):
    name = CharField()
    rate_bp = IntegerField()  # 2000 = 20 %
    is_default = BooleanField(default=False)
    archived = BooleanField(default=False, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "vat_rate"


class VatRateInvalid(Exception):
    """Changes that break a rate rule: {field name: message for the person typing}."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# Reading ------------------------------------------------------------------------


def all_rates():
    """Every rate, in use first, then the highest rate first (the admin page)."""
    return list(VatRate.select().order_by(VatRate.archived, VatRate.rate_bp.desc(), VatRate.id))


def offered_rates():
    """The rates a product may be given (not archived), highest first."""
    return list(VatRate.select().where(~VatRate.archived).order_by(VatRate.rate_bp.desc(), VatRate.id))


def default_rate():
    return VatRate.get(VatRate.is_default == True)  # noqa: E712  one row, kept so by `save_rate`


def rate_bp_of(product):
    """The product's rate in basis points (its own, else the shop's default)."""
    if product.vat_rate_id is None:
        return default_rate().rate_bp
    return VatRate.get_by_id(product.vat_rate_id).rate_bp


def products_using(rate):
    """How many products carry `rate` (through Product.vat_rate's backref, models/storefront/catalog.py)."""
    return rate.products.count()


# The owner's changes --------------------------------------------------------------


def _snapshot(rate):
    return {
        "name": rate.name,
        "rate_bp": rate.rate_bp,
        "is_default": rate.is_default,
        "archived": rate.archived,
    }


def _checked(fields):
    errors = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = gettext("Give the rate a name, like Standard rate.")
    elif len(name) > NAME_MAX:
        errors["name"] = gettext("Use at most %(number)s characters.", number=NAME_MAX)
    rate_bp = fields.get("rate_bp")
    if rate_bp is None:
        errors["rate_bp"] = gettext("Enter a rate, like 20 or 5.5.")
    elif not 0 <= rate_bp < RATE_MAX_BP:
        errors["rate_bp"] = gettext("Enter a rate from 0 to 99.99.")
    if errors:
        raise VatRateInvalid(errors)
    return {"name": name, "rate_bp": rate_bp}


def save_rate(fields, actor, rate=None):
    """Add a rate (`rate` None) or change one; `fields["is_default"]` makes it the default.
    Audited; returns the row."""
    columns = _checked(fields)
    with write_transaction():
        make_default = bool(fields.get("is_default"))
        if rate is None:
            rate = VatRate.create(**columns)
            audit(actor, "vat_rate_added", f"vat rate {rate.id}", after=_snapshot(rate))
        else:
            rate = VatRate.get_by_id(rate.id)
            before = _snapshot(rate)
            VatRate.update(**columns, updated_at=utcnow()).where(VatRate.id == rate.id).execute()
            rate = VatRate.get_by_id(rate.id)
            if _snapshot(rate) != before:
                audit(actor, "vat_rate_changed", f"vat rate {rate.id}", before=before, after=_snapshot(rate))
        if make_default and not rate.is_default:
            _make_default(rate, actor)
    return VatRate.get_by_id(rate.id)


def _make_default(rate, actor):
    if rate.archived:
        raise VatRateInvalid({"is_default": gettext("An archived rate can't be the default.")})
    previous = VatRate.get_or_none(VatRate.is_default == True)  # noqa: E712
    VatRate.update(is_default=False).where(VatRate.is_default == True).execute()  # noqa: E712
    VatRate.update(is_default=True, updated_at=utcnow()).where(VatRate.id == rate.id).execute()
    audit(
        actor,
        "vat_rate_default",
        f"vat rate {rate.id}",
        before={"default": previous.id if previous else None},
        after={"default": rate.id},
    )


def archive_rate(rate, actor):
    """No longer offer `rate` for products. Refused (VatRateInvalid) for the default rate and for
    a rate products still carry: they need another rate first."""
    with write_transaction():
        rate = VatRate.get_by_id(rate.id)
        if rate.is_default:
            raise VatRateInvalid(
                {
                    "archive": gettext(
                        "The default rate can't be archived. Make another rate the default first."
                    )
                }
            )
        using = products_using(rate)
        if using:
            raise VatRateInvalid(
                {
                    "archive": ngettext(
                        "%(num)d product uses this rate. Give it another rate first.",
                        "%(num)d products use this rate. Give them another rate first.",
                        using,
                    )
                }
            )
        VatRate.update(archived=True, updated_at=utcnow()).where(VatRate.id == rate.id).execute()
        audit(actor, "vat_rate_archived", f"vat rate {rate.id}", before=_snapshot(rate))


def restore_rate(rate, actor):
    """Offer an archived rate for products again."""
    with write_transaction():
        VatRate.update(archived=False, updated_at=utcnow()).where(VatRate.id == rate.id).execute()
        audit(actor, "vat_rate_restored", f"vat rate {rate.id}")
