"""My Account → Orders → an order's invoice and credit notes, as printable pages and PDFs, and the
list of all the customer's documents.

Only the signed-in customer's own orders: another customer's order or document is "not found".
The page is in the reader's language; the PDF, the document itself, in the order's language
(models/invoices/pdf.py). Orders without an invoice row (unpaid, or paid before invoices had
their own numbers) keep the order's page at orders.invoice.
"""

from flask import abort
from flask import Blueprint
from flask import make_response
from flask_login import current_user
from flask_login import login_required

from models.invoices.document import credit_note_document
from models.invoices.document import credit_note_of
from models.invoices.document import invoice_document
from models.invoices.pdf import document_pdf
from models.orders.invoice import Invoice
from models.orders.order import Order
from models.orders.order import order_of
from models.refunds.credit_notes import CreditNote
from models.shop.language import in_language
from views.rendering import render

bp = Blueprint("documents", __name__, url_prefix="/account/orders")


def _order_or_404(order_id):
    order = order_of(current_user, order_id)
    if order is None:
        abort(404)
    return order


def _invoice_or_404(order_id):
    document = invoice_document(_order_or_404(order_id))
    if document is None:
        abort(404)
    return document


def _credit_note_or_404(order_id, note_id):
    note = credit_note_of(_order_or_404(order_id), note_id)
    if note is None:
        abort(404)
    return credit_note_document(note)


@bp.get("/documents")
@login_required
def index():
    """Every invoice and credit note of the customer's, newest first."""
    invoices = (
        Invoice.select(Invoice, Order)
        .join(Order)
        .where(Order.user == current_user.id)
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
    )
    notes = (
        CreditNote.select(CreditNote, Order)
        .join(Order)
        .where(Order.user == current_user.id)
        .order_by(CreditNote.issued_at.desc(), CreditNote.id.desc())
    )
    return render("orders/documents.html", invoices=list(invoices), credit_notes=list(notes))


@bp.get("/<id:order_id>/invoice.pdf")
@login_required
def invoice_pdf(order_id):
    return pdf_response(_invoice_or_404(order_id))


@bp.get("/<id:order_id>/credit-notes/<id:note_id>")
@login_required
def credit_note(order_id, note_id):
    document = _credit_note_or_404(order_id, note_id)
    return render(
        "orders/document.html",
        document=document,
        order=_order_or_404(order_id),
        pdf_url=("documents.credit_note_pdf", {"order_id": order_id, "note_id": note_id}),
    )


@bp.get("/<id:order_id>/credit-notes/<id:note_id>.pdf")
@login_required
def credit_note_pdf(order_id, note_id):
    return pdf_response(_credit_note_or_404(order_id, note_id))


def pdf_response(document):
    """The document as a PDF the browser shows (and saves under its number); never cached."""
    with in_language(document.language):
        body = document_pdf(document)
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{document.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
