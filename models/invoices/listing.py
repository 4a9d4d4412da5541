"""The owner's list of invoices and credit notes issued in a period, and its CSV rows.

A period's documents come in number order, invoices first, then credit notes (each its own
sequence, so a hole in either list would show). The CSV has the base and VAT per rate of each
document, a credit note's as negative amounts, so a column adds up to the period's net figure.
"""

from dataclasses import dataclass

from models.invoices.document import CREDIT_NOTE
from models.invoices.document import credit_note_document
from models.invoices.document import INVOICE
from models.invoices.document import invoice_document
from models.orders.invoice import Invoice
from models.orders.order import Order
from models.refunds.credit_notes import CreditNote

PAGE_SIZE = 100


@dataclass(frozen=True)
class Entry:
    kind: str
    id: int
    number: str
    issued_on: object
    order_id: int
    order_number: str
    buyer: str
    total: int  # negative for a credit note
    refers_to: str = ""


def count_documents(first, last):
    return (
        Invoice.select().where(Invoice.local_date.between(first, last)).count()
        + CreditNote.select().where(CreditNote.local_date.between(first, last)).count()
    )


def documents_in(first, last, limit=PAGE_SIZE, offset=0):
    """One page of the documents issued from `first` to `last`: invoices, then credit notes."""
    invoices = (
        Invoice.select(Invoice, Order.id, Order.number, Order.total)
        .join(Order)
        .where(Invoice.local_date.between(first, last))
        .order_by(Invoice.number)
    )
    notes = (
        CreditNote.select(CreditNote, Order.id, Order.number, Order.billing_name)
        .join(Order)
        .where(CreditNote.local_date.between(first, last))
        .order_by(CreditNote.number)
    )
    entries = [_invoice_entry(i) for i in invoices.limit(limit).offset(offset)]
    left = limit - len(entries)
    if left > 0:
        skip = max(0, offset - invoices.count())
        entries += [_note_entry(n) for n in notes.limit(left).offset(skip)]
    return entries


def _invoice_entry(invoice):
    return Entry(
        INVOICE,
        invoice.id,
        invoice.number,
        invoice.local_date,
        invoice.order_id,
        invoice.order.number,
        invoice.buyer_company or invoice.buyer_name,
        invoice.order.total,
    )


def _note_entry(note):
    invoice = note.invoice
    buyer = (invoice.buyer_company or invoice.buyer_name) if invoice else note.order.billing_name
    return Entry(
        CREDIT_NOTE,
        note.id,
        note.number,
        note.local_date,
        note.order_id,
        note.order.number,
        buyer,
        -note.amount,
        note.invoice_number,
    )


def csv_rows(first, last):
    """(rates, rows) for the CSV: every document of the period with its base and VAT per rate
    (`rates`: the rates met, in basis points, highest first)."""
    documents = [
        invoice_document(i.order)
        for i in Invoice.select().where(Invoice.local_date.between(first, last)).order_by(Invoice.number)
    ]
    documents += [
        credit_note_document(n)
        for n in CreditNote.select()
        .where(CreditNote.local_date.between(first, last))
        .order_by(CreditNote.number)
    ]
    rates = sorted({rate.rate_bp for document in documents for rate in document.rates}, reverse=True)
    return rates, [_csv_row(document, rates) for document in documents]


def _csv_row(document, rates):
    sign = -1 if document.kind == CREDIT_NOTE else 1
    by_rate = {rate.rate_bp: rate for rate in document.rates}
    figures = []
    for rate in rates:
        found = by_rate.get(rate)
        figures += [sign * found.base, sign * found.vat] if found else [0, 0]
    return {
        "kind": document.kind,
        "number": document.number,
        "issued_on": document.issued_on,
        "order": document.order_number,
        "refers_to": document.refers_to,
        "buyer": document.buyer.company or document.buyer.name,
        "figures": figures,
        "total": sign * document.total,
    }
