"""Checkout with delivery methods: the choice, the order's copy and line, what placing refuses,
pickup without a delivery address, the funds discount on goods only, a refund with delivery."""

import re
from html import unescape

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from models.accounts.addresses import add_address
from models.orders.account_payment import account_quote
from models.orders.breakdown import funds_cost
from models.orders.breakdown import quote
from models.orders.breakdown import round_half_up_bp
from models.orders.fulfilment import dispatch
from models.orders.order import BANK
from models.orders.order import DeliveryChanged
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import PAID
from models.orders.order import payments_total
from models.orders.placing import place_order
from models.refunds.orders import refund_order
from models.refunds.orders import refundable
from models.shop.outbox import OutboxMessage
from models.storefront.cart import add_to_cart
from models.storefront.delivery import create_method
from models.storefront.delivery import DeliveryMethod
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from models.storefront.delivery import set_method_active
from tests.factories import change_default_group
from tests.factories import fund
from tests.factories import make_product
from tests.factories import paid_order
from tests.factories import shop

KEY = "delivery-key-00000001"


def new_method(**fields):
    values = {"name": "Standard", "price": 490, "free_above": 6000, "countries": ["GB"], "everywhere": False}
    values.update(fields)
    return create_method(values, None)


@pytest.fixture
def methods(app):
    standard = new_method(estimate="2–4 working days")
    express = new_method(name="Express", price=990, free_above=None, countries=[], everywhere=True)
    pickup = new_method(name="Pickup at the shop", price=0, pickup=True, details="1 High St, Mon–Sat 10–18")
    return standard, express, pickup


def gb_address(user, country="GB"):
    return add_address(
        user,
        {
            "full_name": "Ann Buyer",
            "line1": "1 High St",
            "city": "Town",
            "postal_code": "T1",
            "country": country,
        },
    )


# Placing (models) ----------------------------------------------------------------------------


def test_the_chosen_method_goes_on_the_order_with_its_line(buyer, methods):
    standard, express, pickup = methods
    seen = shop(buyer, (make_product(price=2000), 1))
    where = gb_address(buyer)
    order = place_order(
        buyer,
        KEY,
        seen,
        where,
        where,
        method=BANK,
        delivery_method_id=express.id,
        delivery_seen=offers_fingerprint(offers_for("GB", 2000)),
    )
    assert (order.delivery_name, order.delivery_price, order.delivery_method_id) == (
        "Express",
        990,
        express.id,
    )
    assert order.subtotal == 2000 and order.total == 2990 and order.bank_amount == 2990
    line = next(line for line in order.lines if line.kind == "delivery")
    assert (line.name, line.line_total) == ("Express", 990)
    assert sum(line.line_total for line in order.lines) == order.total
    assert order.shipping_country == "GB"


def test_free_from_the_threshold_the_line_says_zero(buyer, methods):
    standard = methods[0]
    seen = shop(buyer, (make_product(price=3000), 2))
    where = gb_address(buyer)
    order = place_order(
        buyer,
        KEY,
        seen,
        where,
        where,
        method=BANK,
        delivery_method_id=standard.id,
        delivery_seen=f"{standard.id}:0",
    )
    assert order.delivery_price == 0 and order.total == 6000


def test_a_price_changed_since_the_page_is_refused(buyer, methods):
    standard = methods[0]
    seen = shop(buyer, (make_product(price=2000), 1))
    where = gb_address(buyer)
    DeliveryMethod.update(price=590).where(DeliveryMethod.id == standard.id).execute()
    with pytest.raises(DeliveryChanged, match="changed from €4.90 to €5.90"):
        place_order(
            buyer, KEY, seen, where, where, delivery_method_id=standard.id, delivery_seen=f"{standard.id}:490"
        )
    assert Order.select().count() == 0


