"""Admin → Reports → Invoices and credit notes: the period's documents, their PDFs, the CSV."""

import csv
import io

from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.orders.order import Order
from models.refunds.credit_notes import credit_notes_of
from models.refunds.orders import refund_order
from tests.conftest import sign_in
from tests.factories import placed_order


def documents(app, buyer, make_product, owner):
    with app.test_request_context():
        order = placed_order(buyer, (make_product(price=3000), 1), method=BANK)
        receive_bank_transfer(order, owner)
        refund_order(Order.get_by_id(order.id), 1200, "funds", "=cmd|' /C calc'!A0", owner, "refund-key-0001")
    return Order.get_by_id(order.id)


def test_the_owner_lists_the_periods_documents_and_downloads_the_csv(app, buyer, make_product, owner):
    order = documents(app, buyer, make_product, owner)
    [note] = credit_notes_of(order)
    client = app.test_client()
    sign_in(client, owner)
    page = client.get("/admin/reports/invoices?period=this_month")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    invoice_number = order.invoices.get().number
    assert invoice_number in html and note.number in html and "Ann Buyer" in html
    assert client.get(f"/admin/reports/invoices/{order.invoices.get().id}.pdf").mimetype == "application/pdf"
    assert client.get(f"/admin/reports/invoices/credit-notes/{note.id}.pdf").mimetype == "application/pdf"

    response = client.get("/admin/reports/invoices.csv?period=this_month")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "Document",
        "Number",
        "Date",
        "Order",
        "Corrects invoice",
        "Buyer",
        "Base excl. VAT at 20%",
        "VAT at 20%",
        "Total incl. VAT",
    ]
    day = order.invoices.get().local_date.isoformat()
    assert rows[1] == [
        "Invoice",
        invoice_number,
        day,
        order.number,
        "",
        "Ann Buyer",
        "25.00",
        "5.00",
        "30.00",
    ]
    assert rows[2] == [
        "Credit note",
        note.number,
        day,
        order.number,
        invoice_number,
        "Ann Buyer",
        "-10.00",
        "-2.00",
        "-12.00",
    ]
    assert len(rows) == 3


def test_staff_see_the_list_and_customers_do_not(app, buyer, make_product, owner, staff):
    documents(app, buyer, make_product, owner)
    client = app.test_client()
    sign_in(client, staff)
    assert client.get("/admin/reports/invoices").status_code == 200
    customer = app.test_client()
    sign_in(customer, buyer)
    assert customer.get("/admin/reports/invoices").status_code in (403, 404)
    assert customer.get("/admin/reports/invoices.csv").status_code in (403, 404)


def test_a_period_that_cannot_be_read_is_422(app, owner):
    client = app.test_client()
    sign_in(client, owner)
    page = client.get("/admin/reports/invoices?period=custom&date_from=2026-05-01")
    assert page.status_code == 422
    # No legal identity in the settings yet: the owner is told what the invoices lack.
    assert "lack the seller's address, the company number, the VAT number" in page.get_data(as_text=True)
    assert client.get("/admin/reports/invoices.csv?period=nonsense").status_code == 422
