"""Marketplace orders (models/marketplace/, /admin/orders/import, POST /api/marketplace/orders):
CSV and JSON imports, re-imports that change nothing, bad rows reported by line, the API token,
imported customers (never purged, claimed by "forgot password" or by registering), and money
that never touches the ledger."""

import csv
import datetime
import html
import io
import json
import re

import pytest
from peewee import IntegrityError
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models.accounts.registration import purge_unconfirmed_accounts
from models.base import db
from models.base import utcnow
from models.funds.ledger import check_ledger
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.groups.group import new_member
from models.marketplace import importing as marketplace
from models.marketplace.api_token import create_token
from models.marketplace.api_token import MarketplaceToken
from models.marketplace.api_token import revoke_token
from models.marketplace.csv_upload import import_csv
from models.marketplace.csv_upload import MAX_UPLOAD_BYTES
from models.marketplace.json_api import import_json
from models.marketplace.results import ALREADY_IMPORTED
from models.marketplace.results import IMPORTED
from models.marketplace.results import MarketplaceImport
from models.marketplace.results import REJECTED
from models.orders.cancelling import auto_cancel_due
from models.orders.order import Order
from models.orders.order import OrderEvent
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.orders.order import payments_total
from models.orders.order import PENDING_PAYMENT
from models.shop.outbox import OutboxMessage
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import FROM_MARKETPLACE
from models.users.user import User
from tests.accounts.test_register import last_mail
from tests.accounts.test_register import link_in
from tests.accounts.test_register import register
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import run_mail_requests
from tests.conftest import sign_in

IMPORT_PAGE = "/admin/orders/import"
API = "/api/marketplace/orders"

COLUMNS = [
    "channel", "order_ref", "ordered_at", "email", "first_name", "last_name", "phone",
    "shipping_name", "shipping_line1", "shipping_city", "shipping_postal_code", "shipping_country",
    "product_slug", "item_name", "quantity", "unit_price", "shipping_cost", "order_total",
]  # fmt: skip


def row(**values):
    """One CSV row of a one-item Amazon order, with `values` changed."""
    base = {
        "channel": "amazon",
        "order_ref": "204-0000001",
        "ordered_at": "2026-05-01T09:15:00Z",
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "phone": "",
        "shipping_name": "Jane Doe",
        "shipping_line1": "12 Market Street",
        "shipping_city": "Bristol",
        "shipping_postal_code": "BS1 4DJ",
        "shipping_country": "GB",
        "product_slug": "",
        "item_name": "Mug",
        "quantity": "1",
        "unit_price": "10.00",
        "shipping_cost": "",
        "order_total": "",
    }
    base.update(values)
    return base


