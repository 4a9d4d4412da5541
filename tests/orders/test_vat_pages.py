"""Where customers and the owner read an order's VAT: "of which VAT 20 %" under the total of the
order pages (orders/_lines.html) and of the order emails (email/_order_items.*), the art. 293 B
mention in "VAT not applicable" mode, nothing for orders placed before VAT; and the checkout
saying "VAT included" once."""

from models.orders.order import BANK
from models.orders.vat import OrderVat
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.storefront.catalog import Product
from models.storefront.vat_rates import VatRate
from tests.conftest import sign_in
from tests.factories import make_product
from tests.factories import placed_order
from tests.factories import shop


def product_at(bp, price):
    product = make_product(price=price, stock=50)
    Product.update(vat_rate=VatRate.get(VatRate.rate_bp == bp)).where(Product.id == product.id).execute()
    return product


def test_the_receipt_email_shows_the_vat_per_rate(app, make_customer):
    with app.test_request_context():
        ann = make_customer()
        placed_order(ann, (product_at(2000, 1200), 1), (product_at(550, 1055), 1), funds=5000)
    body = OutboxMessage.get(OutboxMessage.kind == "order_paid").text_body
    assert "Total: €22.55\nof which VAT 20%: €2.00\nof which VAT 5.5%: €0.55" in body
    html = OutboxMessage.get(OutboxMessage.kind == "order_paid").html_body
    assert "of which VAT 20%" in html and "€0.55" in html


def test_not_applicable_emails_and_pages_carry_the_mention(app, make_customer):
    with app.test_request_context():
        update_settings({"vat_mode": "not_applicable"})
        ann = make_customer()
        order = placed_order(ann, (product_at(2000, 1200), 1), funds=5000)
    body = OutboxMessage.get(OutboxMessage.kind == "order_paid").text_body
    assert "Total: €12.00\nVAT not applicable, art. 293 B du CGI" in body and "of which VAT" not in body
    client = app.test_client()
    sign_in(client, ann)
    html = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert html.count("VAT not applicable, art. 293 B du CGI") == 1 and "of which VAT" not in html


def test_the_order_pages_show_the_vat_per_rate(app, make_customer, owner):
    with app.test_request_context():
        ann = make_customer()
        order = placed_order(ann, (product_at(2000, 2400), 1), (product_at(550, 2110), 1), method=BANK)
    client = app.test_client()
    sign_in(client, ann)
    html = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert "of which VAT 20%" in html and "€4.00" in html and "of which VAT 5.5%" in html and "€1.10" in html
    staff_side = app.test_client()
    sign_in(staff_side, owner)
    assert "of which VAT 5.5%" in staff_side.get(f"/admin/orders/{order.id}").get_data(as_text=True)


def test_orders_placed_before_vat_show_none(app, make_customer):
    with app.test_request_context():
        ann = make_customer()
        order = placed_order(ann, (product_at(2000, 1200), 1), method=BANK)
    OrderVat.delete().execute()
    client = app.test_client()
    sign_in(client, ann)
    html = client.get(f"/account/orders/{order.id}").get_data(as_text=True)
    assert "of which VAT" not in html and "293 B" not in html


def test_checkout_says_vat_included_once(app, make_customer):
    with app.test_request_context():
        ann = make_customer()
        shop(ann, (product_at(2000, 1200), 1))
    client = app.test_client()
    sign_in(client, ann)
    html = client.get("/checkout").get_data(as_text=True)
    assert html.count("VAT included") == 1