def test_a_method_that_does_not_serve_the_country_or_is_hidden_is_refused(buyer, methods):
    standard, express, pickup = methods
    seen = shop(buyer, (make_product(price=2000), 1))
    france = gb_address(buyer, "FR")
    with pytest.raises(DeliveryChanged, match="doesn't deliver to France"):
        place_order(
            buyer,
            KEY,
            seen,
            france,
            france,
            delivery_method_id=standard.id,
            delivery_seen=f"{standard.id}:490",
        )
    set_method_active(express, False, None)
    with pytest.raises(DeliveryChanged, match="no longer offered"):
        place_order(
            buyer, KEY, seen, france, france, delivery_method_id=express.id, delivery_seen=f"{express.id}:990"
        )
    with pytest.raises(OrderError, match="Choose how your order reaches you"):
        place_order(buyer, KEY, seen, france, france)
    assert Order.select().count() == 0


def test_pickup_needs_no_delivery_address(buyer, methods):
    pickup = methods[2]
    seen = shop(buyer, (make_product(price=2000), 1))
    billing = gb_address(buyer, "FR")
    order = place_order(
        buyer,
        KEY,
        seen,
        billing,
        None,
        method=BANK,
        delivery_method_id=pickup.id,
        delivery_seen=f"{pickup.id}:0",
    )
    assert order.delivery_pickup and order.delivery_details == "1 High St, Mon–Sat 10–18"
    assert order.shipping_line1 == "" and order.total == 2000
    with pytest.raises(OrderError, match="needs a delivery address"):
        place_order(
            buyer,
            "delivery-key-00000002",
            shop(buyer, (make_product(price=100), 1)),
            billing,
            None,
            delivery_method_id=methods[1].id,
            delivery_seen=f"{methods[1].id}:990",
        )


def test_funds_pay_goods_with_the_discount_and_delivery_at_its_price(buyer, methods):
    express = methods[1]
    change_default_group(funds_discount_bp=1000)  # 10 %
    fund(buyer, 10000)
    seen = shop(buyer, (make_product(price=2000), 1))
    where = gb_address(buyer)
    order = place_order(
        buyer, KEY, seen, where, where, delivery_method_id=express.id, delivery_seen=f"{express.id}:990"
    )
    # Goods 20.00 cost 18.00 from funds (2.00 off); delivery 9.90 at face value.
    assert order.funds_discount == 200 and order.funds_used == 1800 + 990
    assert order.total == 2000 + 990 - 200 and order.status == "paid"
    assert payments_total(order) == order.total


def test_paying_later_from_the_account_discounts_only_the_goods_left(buyer, methods):
    express = methods[1]
    change_default_group(funds_discount_bp=1000)
    seen = shop(buyer, (make_product(price=2000), 1))
    where = gb_address(buyer)
    order = place_order(
        buyer,
        KEY,
        seen,
        where,
        where,
        method=BANK,
        delivery_method_id=express.id,
        delivery_seen=f"{express.id}:990",
    )
    fund(buyer, 10000)
    breakdown = account_quote(order)
    assert breakdown.discount == 200 and breakdown.funds_used == 1800 + 990 and breakdown.remainder == 0


def test_a_refund_may_include_delivery(buyer, methods, owner):
    express = methods[1]
    product = make_product(price=2000)
    fund(buyer, 5000)
    seen = shop(buyer, (product, 1))
    where = gb_address(buyer)
    order = place_order(
        buyer, KEY, seen, where, where, delivery_method_id=express.id, delivery_seen=f"{express.id}:990"
    )
    assert order.status == "paid" and refundable(order) == 2990
    refund = refund_order(order, 2990, "funds", "Lost in the post", owner, "refund-key-0000000001")
    assert refund.amount == 2990 and Order.get_by_id(order.id).refunded == 2990


@pytest.mark.parametrize(
    ("which", "subject", "said"),
    [
        (0, "is on its way", "Delivery: Standard, 2–4 working days."),
        (2, "is ready to collect", "is ready to collect:\n1 High St, Mon–Sat 10–18"),
    ],
)
def test_the_dispatch_email_says_how_it_comes(buyer, methods, owner, which, subject, said):
    chosen = methods[which]
    where = gb_address(buyer)
    fund(buyer, 5000)
    order = place_order(
        buyer,
        KEY,
        shop(buyer, (make_product(price=2000), 1)),
        where,
        None if chosen.pickup else where,
        delivery_method_id=chosen.id,
        delivery_seen=offers_fingerprint(offers_for("GB", 2000)),
    )
    assert order.status == PAID
    dispatch([order], owner)
    mail = OutboxMessage.get(OutboxMessage.kind == "order_dispatched")
    assert mail.subject.startswith(f"Order {order.number} {subject}")
    assert said in mail.text_body