def csv_bytes(*rows, columns=COLUMNS, delimiter=","):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, data, name="orders.csv"):
    """POST the file like the browser form does. The body is encoded here, in memory: the test
    client would spool a big one to a temporary file it never closes."""
    fields = {
        "csrf_token": csrf_token(client, IMPORT_PAGE),
        "file": FileStorage(io.BytesIO(data), filename=name, content_type="text/csv"),
    }
    boundary, body = encode_multipart(fields)
    return client.post(IMPORT_PAGE, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def counts():
    """What an import may change: orders, lines, customers, stock, ledger."""
    return (
        Order.select().count(),
        OrderLine.select().count(),
        User.select().count(),
        [p.stock for p in Product.select().order_by(Product.id)],
        Journal.select().count(),
        Entry.select().count(),
    )


@pytest.fixture
def products(app):
    category = Category.create(name="Coffee", slug="coffee")
    return {
        slug: Product.create(name=name, slug=slug, price=950, stock=stock, category=category)
        for slug, name, stock in (
            ("house-blend-250g", "House blend, 250 g", 10),
            ("ethiopia-guji-250g", "Ethiopia Guji, 250 g", 1),
        )
    }


@pytest.fixture
def staff_client(app, staff):
    client = app.test_client()
    sign_in(client, staff)
    return client


def stock(product):
    return Product.get_by_id(product.id).stock


# CSV ----------------------------------------------------------------------------------------


def test_csv_import_records_paid_orders_with_customers_lines_and_stock(staff_client, staff, products):
    ledger_before = (Journal.select().count(), Entry.select().count())
    data = csv_bytes(
        row(product_slug="house-blend-250g", item_name="", quantity="2", unit_price="9.50", shipping_cost="3.95",
            order_total="26.95"),
        row(item_name="Gift wrapping", quantity="1", unit_price="4.00", ordered_at="", email="", first_name="",
            last_name="", shipping_name="", shipping_line1="", shipping_city="", shipping_postal_code="",
            shipping_country=""),
        row(channel="eBay", order_ref="12-34567", email="sam@example.org", first_name="", last_name="",
            shipping_name="Sam Green", item_name="Poster", unit_price="7.00", ordered_at="2026-05-02 18:40"),
    )  # fmt: skip
    response = upload(staff_client, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    batch = MarketplaceImport.get()
    assert response.headers["Location"] == f"/admin/orders/import/{batch.id}"
    assert (batch.imported, batch.already_imported, batch.rejected, batch.actor_id) == (2, 0, 0, staff.id)

    amazon = Order.get(Order.channel == "amazon")
    assert amazon.external_ref == "204-0000001"
    assert (amazon.status, amazon.payment_method, amazon.auto_cancel_at) == (PAID, "marketplace", None)
    assert (amazon.subtotal, amazon.funds_discount, amazon.total) == (2695, 0, 2695)
    assert amazon.marketplace_amount == amazon.total == payments_total(amazon)
    assert (amazon.funds_used, amazon.credit_used, amazon.card_amount, amazon.bank_amount) == (0, 0, 0, 0)
    assert amazon.paid_at == amazon.created_at == datetime.datetime(2026, 5, 1, 9, 15)
    assert amazon.number == f"2605-{amazon.id:05d}"
    assert (amazon.shipping_name, amazon.shipping_city, amazon.shipping_country) == (
        "Jane Doe",
        "Bristol",
        "GB",
    )
    assert amazon.billing_line1 == "12 Market Street"  # no billing address given: the delivery address
    lines = [(line.product_id, line.name, line.quantity, line.unit_price, line.kind) for line in amazon.lines]
    blend = products["house-blend-250g"]
    assert lines == [
        (blend.id, "House blend, 250 g", 2, 950, "product"),
        (0, "Gift wrapping", 1, 400, "product"),
        (0, "Shipping", 1, 395, "shipping"),
    ]
    assert sum(line.line_total for line in amazon.lines) == amazon.total
    assert stock(blend) == 8
    event = OrderEvent.get(OrderEvent.order == amazon)
    assert (event.to_status, event.actor_id, event.actor_label) == (PAID, staff.id, "staff")
    assert event.note.startswith("Imported from Amazon (order 204-0000001) by " + staff.email)

    jane = User.by_email("jane@example.com")
    assert (jane.source, jane.password_hash, jane.email_confirmed_at) == (FROM_MARKETPLACE, None, None)
    assert (jane.first_name, jane.last_name) == ("Jane", "Doe")
    ebay = Order.get(Order.channel == "ebay")
    sam = User.get_by_id(ebay.user_id)
    assert (sam.email, sam.first_name, sam.last_name) == (
        "sam@example.org",
        "Sam",
        "Green",
    )  # from shipping_name
    assert ebay.paid_at == datetime.datetime(2026, 5, 2, 17, 40)  # shop time (London, summer) → UTC

    # The money was paid on the marketplace: no ledger movement, no email to the customers.
    assert (Journal.select().count(), Entry.select().count()) == ledger_before
    assert check_ledger() == []
    assert not OutboxMessage.select().where(OutboxMessage.to_address.in_([jane.email, sam.email])).exists()

    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Amazon 204-0000001" in page and "eBay 12-34567" in page and "Lines 2–3" in page
    assert page.count("Imported</span>") == 2


def test_csv_reimport_changes_nothing(staff_client, products):
    data = csv_bytes(
        row(product_slug="house-blend-250g", quantity="3"),
        row(order_ref="204-0000002", email="other@example.com", product_slug="ethiopia-guji-250g"),
    )
    assert upload(staff_client, data).status_code == 303
    before = counts()
    response = upload(staff_client, data)
    assert response.status_code == 303
    assert counts() == before
    batch = MarketplaceImport.select().order_by(MarketplaceImport.id.desc()).first()
    assert (batch.imported, batch.already_imported, batch.rejected) == (0, 2, 0)
    assert [r.outcome for r in batch.results] == [ALREADY_IMPORTED, ALREADY_IMPORTED]
    first = Order.get(Order.external_ref == "204-0000001")
    assert batch.results[0].number == first.number
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count("Already imported</span>") == 2


def test_bad_rows_are_reported_by_line_and_good_orders_kept(staff_client, products):
    blend = products["house-blend-250g"]
    data = csv_bytes(
        row(order_ref="GOOD-1"),  # line 2
        row(order_ref="BAD-QTY", quantity="two"),  # line 3
        row(order_ref="BAD-EMAIL", email="not an email"),  # line 4
        row(order_ref="HALF", product_slug="house-blend-250g", item_name="", quantity="4"),  # line 5
        row(order_ref="HALF", unit_price="12.5.0"),  # line 6: this bad line rejects the whole order
        row(order_ref="GOOD-2", email="ann@example.com", unit_price="12,50"),  # line 7
        row(order_ref="", item_name="Orphan"),  # line 8
        row(order_ref="BAD-TOTAL", order_total="99.00"),  # line 9
        row(order_ref="BAD-COUNTRY", shipping_country="Atlantis"),  # line 10
    )
    response = upload(staff_client, data)
    assert response.status_code == 303
    assert sorted(o.external_ref for o in Order.select()) == ["GOOD-1", "GOOD-2"]
    assert Order.get(Order.external_ref == "GOOD-2").total == 1250
    assert stock(blend) == 10  # the rejected order took nothing
    batch = MarketplaceImport.get()
    assert (batch.imported, batch.rejected) == (2, 6)
    rejected = {r.order_ref: (r.where, " ".join(r.reasons)) for r in batch.results if r.outcome == REJECTED}
    assert rejected["BAD-QTY"][0] == "line 3" and "line 3, quantity" in rejected["BAD-QTY"][1]
    assert rejected["BAD-EMAIL"][0] == "line 4" and "isn't an email address" in rejected["BAD-EMAIL"][1]
    assert rejected["HALF"][0] == "lines 5–6" and "line 6, unit_price" in rejected["HALF"][1]
    assert rejected[""][0] == "line 8" and "order_ref: missing" in rejected[""][1]
    assert "says €99.00, but the lines and shipping add up to €10.00" in rejected["BAD-TOTAL"][1]
    assert "“Atlantis” isn't a country" in rejected["BAD-COUNTRY"][1]
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Lines 5–6" in page and "Line 3" in page and page.count("Rejected</span>") == 6


def test_rows_of_one_order_must_agree(staff_client, products):
    data = csv_bytes(row(), row(email="someone.else@example.com", item_name="Second"))
    response = upload(staff_client, data)
    assert response.status_code == 422
    assert "line 3: email differs from line 2" in response.get_data(as_text=True)
    assert Order.select().count() == 0


def test_an_upload_with_nothing_valid_keeps_nothing(staff_client, products):
    before = counts()
    response = upload(staff_client, csv_bytes(row(quantity="0"), row(order_ref="X-2", unit_price="£5")))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "No order in this file could be imported" in html
    assert "line 2, quantity: enter a whole number from 1 to 9,999 (not 0)." in html
    assert "line 3, unit_price: “£5” isn&#39;t an amount" in html
    assert 'aria-invalid="true"' in html
    assert counts() == before
    assert MarketplaceImport.select().count() == 0


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file has no rows."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "it holds binary data"),
        ("channel,order_ref\ncafé,1\n".encode("latin-1"), "isn&#39;t UTF-8 text"),
        (b"name,price\nMug,10\n", "must name the columns"),
        (b"channel,order_ref,email\namazon,1,a@example.com\n", "These columns are missing: shipping_name"),
        (csv_bytes(columns=COLUMNS), "header line but no orders"),
        (b"channel,channel\n", "appear more than once: channel"),
        (",".join(COLUMNS).encode() + b'\namazon,"unterminated\n' + b"x" * 200_000, "Line 2 can&#39;t be read as CSV"),
        (b"a" * (MAX_UPLOAD_BYTES + 10), "larger than 1 MB"),
    ],
    ids=["empty", "blank", "binary", "latin-1", "wrong-columns", "missing-columns", "header-only",
         "duplicate-columns", "broken-csv", "over-1-mb"],
)  # fmt: skip
def test_garbage_files_are_refused_with_a_message_and_no_500(staff_client, products, data, message):
    before = counts()
    response = upload(staff_client, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == before
    assert MarketplaceImport.select().count() == 0


def test_no_file_chosen(staff_client):
    response = upload(staff_client, b"", name="")  # what a browser sends for an empty file input
    assert response.status_code == 422
    assert "Choose the CSV file with the orders to import." in response.get_data(as_text=True)


def test_an_upload_beyond_the_request_limit_gets_the_form_with_a_message(staff_client, products):
    response = upload(staff_client, b"a" * (3 * 1024 * 1024))
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The file is too large. Upload at most 1 MB" in html and 'name="file"' in html


def test_a_row_with_too_many_values_is_rejected_on_its_own(staff_client, products):
    good = csv_bytes(row(order_ref="OK-1"))
    broken = b"amazon,OK-2,,x@example.com,,,,Ann,1 High St, Flat 2,Town,T1,GB,,Mug,1,5.00,,\n"
    response = upload(staff_client, good + broken)
    assert response.status_code == 303
    batch = MarketplaceImport.get()
    assert [(r.order_ref, r.outcome) for r in batch.results] == [("OK-1", IMPORTED), ("OK-2", REJECTED)]
    assert "line 3 has 19 values but line 1 names 18 columns" in batch.results[1].reasons[0]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files(staff_client, products, delimiter):
    data = b"\xef\xbb\xbf" + csv_bytes(row(unit_price="10,00"), delimiter=delimiter)  # with a BOM
    assert upload(staff_client, data).status_code == 303
    assert Order.get().total == 1000


def test_the_example_file_imports_cleanly(staff_client, products):
    example = staff_client.get(f"{IMPORT_PAGE}/example.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    assert "attachment" in example.headers["Content-Disposition"]
    response = upload(staff_client, example.data)
    assert response.status_code == 303
    batch = MarketplaceImport.get()
    assert (batch.imported, batch.rejected) == (2, 0)
    assert stock(products["house-blend-250g"]) == 8 and stock(products["ethiopia-guji-250g"]) == 0


def test_the_page_documents_the_columns_for_staff_without_the_token(staff_client):
    html = staff_client.get(IMPORT_PAGE).get_data(as_text=True)
    for column in ("channel", "order_ref", "email", "shipping_country", "product_slug", "unit_price"):
        assert column in html
    assert 'href="/admin/orders/import/example.csv"' in html
    assert 'for="file"' in html
    assert "Import through the API" not in html


# Customers ----------------------------------------------------------------------------------


def test_links_to_an_existing_customer_by_email_whatever_the_case(make_customer):
    ann = make_customer(
        email="ann@example.com", first_name="Ann", last_name="Original", phone="+442079460000"
    )
    users = User.select().count()
    report = import_csv(csv_bytes(row(email="  ANN@Example.COM ", first_name="Anna", last_name="Other")))
    assert report.imported == 1 and not report.results[0].new_customer
    assert Order.get().user_id == ann.id
    assert User.select().count() == users
    ann = User.get_by_id(ann.id)
    assert (ann.first_name, ann.last_name, ann.phone) == ("Ann", "Original", "+442079460000")  # untouched


@pytest.mark.parametrize("role", ["staff", "owner"])
def test_an_order_for_a_staff_or_owner_email_is_rejected_and_attached_to_nobody(make_user, products, role):
    member = make_user(role, email=f"{role}@shop.example")
    before = counts()
    report = import_csv(
        csv_bytes(
            row(email=f"  {role.upper()}@Shop.Example ", product_slug="house-blend-250g", item_name=""),
            row(order_ref="204-0000002", email="jane@example.com"),
        )
    )
    staff_order, other = report.results
    assert (staff_order.outcome, other.outcome) == (REJECTED, IMPORTED)
    assert staff_order.reasons == [
        f"email: “{role}@shop.example” belongs to a staff account; imported orders can't be attached to "
        "it. Import the order with the customer's own email."
    ]
    assert staff_order.order_id is None and staff_order.customer_id is None
    assert not Order.select().where(Order.user == member).exists()
    assert User.select().where(User.email.contains(role)).count() == 1  # no second account either
    assert stock(products["house-blend-250g"]) == 10
    assert counts()[0] == before[0] + 1  # only Jane's order


def test_an_api_order_for_a_staff_email_is_rejected_with_the_reason(client, token, staff, owner, products):
    body = {"orders": [order_json(customer={"email": staff.email}), order_json(order_ref="2", customer={"email": owner.email})]}  # fmt: skip
    answer = post_api(client, body, token).get_json()
    assert [o["result"] for o in answer["orders"]] == ["rejected", "rejected"]
    for sent, person in zip(answer["orders"], (staff, owner), strict=True):
        assert sent["reasons"] == [
            f"customer.email: “{person.email}” belongs to a staff account; imported orders can't be "
            "attached to it. Import the order with the customer's own email."
        ]
    assert Order.select().count() == 0
    assert MarketplaceImport.get().rejected == 2


def test_the_report_page_shows_why_a_staff_email_order_was_rejected(staff_client, staff, products):
    page = upload(staff_client, csv_bytes(row(email=staff.email))).get_data(as_text=True)
    assert "belongs to a staff account; imported orders can&#39;t be attached to it" in page
    assert Order.select().count() == 0


def test_an_imported_customer_is_never_purged(products):
    import_csv(csv_bytes(row(email="market@example.com")))
    imported = User.by_email("market@example.com")
    User.update(created_at=utcnow() - datetime.timedelta(days=60)).where(User.id == imported.id).execute()
    # A self-registration left unconfirmed as long is purged by the same call.
    stale = new_member(email="stale@example.com", created_at=utcnow() - datetime.timedelta(days=60))
    assert purge_unconfirmed_accounts(utcnow()) == 1
    assert User.get_or_none(User.id == stale.id) is None
    assert User.get_by_id(imported.id).email == "market@example.com"


def test_claim_by_forgot_password(app, products):
    import_csv(csv_bytes(row(email="claim@example.com")))
    client = app.test_client()
    assert post_form(client, "/forgot-password", {"email": "claim@example.com"}).status_code == 303
    run_mail_requests(app)
    message = last_mail("claim@example.com")
    assert message.kind == "reset_password" and "has no password yet" in message.text_body
    path = link_in(message, "/reset-password/")
    page = client.get(path)
    assert page.status_code == 200 and "Choose your password" in page.get_data(as_text=True)
    assert post_form(client, path, {"password": "my own new password"}).status_code == 303
    user = User.by_email("claim@example.com")
    assert user.password_hash is not None and user.email_confirmed_at is not None
    sign_in(client, user, "my own new password")
    orders = client.get("/account/orders").get_data(as_text=True)
    assert Order.get().number in orders


def test_claim_by_registering_never_says_the_account_exists(app, products):
    import_csv(csv_bytes(row(email="claim@example.com", first_name="Clara")))
    page = register(app.test_client(), email="claim@example.com")
    fresh = register(app.test_client(), email="fresh@example.com")

    def normalised(response, email):
        html = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'(value="|"X-CSRFToken": ")[^"]+"', "TOKEN", html)

    assert normalised(page, "claim@example.com") == normalised(fresh, "fresh@example.com")
    message = last_mail("claim@example.com")
    assert message.kind == "already_registered"
    assert "when you ordered from us on Amazon, and it has no password yet" in message.text_body
    path = link_in(message, "/reset-password/")
    client = app.test_client()
    assert post_form(client, path, {"password": "my own new password"}).status_code == 303
    user = User.by_email("claim@example.com")
    assert User.select().where(User.email == "claim@example.com").count() == 1
    assert (
        user.source == FROM_MARKETPLACE and user.first_name == "Clara"
    )  # the draft's details don't replace it
    sign_in(client, user, "my own new password")


# Never awaiting payment ---------------------------------------------------------------------


def test_imported_orders_are_never_awaiting_payment(products):
    import_csv(csv_bytes(row(ordered_at="2026-01-01T10:00:00Z")))
    order = Order.get()
    assert not order.is_unpaid and order.auto_cancel_at is None and order.due == 0
    assert auto_cancel_due(datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)) == 0
    assert Order.get_by_id(order.id).status == PAID
    assert not Order.select().where(Order.status == PENDING_PAYMENT).exists()


