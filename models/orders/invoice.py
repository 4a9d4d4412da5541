"""Invoices: one per paid order, numbered from one gap-free sequence per year.

`mark_paid` (paid.py) calls `issue_invoice` inside the payer's write transaction, so the number
is taken with the payment or not at all: a payment that rolls back gives its number back. The
counter row of the year is the point every payment goes through one at a time: on SQLite the
write transaction (BEGIN IMMEDIATE) already serializes writers, on PostgreSQL the UPDATE locks
the row until the payment commits. Numbers read "2026-000123", the year being the shop's year on
the day of payment. Credit notes have their own sequence (models/refunds/credit_notes.py): French
practice allows one sequence or two, and two keep each list without holes of its own.

An invoice keeps copies of the seller's legal identity (the shop's settings) and the buyer's name
and billing address as they were at that moment: a later edit, or the customer deleting their
account, never changes an issued invoice. The table refuses UPDATE and DELETE (migration 0039).
Orders paid before invoices had their own numbers have no row: their order number was their
invoice number, as issued. Marketplace orders never pass through `mark_paid`: the marketplace
invoiced the customer.
"""

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.orders.order import Order
from models.shop.settings import load_settings
from models.shop.settings import shop_today

INVOICES = "invoice"


class DocumentCounter(BaseModel):
    kind = CharField()  # "invoice" | "credit_note"
    year = IntegerField()
    last_number = IntegerField(default=0)

    class Meta:
        table_name = "document_counter"
        indexes = ((("kind", "year"), True),)


def next_number(kind, year):
    """The next number of `kind` in `year` (1, 2, …), inside the caller's write transaction."""
    DocumentCounter.insert(kind=kind, year=year, last_number=0).on_conflict_ignore().execute()
    mine = (DocumentCounter.kind == kind) & (DocumentCounter.year == year)
    DocumentCounter.update(last_number=DocumentCounter.last_number + 1).where(mine).execute()
    return DocumentCounter.select(DocumentCounter.last_number).where(mine).scalar()


def document_number(kind, now, prefix=""):
    """ "2026-000123" (or with a prefix): the year of `now` in the shop's time zone."""
    day = shop_today(now)
    return day, f"{prefix}{day.year}-{next_number(kind, day.year):06d}"


class Invoice(BaseModel):
    number = CharField(unique=True)
    order = ForeignKeyField(Order, on_delete="RESTRICT", unique=True, backref="invoices")
    issued_at = DateTimeField(default=utcnow)
    local_date = DateField(index=True)  # the shop's day of issue: the owner's lists go by it
    seller_name = TextField(default="")
    seller_address = TextField(default="")
    seller_company_number = TextField(default="")
    seller_vat_number = TextField(default="")
    seller_mentions = TextField(default="")
    seller_email = TextField(default="")
    buyer_name = TextField(default="")
    buyer_company = TextField(default="")
    buyer_address = TextField(default="")  # street, town and postcode lines; the country apart
    buyer_country = CharField(default="")

    class Meta:
        table_name = "invoice"


def issue_invoice(order, now):
    """The order's invoice, issued now unless it has one (inside the payer's write transaction)."""
    existing = invoice_of(order)
    if existing is not None:
        return existing
    now = now or utcnow()
    day, number = document_number(INVOICES, now)
    return Invoice.create(
        number=number,
        order=order.id,
        issued_at=now,
        local_date=day,
        **seller_snapshot(),
        **buyer_snapshot(order),
    )


def seller_snapshot():
    settings = load_settings()
    return {
        "seller_name": settings.legal_name.strip() or settings.shop_name,
        "seller_address": settings.legal_address.strip(),
        "seller_company_number": settings.company_number.strip(),
        "seller_vat_number": settings.vat_number.strip(),
        "seller_mentions": settings.legal_mentions.strip(),
        "seller_email": settings.contact_email,
    }


def buyer_snapshot(order):
    """The buyer as the order's billing address names them: what the law asks an invoice to
    show (name and address) and nothing more (no phone, no email)."""
    town = " ".join(p for p in (order.billing_city, order.billing_region, order.billing_postal_code) if p)
    return {
        "buyer_name": order.billing_name,
        "buyer_company": order.billing_company,
        "buyer_address": "\n".join(p for p in (order.billing_line1, order.billing_line2, town) if p),
        "buyer_country": order.billing_country,
    }


def invoice_of(order):
    return Invoice.get_or_none(Invoice.order == order.id)
