"""What an invoice and a credit note say, field by field; the PDF; who may see them."""

import datetime
import io
import os
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader

from models.accounts.profile import delete_account
from models.invoices.document import credit_note_document
from models.invoices.document import invoice_document
from models.invoices.document import Line
from models.invoices.document import Party
from models.invoices.document import RateTotal
from models.invoices.pdf import document_pdf
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.orders.order import Order
from models.refunds.credit_notes import credit_notes_of
from models.refunds.orders import refund_order
from models.shop.language import in_language
from models.shop.settings import ShopSettings
from models.storefront.vat_rates import VatRate
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD
from tests.factories import change_default_group
from tests.factories import make_category
from tests.factories import make_product
from tests.factories import placed_order

PLACED = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)
DISPATCHED = datetime.datetime(2026, 3, 12, 9, 0, tzinfo=datetime.UTC)
SELLER = Party(
    name="Test Shop SAS",
    address=("12 rue de la Paix", "75002 Paris", "France"),
    company_number="SIRET 123 456 789 00012",
    vat_number="FR12123456789",
    mentions="SAS au capital de 10 000 € · RCS Paris 123 456 789",
    email="hello@demo.shop",
)
BUYER = Party(name="Ann Buyer", address=("1 High St", "Town T1 1AA"), country="GB")


def rate(bp):
    return VatRate.get(VatRate.rate_bp == bp)


@pytest.fixture
def order(app, buyer):
    """Two teas at 20 % and a book at 5.5 %, paid from account funds with a 2 % discount."""
    change_default_group(funds_discount_bp=200)
    with app.test_request_context(), time_machine.travel(PLACED, tick=False):
        tea = make_product(make_category("Tea"), price=1200, name="Green tea")
        book = make_product(make_category("Books"), price=1055, name="Tea atlas")
        VatRate.update(is_default=False).execute()
        tea.vat_rate = rate(2000)
        tea.save()
        book.vat_rate = rate(550)
        book.save()
        order = placed_order(buyer, (tea, 2), (book, 1), funds=5000)
    assert (order.status, order.subtotal, order.funds_discount, order.total) == ("paid", 3455, 69, 3386)
    return order


def test_an_invoice_says_what_the_law_asks_field_by_field(ctx, order, owner):
    document = invoice_document(order)
    year = PLACED.year
    assert (document.kind, document.number, document.order_number) == (
        "invoice",
        f"{year}-000001",
        order.number,
    )
    assert document.issued_on == document.sale_on == datetime.date(2026, 3, 10)
    assert (document.delivered_on, document.pickup) == (None, False)  # "to be delivered"
    assert document.seller == SELLER
    assert document.buyer == BUYER
    assert document.lines == [
        Line("Green tea", 2, 1000, (2000,), 2400),  # 12.00 with 2.00 of VAT at 20 %
        Line("Tea atlas", 1, 1000, (550,), 1055),  # 10.55 with 0.55 at 5.5 %
        # The discount is shared over the goods' rates as the order's VAT is: −0.48 and −0.21.
        Line("Discount for paying with funds (2 %)", 1, -60, (2000, 550), -69),
    ]
    assert document.rates == [RateTotal(2000, 1960, 392, 2352), RateTotal(550, 980, 54, 1034)]
    assert sum(r.gross for r in document.rates) == document.total == 3386
    assert document.vat_applies and document.missing == []
    assert [(str(p.label), p.amount) for p in document.payments] == [("Account funds", 3386)]
    assert document.payment_terms is None
    dispatch([order], owner, now=DISPATCHED.replace(tzinfo=None))
    assert invoice_document(Order.get_by_id(order.id)).delivered_on == datetime.date(2026, 3, 12)


def test_a_credit_note_splits_what_went_back_by_rate(ctx, order, owner):
    with time_machine.travel(PLACED + datetime.timedelta(days=20), tick=False):
        refund_order(order, 1000, "funds", "Book arrived damaged", owner, "refund-key-000000000001")
    [note] = credit_notes_of(order)
    document = credit_note_document(note)
    assert (document.kind, document.number, document.refers_to) == (
        "credit_note",
        "AV-2026-000001",
        invoice_document(order).number,
    )
    assert (document.issued_on, document.sale_on) == (datetime.date(2026, 3, 30), datetime.date(2026, 3, 10))
    assert (document.seller, document.buyer) == (SELLER, BUYER)
    assert document.lines == []
    assert document.rates == [RateTotal(2000, 579, 116, 695), RateTotal(550, 289, 16, 305)]
    assert (document.total, document.reason) == (1000, "Book arrived damaged")


def test_the_vat_not_applicable_mode_says_so_and_lists_no_rates(ctx, buyer, make_product):
    ShopSettings.update(vat_mode="not_applicable").execute()
    order = placed_order(buyer, (make_product(price=1500), 1), funds=1500)
    document = invoice_document(order)
    assert not document.vat_applies and document.rates == []
    assert document.lines == [Line("Tea 1", 1, 1500, (), 1500)]
    assert "vat_number" not in [str(m) for m in document.missing]
    assert "VAT not applicable, article 293 B of the French tax code (CGI)" in pdf_text(
        document_pdf(document)
    )