# Stock, races ----------------------------------------------------------------------------


def test_stock_never_goes_below_zero_and_the_report_says_so(products):
    guji = products["ethiopia-guji-250g"]
    report = import_csv(csv_bytes(row(product_slug="ethiopia-guji-250g", item_name="", quantity="3")))
    assert report.imported == 1
    assert stock(guji) == 0
    assert "Stock ran short: Ethiopia Guji, 250 g (sold 3, 1 in stock; now 0)." in report.results[0].warnings
    assert "Stock ran short" in OrderEvent.get().note


def test_an_unknown_product_slug_keeps_the_line_as_text(products):
    report = import_csv(csv_bytes(row(product_slug="no-such-thing", item_name="Vintage mug")))
    assert report.imported == 1
    line = OrderLine.get()
    assert (line.product_id, line.name) == (0, "Vintage mug")
    assert "no product has the web address “no-such-thing”" in report.results[0].warnings[0]
    assert import_csv(csv_bytes(row(order_ref="2", product_slug="no-such-thing", item_name=""))).rejected == 1


def test_a_concurrent_double_import_cannot_duplicate(products, monkeypatch):
    """Both imports checked before either saved: the UNIQUE (channel, external_ref) index decides."""
    data = csv_bytes(row(product_slug="house-blend-250g", item_name="", quantity="2"))
    assert import_csv(data).imported == 1

    real = marketplace._existing
    blind = iter([True, True])  # the pre-check and the check inside the transaction see nothing

    def existing(*key):
        return None if next(blind, False) else real(*key)

    monkeypatch.setattr(marketplace, "_existing", existing)
    report = import_csv(data)
    assert [r.outcome for r in report.results] == [ALREADY_IMPORTED]
    assert Order.select().count() == 1
    assert stock(products["house-blend-250g"]) == 8  # the loser's stock update was rolled back