def test_a_shop_without_methods_places_orders_as_before(buyer):
    order = paid_order(buyer, (make_product(price=1500), 1))
    assert order.delivery_name == "" and order.total == 1500
    assert [line.kind for line in order.lines] == ["product"]


# The property ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    subtotal=st.integers(min_value=1, max_value=1_000_000),
    delivery=st.integers(min_value=0, max_value=50_000),
    balance=st.integers(min_value=0, max_value=2_000_000),
    basis_points=st.integers(min_value=0, max_value=5000),
    share=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
    credit=st.booleans(),
)
def test_the_parts_always_add_up_and_the_discount_stays_on_goods(
    subtotal, delivery, balance, basis_points, share, credit
):
    from unittest import mock

    from models.orders import breakdown as module

    with (
        mock.patch.object(module, "available", return_value=(balance, 300_000)),
        mock.patch.object(module, "settings_for", return_value=mock.Mock(funds_discount_bp=basis_points)),
    ):
        most = min(balance, funds_cost(subtotal, basis_points) + delivery)
        wanted = None if share is None else int(most * share)
        result = quote(None, subtotal, wanted, credit, delivery=delivery)
    assert result.funds_used + result.credit_used + result.remainder == result.total
    assert result.total == subtotal + delivery - result.discount
    assert 0 <= result.discount <= round_half_up_bp(subtotal, basis_points)
    assert 0 <= result.funds_used <= balance and result.funds_used <= (most if wanted is None else wanted)
    assert result.remainder >= 0 and result.credit_used >= 0
    # Delivery is never discounted: what funds paid beyond the goods' cost is delivery at face value.
    assert result.funds_used - funds_cost(subtotal, basis_points) <= delivery


# Over HTTP -------------------------------------------------------------------------------------


@pytest.fixture
def ready(customer_client, customer, methods, make_product):
    gb_address(customer)
    add_to_cart(make_product(price=2500).id, 1, user=customer)
    return customer_client


