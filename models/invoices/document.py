"""An invoice or a credit note as one plain structure: the printable page and the PDF both draw it.

What it holds is what the law asks an invoice to say (France: article 242 nonies A of annex II
of the CGI; the UK's VAT invoice rules say much the same):

- the seller's legal identity and the buyer's name and address, as copied when the document
  was issued (models/orders/invoice.py);
- its number, the date it was issued, the date of sale (the day of payment) and of delivery
  (the day it was dispatched, or "to be delivered" until then);
- each line with its quantity, unit price without VAT, VAT rate and amount; the totals per rate
  (base and VAT) and the total; in the VAT-not-applicable mode, no rates and the mention
  « TVA non applicable, art. 293 B du CGI »;
- how it was paid: account funds are a means of payment (prepaid money), not a discount; the
  funds discount is a discount line. An order paid on account says when it is due.

Amounts are minor units and dates are dates: whoever draws the document writes them in the
document's language, the order's (`in_language`).
"""

import calendar
import datetime
from dataclasses import dataclass
from dataclasses import field

from flask_babel import lazy_gettext

from models.orders import vat
from models.orders.invoice import invoice_of
from models.orders.order import OrderLine
from models.refunds.credit_notes import CreditNote
from models.shop.settings import load_settings

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"

TITLES = {INVOICE: lazy_gettext("Invoice"), CREDIT_NOTE: lazy_gettext("Credit note")}
VAT_NOT_APPLICABLE = lazy_gettext("VAT not applicable, article 293 B of the French tax code (CGI)")


@dataclass(frozen=True)
class Party:
    name: str
    company: str = ""
    address: tuple = ()  # lines, without the country
    country: str = ""  # a two-letter code, written by name in the document's language
    company_number: str = ""
    vat_number: str = ""
    mentions: str = ""
    email: str = ""


@dataclass(frozen=True)
class Line:
    description: object  # a lazy string for the funds discount: read in the document's language
    quantity: int
    unit_price_without_vat: int
    rates: tuple  # its VAT rate; delivery and the funds discount share the goods' rates
    total: int  # with VAT, as the customer paid it


@dataclass(frozen=True)
class RateTotal:
    rate_bp: int
    base: int
    vat: int
    gross: int


@dataclass(frozen=True)
class Payment:
    label: object  # a lazy string
    amount: int


@dataclass(frozen=True)
class Document:
    kind: str
    number: str
    order_number: str
    language: str
    issued_on: datetime.date
    sale_on: datetime.date | None
    delivered_on: datetime.date | None
    pickup: bool
    seller: Party
    buyer: Party
    lines: list
    rates: list  # RateTotal per rate, empty when VAT does not apply
    total: int
    vat_applies: bool
    recipient: Party | None = None  # where it was delivered (from the order: informative)
    delivery_method: str = ""
    payments: list = field(default_factory=list)
    payment_terms: datetime.date | None = None  # due date of what was paid on account
    refers_to: str = ""  # a credit note: the number of the invoice it corrects
    reason: str = ""
    missing: list = field(default_factory=list)  # the seller's legal details it lacks, in words

    @property
    def title(self):
        return TITLES[self.kind]


def invoice_document(order):
    """The order's invoice as issued, or None for an order without an invoice row (paid before
    invoices had their own numbers, unpaid, or sold on a marketplace)."""
    invoice = invoice_of(order)
    if invoice is None:
        return None
    vat_lines = vat.order_vat_lines(order)
    applies = _vat_applies(vat_lines)
    return Document(
        kind=INVOICE,
        number=invoice.number,
        order_number=order.number,
        language=order.language,
        issued_on=invoice.local_date,
        sale_on=invoice.local_date,
        delivered_on=_local_date(order.dispatched_at),
        pickup=order.delivery_pickup,
        seller=_seller(invoice),
        buyer=_buyer(invoice),
        lines=[_line(line, vat_lines, applies) for line in order.lines.order_by(OrderLine.id)],
        rates=[_rate_total(v) for v in vat_lines] if applies else [],
        total=order.total,
        vat_applies=applies,
        recipient=_recipient(order),
        delivery_method=order.delivery_name,
        payments=_payments(order),
        payment_terms=_due_on_account(order, invoice.local_date),
        missing=_missing(invoice, applies),
    )


def credit_note_document(note):
    """A credit note: the amount given back, split by VAT rate like the order it corrects."""
    order = note.order
    invoice = note.invoice
    applies = _vat_applies(vat.order_vat_lines(order))
    seller = _seller(invoice) if invoice is not None else _current_seller()
    buyer = _buyer(invoice) if invoice is not None else _order_buyer(order)
    split = vat.split_by_rate(order, note.amount) if applies else []
    return Document(
        kind=CREDIT_NOTE,
        number=note.number,
        order_number=order.number,
        language=order.language,
        issued_on=note.local_date,
        sale_on=_local_date(order.paid_at),
        delivered_on=_local_date(order.dispatched_at),
        pickup=order.delivery_pickup,
        seller=seller,
        buyer=buyer,
        lines=[],
        rates=[_rate_total(v) for v in split],
        total=note.amount,
        vat_applies=applies,
        refers_to=note.invoice_number,
        reason=note.reason,
        missing=_missing_seller(seller, applies),
    )