def test_the_currency_must_be_the_shops(products):
    report = import_csv(csv_bytes(row(), columns=[*COLUMNS, "currency"]))
    assert report.imported == 1
    other = row(order_ref="2")
    other["currency"] = "usd"
    report = import_csv(csv_bytes(other, columns=[*COLUMNS, "currency"]))
    assert "this order is in USD, but the shop keeps its books in EUR" in report.results[0].reasons[0]


# JSON API ------------------------------------------------------------------------------------


def order_json(**changes):
    order = {
        "channel": "etsy",
        "order_ref": "3141592653",
        "ordered_at": "2026-05-03T12:00:00+02:00",
        "customer": {"email": "Lee@Example.com", "first_name": "Lee", "last_name": "Park", "phone": "+44 20 7946 0018"},
        "shipping_address": {"name": "Lee Park", "line1": "1 Quay", "city": "Hull", "postal_code": "HU1 1AA",
                             "country": "gb"},
        "lines": [
            {"product_slug": "house-blend-250g", "quantity": 2, "unit_price": "9.50"},
            {"name": "Card", "quantity": 1, "unit_price": "1.00"},
        ],
        "shipping_cost": "2.50",
        "total": "22.50",
    }  # fmt: skip
    order.update(changes)
    return order


@pytest.fixture
def token(app, owner):
    return create_token(owner)