def test_paid_on_account_says_when_it_is_due(ctx, buyer, make_product):
    from models.funds.customer_accounts import set_credit_limit

    change_default_group(pay_on_account=True)
    set_credit_limit(buyer, 5000)
    with time_machine.travel(PLACED, tick=False):
        order = placed_order(buyer, (make_product(price=2000), 1), use_credit=True)
    document = invoice_document(order)
    assert [(str(p.label), p.amount) for p in document.payments] == [("On account (store credit)", 2000)]
    assert document.payment_terms == datetime.date(2026, 3, 31) + datetime.timedelta(days=30)


def test_missing_legal_details_are_named_for_the_owner(ctx, buyer, make_product):
    ShopSettings.update(legal_address="", company_number="", vat_number="").execute()
    order = placed_order(buyer, (make_product(price=1500), 1), funds=1500)
    assert [str(m) for m in invoice_document(order).missing] == [
        "the seller's address",
        "the company number",
        "the VAT number",
    ]


def pdf_text(pdf):
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_carries_the_number_the_parties_and_the_totals(ctx, order):
    document = invoice_document(order)
    text = pdf_text(document_pdf(document))
    for expected in (
        "Invoice 2026-000001",
        order.number,
        "Test Shop SAS",
        "SIRET 123 456 789 00012",
        "FR12123456789",
        "Ann Buyer",
        "Green tea",
        "€10.00",  # unit price without VAT
        "€19.60",  # base at 20 %
        "€3.92",  # VAT at 20 %
        "€33.86",  # total
        "10 Mar 2026",
        "To be delivered",
    ):
        assert expected in text, expected
    with in_language("fr"):
        french_pdf = document_pdf(document)
        french = pdf_text(french_pdf)
    if os.environ.get("SCREENSHOT_DIR"):  # to look at: pdftoppm -png invoice-fr.pdf
        Path(os.environ["SCREENSHOT_DIR"], "invoice-en.pdf").write_bytes(document_pdf(document))
        Path(os.environ["SCREENSHOT_DIR"], "invoice-fr.pdf").write_bytes(french_pdf)
    assert "Facture 2026-000001" in french and "33,86\u00a0€" in french and "10 mars 2026" in french


def test_the_customer_reads_and_downloads_their_documents_and_no_one_elses(app, order, owner, make_customer):
    with app.test_request_context():
        refund_order(order, 1000, "funds", "", owner, "refund-key-000000000001")
    [note] = credit_notes_of(order)
    client = app.test_client()
    sign_in(client, order.user)
    page = client.get(f"/account/orders/{order.id}/invoice").get_data(as_text=True)
    assert "2026-000001" in page and "Test Shop SAS" in page and "AV-2026-000001" in page
    pdf = client.get(f"/account/orders/{order.id}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "private, no-store"
    note_page = client.get(f"/account/orders/{order.id}/credit-notes/{note.id}")
    assert note_page.status_code == 200 and "AV-2026-000001" in note_page.get_data(as_text=True)
    listing = client.get("/account/orders/documents").get_data(as_text=True)
    assert "2026-000001" in listing and "AV-2026-000001" in listing

    stranger = app.test_client()
    sign_in(stranger, make_customer())
    for path in (
        f"/account/orders/{order.id}/invoice",
        f"/account/orders/{order.id}/invoice.pdf",
        f"/account/orders/{order.id}/credit-notes/{note.id}",
        f"/account/orders/{order.id}/credit-notes/{note.id}.pdf",
    ):
        assert stranger.get(path).status_code == 404, path
    assert "2026-000001" not in stranger.get("/account/orders/documents").get_data(as_text=True)


def test_deleting_the_account_keeps_the_invoice_and_erases_the_rest(
    ctx, buyer, make_product, owner, monkeypatch
):
    def bank_paid(key, dispatched=True):
        order = placed_order(buyer, (make_product(price=1500), 1), key=key, method=BANK)
        receive_bank_transfer(order, owner)
        if dispatched:
            dispatch([Order.get_by_id(order.id)], owner)
        return Order.get_by_id(order.id)

    invoiced = bank_paid("order-key-0000000001")
    to_send = bank_paid("order-key-0000000002", dispatched=False)
    monkeypatch.setattr("models.orders.paid.issue_invoice", lambda order, now: None)
    before_invoices = bank_paid("order-key-0000000003")  # its order number was its invoice number
    monkeypatch.undo()

    assert delete_account(buyer, TEST_PASSWORD)

    assert invoice_document(Order.get_by_id(invoiced.id)).buyer == BUYER  # as issued, for 10 years
    invoiced = Order.get_by_id(invoiced.id)
    assert invoiced.address_lines("billing") == invoiced.address_lines("shipping") == []
    assert invoiced.billing_phone == ""
    legacy = Order.get_by_id(before_invoices.id)
    assert legacy.address_lines("billing") == ["Ann Buyer", "1 High St", "Town T1 1AA", "United Kingdom"]
    assert legacy.address_lines("shipping") == []
    assert Order.get_by_id(to_send.id).address_lines("shipping") == to_send.address_lines("shipping") != []
