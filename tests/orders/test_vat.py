"""The VAT an order records when it is placed (models/orders/vat.py): per rate, delivery and the
funds discount shared in proportion, rates copied onto the lines, never rewritten later; the
"VAT not applicable" mode; marketplace imports; the helpers the invoices use."""

from models.marketplace.csv_upload import import_csv
from models.orders.account_payment import pay_from_account
from models.orders.order import BANK
from models.orders.order import OrderLine
from models.orders.placing import place_order
from models.orders.vat import order_vat_lines
from models.orders.vat import OrderVat
from models.orders.vat import split_by_rate
from models.orders.vat import unit_price_without_vat
from models.orders.vat import vat_applies
from models.orders.vat import VatLine
from models.shop.settings import update_settings
from models.storefront.catalog import Product
from models.storefront.delivery import create_method
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from models.storefront.vat_rates import default_rate
from models.storefront.vat_rates import save_rate
from models.storefront.vat_rates import VatRate
from tests.factories import address
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import make_product
from tests.factories import placed_order
from tests.factories import shop


def rate(bp):
    return VatRate.get(VatRate.rate_bp == bp)


def product_at(bp, price):
    product = make_product(price=price, stock=50)
    Product.update(vat_rate=rate(bp)).where(Product.id == product.id).execute()
    return Product.get_by_id(product.id)


def vat_half_up(gross, bp):
    """round_half_up(gross × bp / (10000 + bp)), worked out with integers the long way."""
    quotient, remainder = divmod(gross * bp, 10000 + bp)
    return quotient + (1 if 2 * remainder >= 10000 + bp else 0)


def test_the_migration_seeds_the_french_rates_with_20_percent_as_default(app):
    assert sorted(r.rate_bp for r in VatRate.select()) == [210, 550, 1000, 2000]
    assert default_rate().rate_bp == 2000
    assert vat_applies()


def test_one_rate_one_row_and_each_line_keeps_its_rate(buyer):
    order = placed_order(buyer, (product_at(2000, 1200), 2), method=BANK)
    assert order_vat_lines(order) == [VatLine(rate_bp=2000, gross=2400, base=2000, vat=400)]
    assert [line.vat_rate_bp for line in order.lines] == [2000]


def test_a_product_without_a_rate_takes_the_shop_default(buyer):
    product = make_product(price=1000)
    Product.update(vat_rate=None).where(Product.id == product.id).execute()
    order = placed_order(buyer, (product, 1), method=BANK)
    assert [line.rate_bp for line in order_vat_lines(order)] == [2000]


def test_delivery_and_funds_discount_are_shared_over_mixed_rates(buyer):
    create_method({"name": "Post", "price": 490, "countries": [], "everywhere": True}, None)
    change_default_group(funds_discount_bp=500)
    book, tea = product_at(550, 3000), product_at(2000, 1000)
    fund(buyer, 1000)
    seen = shop(buyer, (book, 1), (tea, 1))
    where = address(buyer)
    order = place_order(
        buyer,
        "vat-key-000000000001",
        seen,
        where,
        where,
        funds_wanted=950,
        method=BANK,
        delivery_method_id=1,
        delivery_seen=offers_fingerprint(offers_for("GB", 4000)),
    )
    assert (order.subtotal, order.delivery_price, order.funds_discount) == (4000, 490, 50)
    assert order.total == 4440
    # Ancillary: 490 − 50 = 440, shared 3000 : 1000 → 330 and 110.
    gross = {2000: 1000 + 110, 550: 3000 + 330}
    expected = [
        VatLine(
            rate_bp=bp,
            gross=gross[bp],
            base=gross[bp] - vat_half_up(gross[bp], bp),
            vat=vat_half_up(gross[bp], bp),
        )
        for bp in (2000, 550)
    ]
    assert order_vat_lines(order) == expected
    assert sum(line.gross for line in order_vat_lines(order)) == order.total


def test_later_rate_changes_never_rewrite_an_order(buyer, owner):
    order = placed_order(buyer, (product_at(2000, 1200), 1), method=BANK)
    save_rate({"name": "Standard rate", "rate_bp": 2100}, owner, rate(2000))
    assert order_vat_lines(order) == [VatLine(rate_bp=2000, gross=1200, base=1000, vat=200)]
    assert OrderLine.get(OrderLine.order == order.id).vat_rate_bp == 2000


def test_paying_later_from_funds_shares_the_bigger_discount_again(buyer):
    change_default_group(funds_discount_bp=1000)
    order = placed_order(buyer, (product_at(2000, 2000), 1), (product_at(550, 2000), 1), method=BANK)
    assert order.total == 4000
    fund(buyer, 5000)
    order = pay_from_account(order, "pay-vat-000000000001")
    assert order.total == 3600
    lines = order_vat_lines(order)
    assert [(line.rate_bp, line.gross) for line in lines] == [(2000, 1800), (550, 1800)]
    assert all(line.base + line.vat == line.gross for line in lines)


def test_vat_not_applicable_records_one_row_without_vat(buyer):
    update_settings({"vat_mode": "not_applicable"})
    assert not vat_applies()
    order = placed_order(buyer, (product_at(2000, 1200), 1), (product_at(550, 800), 2), method=BANK)
    assert order_vat_lines(order) == [VatLine(rate_bp=0, gross=2800, base=2800, vat=0)]
    assert {line.vat_rate_bp for line in order.lines} == {0}


def test_orders_placed_before_vat_have_no_lines(buyer):
    order = placed_order(buyer, (product_at(2000, 1200), 1), method=BANK)
    OrderVat.delete().execute()
    assert order_vat_lines(order) == []
    assert split_by_rate(order, 500) == []


def test_a_refund_is_split_in_proportion_to_the_cent(buyer):
    order = placed_order(buyer, (product_at(2000, 3000), 1), (product_at(550, 1000), 1), method=BANK)
    parts = split_by_rate(order, 1001)
    assert [(p.rate_bp, p.gross) for p in parts] == [(2000, 751), (550, 250)]
    assert parts[0].vat == vat_half_up(751, 2000) and parts[1].vat == vat_half_up(250, 550)


def test_unit_price_without_vat():
    assert unit_price_without_vat(1200, 2000) == 1000
    assert unit_price_without_vat(1055, 550) == 1000
    assert unit_price_without_vat(999, 0) == 999


def test_marketplace_orders_record_their_rates_and_shipping_shares(app):
    book = product_at(550, 950)
    Product.update(slug="book-1").where(Product.id == book.id).execute()
    header = "channel,order_ref,ordered_at,email,first_name,last_name,shipping_name,shipping_line1,"
    header += "shipping_city,shipping_postal_code,shipping_country,product_slug,item_name,quantity,unit_price,shipping_cost\n"
    common = "amazon,A-1,2026-05-01T09:15:00Z,jane@example.com,Jane,Doe,Jane Doe,1 St,Bristol,BS1,GB"
    data = header + f"{common},book-1,,2,9.50,3.00\n{common},,Mug,1,10.00,3.00\n"
    report = import_csv(data.encode())
    assert report.imported == 1, report.results
    rows = list(OrderVat.select().order_by(OrderVat.rate_bp.desc()))
    # Shipping 300 shared 1000 : 1900 → 103.4 and 196.6: 103 and 197 (largest remainder).
    assert [(row.rate_bp, row.gross) for row in rows] == [(2000, 1000 + 103), (550, 1900 + 197)]
    assert sorted(line.vat_rate_bp or 0 for line in OrderLine.select()) == [0, 550, 2000]
