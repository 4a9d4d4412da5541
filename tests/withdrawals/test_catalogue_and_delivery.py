"""What the withdrawal function needs from the catalogue and delivery: a product's exclusion,
shown on its page and saved from the owner's form, and a method's longest delivery time, checked
and copied onto the orders placed with it."""

import pytest

from models.orders.order import Order
from models.orders.placing import place_order
from models.storefront.delivery import create_method
from models.storefront.delivery import DeliveryInvalid
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import address
from tests.factories import fund
from tests.factories import shop


def test_the_product_page_says_when_a_product_is_excluded(client, make_product):
    cake = make_product()
    assert "right of withdrawal" not in client.get(f"/p/{cake.slug}").get_data(as_text=True)
    cake.withdrawal_exclusion = "perishable"
    cake.save()
    page = client.get(f"/p/{cake.slug}").get_data(as_text=True)
    assert "Perishable: not covered by the right of withdrawal." in page


def test_the_owner_marks_a_product_excluded_on_its_form(client, owner, make_product):
    cake = make_product(price=1200)
    sign_in(client, owner)
    path = f"/admin/catalog/products/{cake.id}"
    fields = {
        "name": cake.name,
        "slug": cake.slug,
        "category_id": str(cake.category_id),
        "price": "12.00",
        "stock": "10",
        "active": "y",
        "withdrawal_exclusion": "made_to_order",
    }
    response = post_form(client, path, fields)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert type(cake).get_by_id(cake.id).withdrawal_exclusion == "made_to_order"
    fields["withdrawal_exclusion"] = "sealed"  # not one of the listed answers
    assert post_form(client, path, fields).status_code == 422


def test_a_methods_longest_delivery_time_is_checked_and_copied_at_placing(
    ctx, owner, make_customer, make_product
):
    fields = {"name": "Standard", "price": 490, "estimate": "3–5 days", "everywhere": True}
    with pytest.raises(DeliveryInvalid) as refused:
        create_method({**fields, "max_days": 0}, owner)
    assert "max_days" in refused.value.errors
    method = create_method({**fields, "max_days": 5}, owner)
    buyer = make_customer()
    fund(buyer, 5000)
    seen = shop(buyer, (make_product(price=1000), 1))
    where = address(buyer)
    order = place_order(
        buyer,
        "order-key-0000000001",
        seen,
        where,
        where,
        delivery_method_id=method.id,
        delivery_seen=offers_fingerprint(offers_for("GB", 1000)),
    )
    assert Order.get_by_id(order.id).delivery_max_days == 5