def form_of(html):
    fields = dict(
        re.findall(
            r'<input[^>]*name="(seen|idempotency_key|delivery_seen|delivery_quoted)"[^>]*value="([^"]*)"',
            html,
        )
    )
    fields = {name: unescape(value) for name, value in fields.items()}
    fields["billing_address"] = fields["shipping_address"] = re.search(
        r'<option[^>]*value="(\d+)"', html
    ).group(1)
    fields["csrf_token"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    fields["delivery"] = re.search(r'name="delivery" value="(\d+)" checked', html).group(1)
    fields["method"] = "card"
    fields["accept_terms"] = "y"
    return fields


def test_checkout_offers_the_methods_for_the_address_and_places_the_choice(ready, customer, methods):
    standard, express, pickup = methods
    html = unescape(ready.get("/checkout").get_data(as_text=True))
    assert "Standard" in html and "2–4 working days" in html and "Free from €60.00" in html
    assert "Pickup at the shop" in html and "1 High St, Mon–Sat 10–18" in html
    assert "Delivery: Standard" in html and "<dt>Total</dt><dd>€29.90</dd>" in html
    data = form_of(html)
    # Choosing Express recalculates (htmx sends the change; without JS the button does the same).
    changed = ready.post(
        "/checkout",
        data={**data, "delivery": str(express.id), "recalculate": "1"},
        headers={"HX-Request": "true"},
    )
    text = unescape(changed.get_data(as_text=True))
    assert changed.status_code == 200 and "<dt>Total</dt><dd>€34.90</dd>" in text
    data = form_of(text)
    response = ready.post("/checkout", data={**data, "method": "bank", "place": "1"})
    assert response.status_code == 303
    order = Order.get(Order.user == customer)
    assert order.delivery_name == "Express" and order.total == 3490
    page = unescape(ready.get(f"/account/orders/{order.id}").get_data(as_text=True))
    assert "Delivery: Express" in page and "€9.90" in page


def test_a_choice_changed_without_recalculating_shows_the_new_total_first(ready, methods):
    express = methods[1]
    data = form_of(ready.get("/checkout").get_data(as_text=True))
    response = ready.post(
        "/checkout", data={**data, "delivery": str(express.id), "method": "bank", "place": "1"}
    )
    html = unescape(response.get_data(as_text=True))
    assert (
        response.status_code == 422
        and "changes the total" in html
        and "<dt>Total</dt><dd>€34.90</dd>" in html
    )
    assert Order.select().count() == 0


def test_a_delivery_price_changed_after_the_page_is_refused_on_the_page(ready, methods):
    standard = methods[0]
    data = form_of(ready.get("/checkout").get_data(as_text=True))
    DeliveryMethod.update(price=550).where(DeliveryMethod.id == standard.id).execute()
    response = ready.post("/checkout", data={**data, "method": "bank", "place": "1"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "changed from €4.90 to €5.50" in html
    assert "<dt>Total</dt><dd>€30.50</dd>" in html and Order.select().count() == 0


def test_pickup_over_http_keeps_no_delivery_address(ready, customer, methods):
    pickup = methods[2]
    data = form_of(ready.get("/checkout").get_data(as_text=True))
    data.update(delivery=str(pickup.id), delivery_quoted=str(pickup.id), method="bank", place="1")
    del data["shipping_address"]
    assert ready.post("/checkout", data=data).status_code == 303
    order = Order.get(Order.user == customer)
    assert order.delivery_pickup and order.shipping_line1 == "" and order.total == 2500


def test_an_address_nothing_delivers_to_says_so_and_offers_no_place_button(ready, customer, methods):
    standard, express, pickup = methods
    set_method_active(express, False, None)
    set_method_active(pickup, False, None)
    DeliveryMethod.update(countries="FR").where(DeliveryMethod.id == standard.id).execute()
    html = unescape(ready.get("/checkout").get_data(as_text=True))
    assert "We don't deliver to United Kingdom yet" in html and "Order with obligation to pay" not in html


def test_all_methods_hidden_after_the_page_is_refused_not_placed_without_delivery(buyer, methods):
    standard, express, pickup = methods
    seen = shop(buyer, (make_product(price=2000), 1))
    where = gb_address(buyer)
    shown = offers_fingerprint(offers_for("GB", 2000))
    for method in methods:
        set_method_active(method, False, None)
    with pytest.raises(DeliveryChanged, match="Delivery has just changed"):
        place_order(buyer, KEY, seen, where, None, delivery_method_id=pickup.id, delivery_seen=shown)
    with pytest.raises(DeliveryChanged):
        place_order(buyer, KEY, seen, where, where, delivery_method_id=express.id, delivery_seen=shown)
    with pytest.raises(OrderError, match="Choose a delivery address"):
        place_order(buyer, KEY, seen, where, None)
    assert Order.select().count() == 0


def test_funds_left_at_their_default_follow_the_delivery_chosen(ready, customer, methods):
    standard, express, pickup = methods
    fund(customer, 10_000)
    html = unescape(ready.get("/checkout").get_data(as_text=True))
    assert 'value="29.90"' in html  # as much as possible: goods 25.00 + Standard 4.90
    data = form_of(html)
    data["funds"] = "29.90"
    data["funds_default"] = re.search(r'name="funds_default" value="([^"]*)"', html).group(1)
    cheaper = ready.post("/checkout", data={**data, "delivery": str(pickup.id), "recalculate": "1"})
    text = unescape(cheaper.get_data(as_text=True))
    assert cheaper.status_code == 200 and 'value="25.00"' in text and "<dt>Total</dt><dd>€25.00</dd>" in text
    dearer = ready.post("/checkout", data={**data, "delivery": str(express.id), "recalculate": "1"})
    text = unescape(dearer.get_data(as_text=True))
    assert dearer.status_code == 200 and 'value="34.90"' in text
    # An amount the customer typed stays theirs.
    typed = ready.post(
        "/checkout", data={**data, "funds": "10.00", "delivery": str(express.id), "recalculate": "1"}
    )
    assert 'value="10.00"' in unescape(typed.get_data(as_text=True))
