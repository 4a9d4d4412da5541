"""The VAT report (models/reports/vat.py): sales per rate on the day they were paid, refunds split
by rate on the day they were made, orders from before VAT on a line of their own; the page, the
CSV, and the link to deposits. The expected figures are worked out here from the carts the test
placed, with the rounding written out long-hand."""

import csv
import datetime
import io

import pytest

from models.orders.vat import OrderVat
from models.refunds.orders import refund_order
from models.refunds.orders import TO_FUNDS
from models.reports.scope import Scope
from models.reports.vat import vat
from models.shop.settings import update_settings
from models.storefront.catalog import Product
from models.storefront.vat_rates import VatRate
from tests.conftest import sign_in
from tests.factories import local
from tests.factories import make_product
from tests.factories import placed_order

MARCH = Scope(first=datetime.date(2026, 3, 1), last=datetime.date(2026, 3, 31), bucket="day")


def vat_half_up(gross, bp):
    quotient, remainder = divmod(gross * bp, 10000 + bp)
    return quotient + (1 if 2 * remainder >= 10000 + bp else 0)


def product_at(bp, price):
    product = make_product(price=price, stock=50)
    Product.update(vat_rate=VatRate.get(VatRate.rate_bp == bp)).where(Product.id == product.id).execute()
    return product


def paid_on(customer, day, *lines, key):
    """An order paid from funds at 10:00 shop time on 2026-03-`day`."""
    return placed_order(customer, *lines, key=key, funds=100_000, now=local(2026, 3, day, 10))


@pytest.fixture
def march(app, make_customer, owner):
    with app.test_request_context():
        ann = make_customer()
        paid_on(ann, 2, (product_at(2000, 1200), 1), key="vat-report-000000001")
        paid_on(ann, 2, (product_at(550, 1055), 2), key="vat-report-000000002")
        mixed = paid_on(
            ann, 3, (product_at(2000, 3000), 1), (product_at(550, 1000), 1), key="vat-report-000000003"
        )
        old = paid_on(ann, 3, (product_at(2000, 500), 1), key="vat-report-000000004")
        OrderVat.delete().where(OrderVat.order == old.id).execute()  # as if placed before VAT
        refund_order(mixed, 1001, TO_FUNDS, "", owner, "vat-refund-1", now=local(2026, 3, 4, 9))
    return mixed


def figures(report):
    return {
        (row["period"], row["rate"]): (row["sales"], row["refunds"], row["base"], row["vat"])
        for row in report.rows
    }


def test_sales_per_rate_refunds_split_and_orders_before_vat(app, march):
    with app.test_request_context():
        report = vat(MARCH)
    # The refund of 1001 over 3000 : 1000 → 750.75 and 250.25: 751 and 250 (largest remainder).
    expected = {
        ("2 Mar", "20%"): (1200, 0, 1200 - 200, 200),
        ("2 Mar", "5.5%"): (2110, 0, 2110 - vat_half_up(2110, 550), vat_half_up(2110, 550)),
        ("3 Mar", "20%"): (3000, 0, 3000 - vat_half_up(3000, 2000), vat_half_up(3000, 2000)),
        ("3 Mar", "5.5%"): (1000, 0, 1000 - vat_half_up(1000, 550), vat_half_up(1000, 550)),
        ("3 Mar", "Not recorded"): (500, 0, None, None),
        ("4 Mar", "20%"): (0, 751, -(751 - vat_half_up(751, 2000)), -vat_half_up(751, 2000)),
        ("4 Mar", "5.5%"): (0, 250, -(250 - vat_half_up(250, 550)), -vat_half_up(250, 550)),
    }
    assert figures(report) == expected
    assert report.totals["sales"] == 1200 + 2110 + 4000 + 500
    assert report.totals["refunds"] == 1001
    assert report.totals["gross"] == report.totals["sales"] - 1001
    vat_20 = 200 + 500 - vat_half_up(751, 2000)
    vat_55 = vat_half_up(2110, 550) + vat_half_up(1000, 550) - vat_half_up(250, 550)
    assert report.totals["vat"] == vat_20 + vat_55
    assert ("VAT at 20%", vat_20, "money") in report.summary


def test_by_month_one_line_per_rate(app, march):
    with app.test_request_context():
        report = vat(Scope(first=MARCH.first, last=MARCH.last, bucket="month"))
    assert [row["rate"] for row in report.rows] == ["20%", "5.5%", "Not recorded"]
    assert [row["gross"] for row in report.rows] == [1200 + 3000 - 751, 2110 + 1000 - 250, 500]


def test_not_applicable_orders_read_so(app, make_customer):
    with app.test_request_context():
        update_settings({"vat_mode": "not_applicable"})
        paid_on(make_customer(), 5, (product_at(2000, 1200), 1), key="vat-report-000000009")
        report = vat(MARCH)
    assert figures(report) == {("5 Mar", "VAT not applicable"): (1200, 0, 1200, 0)}


def test_the_page_and_csv_agree_and_point_to_deposits(app, march, owner):
    client = app.test_client()
    sign_in(client, owner)
    query = "period=custom&date_from=2026-03-01&date_to=2026-03-31&by=month"
    page = client.get(f"/admin/reports/vat?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Top-ups are not sales: see the Deposits report." in html
    assert "/admin/reports/deposits?" in html
    download = client.get(f"/admin/reports/vat.csv?{query}")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == [
        "Period",
        "VAT rate",
        "Sales incl. VAT",
        "Refunds incl. VAT",
        "Net incl. VAT",
        "Base excl. VAT",
        "VAT",
    ]
    assert rows[1][1:5] == ["20%", "42.00", "7.51", "34.49"]
    assert rows[3][1:] == ["Not recorded", "5.00", "0.00", "5.00", "", ""]
    assert rows[-1][0] == "Total"


def test_staff_read_the_report_too(app, march, staff):
    client = app.test_client()
    sign_in(client, staff)
    assert client.get("/admin/reports/vat?period=last_month").status_code == 200