def credit_note_of(order, note_id):
    return CreditNote.get_or_none((CreditNote.id == note_id) & (CreditNote.order == order.id))


# The parts ---------------------------------------------------------------------------------------


def _seller(invoice):
    return Party(
        name=invoice.seller_name,
        address=tuple(_lines(invoice.seller_address)),
        company_number=invoice.seller_company_number,
        vat_number=invoice.seller_vat_number,
        mentions=invoice.seller_mentions,
        email=invoice.seller_email,
    )


def _current_seller():
    settings = load_settings()
    return Party(
        name=settings.legal_name.strip() or settings.shop_name,
        address=tuple(_lines(settings.legal_address)),
        company_number=settings.company_number.strip(),
        vat_number=settings.vat_number.strip(),
        mentions=settings.legal_mentions.strip(),
        email=settings.contact_email,
    )


def _buyer(invoice):
    return Party(
        name=invoice.buyer_name,
        company=invoice.buyer_company,
        address=tuple(_lines(invoice.buyer_address)),
        country=invoice.buyer_country,
    )


def _recipient(order):
    """The delivery address as the order keeps it (None for a pickup, or once erased)."""
    if order.delivery_pickup or not order.shipping_name:
        return None
    return _address_party(order, "shipping")


def _order_buyer(order):
    return _address_party(order, "billing")


def _address_party(order, which):
    def part(name):
        return getattr(order, f"{which}_{name}")

    town = " ".join(p for p in (part("city"), part("region"), part("postal_code")) if p)
    return Party(
        name=part("name"),
        company=part("company"),
        address=tuple(p for p in (part("line1"), part("line2"), town) if p),
        country=part("country"),
    )


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _vat_applies(vat_lines):
    """Whether the order was sold with VAT: what it recorded when it was placed (a shop in the
    "VAT not applicable" mode records rate 0); the shop's mode for an order placed before VAT
    was recorded."""
    if vat_lines:
        return any(line.rate_bp for line in vat_lines)
    return vat.vat_applies()


def _line(line, vat_lines, applies):
    if not applies or not vat_lines:
        return Line(line.label, line.quantity, line.unit_price, (), line.line_total)
    if line.vat_rate_bp is not None:
        unit = vat.unit_price_without_vat(line.unit_price, line.vat_rate_bp)
        return Line(line.label, line.quantity, unit, (line.vat_rate_bp,), line.line_total)
    # Delivery and the funds discount carry the goods' rates in proportion, as the order's VAT does.
    parts = vat.split_lines(vat_lines, line.unit_price)
    unit = sum(part.base for part in parts)
    return Line(line.label, line.quantity, unit, tuple(p.rate_bp for p in parts), line.line_total)


def _rate_total(vat_line):
    return RateTotal(rate_bp=vat_line.rate_bp, base=vat_line.base, vat=vat_line.vat, gross=vat_line.gross)


PAYMENT_LABELS = {
    "funds": lazy_gettext("Account funds"),
    "credit": lazy_gettext("On account (store credit)"),
    "card": lazy_gettext("Card"),
    "bank": lazy_gettext("Bank transfer"),
}


def _payments(order):
    amounts = {
        "funds": order.funds_used,
        "credit": order.credit_used,
        "card": order.card_amount,
        "bank": order.bank_amount,
    }
    return [Payment(PAYMENT_LABELS[means], amount) for means, amount in amounts.items() if amount]


def _due_on_account(order, paid_on):
    """What was paid on account is due with the month's statement, `credit_terms_days` after the
    month's end (models/funds/statements.py); None when nothing was."""
    if not order.credit_used:
        return None
    month_end = paid_on.replace(day=calendar.monthrange(paid_on.year, paid_on.month)[1])
    return month_end + datetime.timedelta(days=load_settings().credit_terms_days)


def _local_date(stored_utc):
    if stored_utc is None:
        return None
    return stored_utc.replace(tzinfo=datetime.UTC).astimezone(load_settings().tz).date()


LEGAL_DETAILS = {
    "address": lazy_gettext("the seller's address"),
    "company_number": lazy_gettext("the company number"),
    "vat_number": lazy_gettext("the VAT number"),
}


def missing_legal_details():
    """What the next invoice would lack of the seller's legal details, in words (for the owner)."""
    return _missing_seller(_current_seller(), vat.vat_applies())


def _missing(invoice, applies):
    return _missing_seller(_seller(invoice), applies)


def _missing_seller(seller, applies):
    """The legal details the document lacks, as the owner's hint names them."""
    missing = []
    if not seller.address:
        missing.append(LEGAL_DETAILS["address"])
    if not seller.company_number:
        missing.append(LEGAL_DETAILS["company_number"])
    if applies and not seller.vat_number:
        missing.append(LEGAL_DETAILS["vat_number"])
    return missing
