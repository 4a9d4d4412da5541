"""Admin → Reports → Invoices and credit notes: the documents issued in a period, their PDFs and a
CSV for the accountant (number, date, order, buyer, base and VAT per rate, total).

Staff and the owner see them (read-only). The period filter is the reports' (forms/reports.py):
in the URL, so a period can be bookmarked, and the CSV link carries it.
"""

from decimal import Decimal

from babel.numbers import get_currency_precision
from flask import abort
from flask import Blueprint
from flask import make_response
from flask import request
from flask import url_for
from flask_babel import gettext

from forms.reports import ReportFilterForm
from models.invoices.document import credit_note_document
from models.invoices.document import invoice_document
from models.invoices.document import missing_legal_details
from models.invoices.document import TITLES
from models.invoices.listing import count_documents
from models.invoices.listing import csv_rows
from models.invoices.listing import documents_in
from models.invoices.listing import PAGE_SIZE
from models.orders.invoice import Invoice
from models.refunds.credit_notes import CreditNote
from models.shop.language import format_percent_bp
from models.shop.settings import shop_today
from views.downloads import csv_download
from views.downloads import spreadsheet_text
from views.orders.documents import pdf_response
from views.pagination import counted_page
from views.rendering import render
from views.settings import shop_settings

bp = Blueprint("invoices", __name__, url_prefix="/reports")

PERIOD_FILTERS = ("period", "date_from", "date_to")


def _period():
    form = ReportFilterForm(request.args)
    scope, notes = form.scope(shop_today())
    args = {name: value for name in PERIOD_FILTERS if (value := request.args.get(name))}
    return form, scope, notes, args


@bp.get("/invoices")
def index():
    form, scope, notes, args = _period()
    context = {
        "form": form,
        "notes": notes,
        "filter_args": args,
        "titles": TITLES,
        "missing": missing_legal_details(),
    }
    if scope is None:
        return render("admin/invoices/index.html", status=422, **context)
    count = count_documents(scope.first, scope.last)
    page = counted_page(count, PAGE_SIZE)
    return render(
        "admin/invoices/index.html",
        scope=scope,
        entries=documents_in(scope.first, scope.last, PAGE_SIZE, page.offset),
        page=page,
        count=count,
        csv_url=url_for(".download", **args),
        **context,
    )


@bp.get("/invoices.csv")
def download():
    _, scope, _, _ = _period()
    if scope is None:
        return make_response(
            gettext("These filters cannot be used: choose a period.") + "\n",
            422,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    rates, rows = csv_rows(scope.first, scope.last)
    header = [gettext("Document"), gettext("Number"), gettext("Date"), gettext("Order")]
    header += [gettext("Corrects invoice"), gettext("Buyer")]
    for rate in rates:
        header += [
            gettext("Base excl. VAT at %(rate)s", rate=format_percent_bp(rate)),
            gettext("VAT at %(rate)s", rate=format_percent_bp(rate)),
        ]
    header.append(gettext("Total incl. VAT"))
    return csv_download(
        f"invoices-{scope.first.isoformat()}-{scope.last.isoformat()}.csv",
        header,
        (_csv_line(row) for row in rows),
    )


def _csv_line(row):
    return [
        str(TITLES[row["kind"]]),
        row["number"],
        row["issued_on"].isoformat(),
        row["order"],
        row["refers_to"],
        spreadsheet_text(row["buyer"]),
        *[_decimal(amount) for amount in row["figures"]],
        _decimal(row["total"]),
    ]


def _decimal(minor_units):
    return str(Decimal(minor_units).scaleb(-get_currency_precision(shop_settings().currency)))


@bp.get("/invoices/<id:invoice_id>.pdf")
def invoice_pdf(invoice_id):
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        abort(404)
    return pdf_response(invoice_document(invoice.order))


@bp.get("/invoices/credit-notes/<id:note_id>.pdf")
def credit_note_pdf(note_id):
    note = CreditNote.get_or_none(CreditNote.id == note_id)
    if note is None:
        abort(404)
    return pdf_response(credit_note_document(note))