def post_api(client, body, token=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return client.post(API, data=data, headers=headers, content_type="application/json")


def test_json_import_and_reimport(client, token, products):
    body = {"orders": [order_json(), order_json(order_ref=2718281828, lines=[{"name": "Tea", "quantity": "1", "unit_price": "5"}], total=None)]}  # fmt: skip
    response = post_api(client, body, token)  # no CSRF token: the endpoint is exempt
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert (answer["imported"], answer["already_imported"], answer["rejected"]) == (2, 0, 0)
    first = answer["orders"][0]
    assert (first["index"], first["channel"], first["order_ref"], first["result"]) == (
        0,
        "etsy",
        "3141592653",
        "imported",
    )
    order = Order.get(Order.external_ref == "3141592653")
    assert first["order_number"] == order.number and first["new_customer"] is True
    assert (order.total, order.marketplace_amount, payments_total(order)) == (2250, 2250, 2250)
    assert order.paid_at == datetime.datetime(2026, 5, 3, 10, 0)
    assert order.shipping_country == "GB"
    lee = User.get_by_id(order.user_id)
    assert (lee.email, lee.phone, lee.password_hash) == ("lee@example.com", "+442079460018", None)
    assert Order.get(Order.external_ref == "2718281828").total == 750  # 5.00 + 2.50 shipping
    event = OrderEvent.get(OrderEvent.order == order)
    assert event.actor_id is None and "through the marketplace API" in event.note
    assert stock(products["house-blend-250g"]) == 8

    before = counts()
    again = post_api(client, body, token).get_json()
    assert [o["result"] for o in again["orders"]] == ["already_imported", "already_imported"]
    assert again["orders"][0]["order_number"] == order.number
    assert counts() == before
    assert MarketplaceImport.select().count() == 1  # a retry that changed nothing keeps no report
    assert MarketplaceToken.get().last_used_at is not None


def test_json_bad_orders_are_rejected_with_reasons_and_good_ones_kept(client, token, products):
    body = {
        "orders": [
            order_json(order_ref="A1"),
            order_json(order_ref="B2", lines=[{"name": "Mug", "quantity": 1, "unit_price": 12.5}]),
            "not an order",
            order_json(order_ref="C3", customer={"first_name": "No email"}, shipping_address=None),
            order_json(channel="shop", order_ref="D4"),
        ]
    }
    answer = post_api(client, body, token).get_json()
    assert [o["result"] for o in answer["orders"]] == [
        "imported",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    reasons = {o["index"]: " ".join(o.get("reasons", [])) for o in answer["orders"]}
    assert 'lines[0], unit_price: write the amount as a string like "12.50"' in reasons[1]
    assert "orders[2] must be an object" in reasons[2]
    assert "customer.email: missing" in reasons[3] and "shipping_address: missing" in reasons[3]
    assert "“shop” means this shop's own orders" in reasons[4]
    assert [o.external_ref for o in Order.select()] == ["A1"]
    batch = MarketplaceImport.get()  # rejections through the API are kept for the owner to see
    assert (batch.source, batch.imported, batch.rejected) == ("api", 1, 4)


def test_the_api_needs_the_live_token(client, owner, products):
    body = {"orders": [order_json()]}
    assert post_api(client, body).status_code == 401  # no token at all, none created
    first = create_token(owner)
    missing = post_api(client, body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "valid API token" in missing.get_json()["error"]
    assert post_api(client, body, first + "x").status_code == 401
    assert client.post(API, json=body, headers={"Authorization": f"Basic {first}"}).status_code == 401
    second = create_token(owner)  # replacing the token ends the first one at once
    assert post_api(client, body, first).status_code == 401
    assert post_api(client, body, second).status_code == 200
    revoke_token(owner)
    assert post_api(client, body, second).status_code == 401
    assert Order.select().count() == 1
    assert first not in json.dumps([t.__data__ for t in MarketplaceToken.select()], default=str)


@pytest.mark.parametrize(
    "raw, status, message",
    [
        (b"{not json", 400, "isn't valid JSON"),
        (b"\xff\xfe", 400, "isn't UTF-8"),
        (b"[1, 2]", 400, '{"orders": [ … ]}'),
        (b'{"orders": []}', 400, "at least one order"),
        (json.dumps({"orders": [{}] * 501}).encode(), 413, "at most 500"),
        (b'{"orders": ["' + b"x" * 1_100_000 + b'"]}', 413, "larger than 1,000,000 bytes"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    ],
    ids=["invalid", "not-utf8", "not-an-object", "empty", "too-many", "too-big", "too-deep"],
)
def test_the_api_answers_bad_bodies_in_json(client, token, raw, status, message):
    response = post_api(client, None, token, raw=raw)
    assert response.status_code == status
    assert message in response.get_json()["error"]
    assert Order.select().count() == 0


def test_import_json_function_reads_bytes(products):
    report = import_json(json.dumps({"orders": [order_json()]}).encode())
    assert report.imported == 1


# The token page -------------------------------------------------------------------------------


def test_owner_creates_the_token_and_sees_it_once(owner_client):
    page = owner_client.get(IMPORT_PAGE).get_data(as_text=True)
    assert "Import through the API" in page and "No token is active" in page
    assert "http://shop.test/api/marketplace/orders" in page
    response = post_form(owner_client, f"{IMPORT_PAGE}/token", page=IMPORT_PAGE)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Your new API token" in html
    token = re.search(r'id="new-token" type="text" readonly value="(mkt_[^"]+)"', html).group(1)
    stored = MarketplaceToken.get()
    assert stored.token_hash != token and token not in stored.token_hash and stored.hint == token[-4:]
    later = owner_client.get(IMPORT_PAGE).get_data(as_text=True)
    assert token not in later and f"…{token[-4:]}" in later
    assert (
        post_api(owner_client.application.test_client(), {"orders": [order_json()]}, token).status_code == 200
    )


def test_the_token_needs_the_owner_and_a_fresh_sign_in(app, owner_client, staff):
    staff_client = app.test_client()
    sign_in(staff_client, staff)
    assert post_form(staff_client, f"{IMPORT_PAGE}/token", page=IMPORT_PAGE).status_code == 403
    assert post_form(staff_client, f"{IMPORT_PAGE}/token/revoke", page=IMPORT_PAGE).status_code == 403
    with owner_client.session_transaction() as session:
        session["password_at"] = 0  # signed in long ago
    response = post_form(owner_client, f"{IMPORT_PAGE}/token", page=IMPORT_PAGE)
    assert response.status_code == 303 and response.headers["Location"].startswith(
        "/account/confirm-password"
    )
    assert MarketplaceToken.select().count() == 0


def test_owner_revokes_the_token(owner_client, owner):
    create_token(owner)
    response = post_form(owner_client, f"{IMPORT_PAGE}/token/revoke", page=IMPORT_PAGE)
    assert response.status_code == 303
    assert MarketplaceToken.get().revoked_at is not None
    assert "No token is active" in owner_client.get(IMPORT_PAGE).get_data(as_text=True)


def test_customers_cannot_import(customer_client):
    assert customer_client.get(IMPORT_PAGE).status_code == 403
    assert upload(customer_client, csv_bytes(row()), name="x.csv").status_code == 403
    assert Order.select().count() == 0


def test_the_database_refuses_a_second_order_with_the_same_channel_and_reference(products):
    """What a concurrent double import relies on, whatever the idempotency key says."""
    import_csv(csv_bytes(row()))
    order = Order.get()
    fields = {name: getattr(order, name) for name in order.__data__ if name not in ("id", "number")}
    with pytest.raises(IntegrityError), db.atomic():
        Order.create(**{**fields, "idempotency_key": "another-key"})
    Order.create(**{**fields, "idempotency_key": "shop-key", "channel": "shop", "external_ref": None})
    Order.create(**{**fields, "idempotency_key": "shop-key-2", "channel": "shop", "external_ref": None})


def test_the_documented_json_example_imports(owner_client, owner, products):
    page = owner_client.get(IMPORT_PAGE).get_data(as_text=True)
    example = html.unescape(re.search(r"<pre><code>(.*?)</code></pre>", page, re.S).group(1))
    answer = post_api(
        owner_client.application.test_client(), None, create_token(owner), raw=example
    ).get_json()
    assert [o["result"] for o in answer["orders"]] == ["imported"]
