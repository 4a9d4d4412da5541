"""Checkout and My Account → Orders over HTTP: pages, the breakdown, 422s, the sandbox card flow."""

import re
from html import unescape

import pytest

from models.accounts.addresses import add_address
from models.funds.customer_accounts import account_for
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import system_account
from models.groups.group import CustomerGroup
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderPayment
from models.shop.settings import update_settings
from models.storefront.cart import add_to_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from payments.sandbox import SandboxPayment
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import fund
from tests.factories import placed_order

KEY = "checkout-key-00000001"


@pytest.fixture
def product(app):
    category = Category.create(name="Tea", slug="tea")
    return Product.create(name="Green tea", slug="green-tea", price=4200, stock=5, category=category)


@pytest.fixture
def ready(customer_client, customer, product):
    """A signed-in customer with 12.00 of funds, an address and 1 × 42.00 in the cart."""
    fund(customer, 1200)
    add_address(
        customer,
        {
            "full_name": "Ann Buyer",
            "line1": "1 High St",
            "city": "Town",
            "postal_code": "T1",
            "country": "GB",
        },
    )
    add_to_cart(product.id, 1, user=customer)
    return customer_client


def form_of(html):
    """The checkout form's fields as the page rendered them."""
    fields = dict(re.findall(r'<input[^>]*name="(seen|idempotency_key)"[^>]*value="([^"]*)"', html))
    fields = {name: unescape(value) for name, value in fields.items()}
    fields["billing_address"] = re.search(r'<option[^>]*value="(\d+)"', html).group(1)
    fields["shipping_address"] = fields["billing_address"]
    fields["csrf_token"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return fields


def checkout_form(client, **changes):
    data = form_of(client.get("/checkout").get_data(as_text=True))
    data.update({"method": "card", "place": "1", "accept_terms": "y"}, **changes)
    return data


def test_visitors_go_to_sign_in_and_come_back(client, customer, product):
    response = client.get("/checkout")
    assert response.status_code == 302
    assert "/sign-in" in response.location and "next=%2Fcheckout" in response.location


def test_the_cart_links_to_checkout(ready):
    assert 'href="/checkout"' in ready.get("/cart").get_data(as_text=True)


def test_checkout_shows_the_breakdown(ready):
    CustomerGroup.update(funds_discount_bp=2000).where(CustomerGroup.is_default == True).execute()  # noqa: E712
    html = ready.get("/checkout").get_data(as_text=True)
    # 12.00 of funds covers 15.00 (20 % off): 12.00 funds, 3.00 discount, 27.00 card
    assert "€12.00 funds, €3.00 discount, €27.00 card." in html
    assert 'hx-post="/checkout"' in html and "Recalculate" in html


def test_recalculate_without_javascript_and_with_htmx(ready):
    data = checkout_form(ready, funds="5")
    del data["place"]
    page = ready.post("/checkout", data={**data, "recalculate": "1"})
    assert page.status_code == 200
    assert "€5.00 funds, €37.00 card." in page.get_data(as_text=True)
    assert """hx-vals='{"recalculate": "1"}'""" in page.get_data(as_text=True)
    fragment = ready.post("/checkout", data={**data, "recalculate": "1"}, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "€5.00 funds" in text
    assert Order.select().count() == 0


@pytest.mark.parametrize("typed", ["13", "-1", "NaN", "1e3", "abc", "1.234"])
def test_bad_funds_amounts_answer_422_and_keep_what_was_typed(ready, typed):
    response = ready.post("/checkout", data=checkout_form(ready, funds=typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'value="{typed}"' in html
    assert 'aria-invalid="true"' in html and "There is a problem" in html
    assert Order.select().count() == 0


def test_funds_and_bank_transfer_show_the_bank_details_and_reference(ready, customer):
    response = ready.post("/checkout", data=checkout_form(ready, method="bank"))
    assert response.status_code == 303
    order = Order.get(Order.user == customer)
    page = ready.get(response.location).get_data(as_text=True)
    assert "Thank you" in page and order.number in page and "Reference" in page and "€30.00" in page
    assert system_account(FUNDS_ON_HOLD).balance == 1200


def test_bank_transfer_is_not_offered_before_the_shop_publishes_its_bank_details(app, ready, customer):
    with app.app_context():
        update_settings({"bank_iban": ""})
    page = ready.get("/checkout").get_data(as_text=True)
    assert "Pay the rest (€30.00) by card." in page and "Bank transfer" not in page
    response = ready.post("/checkout", data=checkout_form(ready, method="bank"))
    assert response.status_code == 422 and Order.select().count() == 0
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.test_request_context(), pytest.raises(OrderError, match="doesn't take bank transfers"):
        placed_order(customer, (Product.get(), 1), method=BANK)


def test_double_submit_and_two_tabs_give_one_order(ready, customer):
    data = checkout_form(ready, method="bank")
    first = ready.post("/checkout", data=data)
    second = ready.post("/checkout", data=data)
    assert first.location == second.location
    assert Order.select().count() == 1
    assert system_account(FUNDS_ON_HOLD).balance == 1200


def test_price_changed_is_refused_on_the_page(ready, product):
    data = checkout_form(ready)
    Product.update(price=4500).where(Product.id == product.id).execute()
    response = ready.post("/checkout", data=data)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "changed from €42.00 to €45.00" in html
    assert Order.select().count() == 0


def card_checkout(client):
    response = client.post("/checkout", data=checkout_form(client))
    assert response.status_code == 303 and "/sandbox/pay/" in response.location
    return response.location


def decide(client, url, outcome):
    return client.post(url, data={"outcome": outcome, "csrf_token": csrf_token(client, url)})


def test_card_approved_pays_the_order(ready, customer):
    back = decide(ready, card_checkout(ready), "approve")
    assert back.status_code == 303
    page = ready.get(back.location).get_data(as_text=True)
    assert "is paid" in page
    order = Order.get(Order.user == customer)
    assert (order.status, order.funds_used, order.card_amount) == ("paid", 1200, 3000)
    assert system_account(FUNDS_ON_HOLD).balance == 0


def test_card_declined_keeps_the_order_to_pay_later(ready, customer):
    back = decide(ready, card_checkout(ready), "decline")
    page = ready.get(back.location).get_data(as_text=True)
    assert "didn't go through" in page and "Pay now" in page
    order = Order.get(Order.user == customer)
    assert order.status == "pending_payment"
    pay_page = ready.get(f"/account/orders/{order.id}/pay").get_data(as_text=True)
    assert "Pay €30.00 by card" in pay_page
    again = post_form(ready, f"/account/orders/{order.id}/pay", page=f"/account/orders/{order.id}/pay")
    assert again.status_code == 303 and "/sandbox/pay/" in again.location
    decide(ready, again.location, "approve")
    assert Order.get_by_id(order.id).status == "paid"
    assert OrderPayment.select().count() == 2


def test_card_late_is_being_confirmed_then_paid(app, ready, customer):
    back = decide(ready, card_checkout(ready), "late")
    page = ready.get(back.location).get_data(as_text=True)
    assert "Payment being confirmed" in page and "Check again" in page
    payment = SandboxPayment.get()
    SandboxPayment.update(status="succeeded").where(SandboxPayment.id == payment.id).execute()
    assert "is paid" in ready.get(back.location).get_data(as_text=True)
    assert Order.get(Order.user == customer).status == "paid"


def test_my_orders_list_and_page(ready, customer):
    ready.post("/checkout", data=checkout_form(ready, method="bank"))
    order = Order.get(Order.user == customer)
    listing = ready.get("/account/orders").get_data(as_text=True)
    assert order.number in listing and "Awaiting payment" in listing and "Pay now" in listing
    page = ready.get(f"/account/orders/{order.id}").get_data(as_text=True)
    for text in ("Green tea", "Ann Buyer", "Account funds", "Bank transfer", "History", "Order placed"):
        assert text in page
    assert "/account/orders" in ready.get("/account/").get_data(as_text=True)


def test_customer_cancels_an_unpaid_order(ready, customer, product):
    ready.post("/checkout", data=checkout_form(ready, method="bank"))
    order = Order.get(Order.user == customer)
    response = post_form(ready, f"/account/orders/{order.id}/cancel", page=f"/account/orders/{order.id}")
    assert response.status_code == 303
    assert Order.get_by_id(order.id).status == "cancelled"
    assert account_for(customer).balance == 1200
    assert Product.get_by_id(product.id).stock == 5


def test_another_customers_order_is_not_found(ready, customer, client, make_customer, app):
    ready.post("/checkout", data=checkout_form(ready, method="bank"))
    order = Order.get(Order.user == customer)
    other = app.test_client()
    sign_in(other, make_customer())
    for path in (f"/account/orders/{order.id}", f"/account/orders/{order.id}/pay"):
        assert other.get(path).status_code == 404
    token = csrf_token(other, "/account/orders")
    assert other.post(f"/account/orders/{order.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert Order.get_by_id(order.id).status == "pending_payment"
