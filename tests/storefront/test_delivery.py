"""Delivery methods: the rules (offered for a country and a goods value, free from, pickup,
hidden), the owner's page (owner changes, staff look, 422 keeps what was typed, audit) and the
cart's estimate with its country."""

import re
from html import unescape

import pytest

from models.shop.audit import AuditEntry
from models.storefront.cart import add_to_cart
from models.storefront.delivery import checked_offer
from models.storefront.delivery import create_method
from models.storefront.delivery import delivery_in_use
from models.storefront.delivery import DeliveryInvalid
from models.storefront.delivery import DeliveryMethod
from models.storefront.delivery import DeliveryUnavailable
from models.storefront.delivery import estimate_for
from models.storefront.delivery import move_method
from models.storefront.delivery import offers_for
from models.storefront.delivery import set_method_active
from models.storefront.delivery import update_method
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in


def method(actor=None, **fields):
    values = {"name": "Standard", "price": 490, "free_above": None, "countries": [], "estimate": ""}
    values.update(fields)
    return create_method(values, actor)


@pytest.fixture
def methods(app):
    """Standard 4.90 (free from 60.00) to GB and FR, Express 9.90 everywhere, a pickup, and a
    hidden Europe 12.50."""
    standard = method(
        name="Standard", price=490, free_above=6000, countries=["GB", "FR"], estimate="2–4 working days"
    )
    express = method(name="Express", price=990, estimate="Next working day")
    pickup = method(name="Pickup at the shop", price=0, pickup=True, details="1 High St, Mon–Sat 10–18")
    europe = method(name="Europe", price=1250, countries=["DE", "BE"])
    set_method_active(europe, False, None)
    return standard, express, pickup, europe


def names(offers):
    return [(offer.name, offer.price) for offer in offers]


# The rules ----------------------------------------------------------------------------------


def test_free_at_or_above_the_threshold_and_not_a_cent_below(methods):
    assert names(offers_for("FR", 5999))[0] == ("Standard", 490)
    assert names(offers_for("FR", 6000))[0] == ("Standard", 0)
    assert names(offers_for("FR", 6001))[0] == ("Standard", 0)


def test_countries_decide_what_is_offered_and_pickup_is_always_there(methods):
    assert names(offers_for("GB", 1000)) == [("Standard", 490), ("Express", 990), ("Pickup at the shop", 0)]
    assert names(offers_for("JP", 1000)) == [("Express", 990), ("Pickup at the shop", 0)]
    # No delivery address: only a pickup can be used.
    assert names(offers_for("", 1000)) == [("Pickup at the shop", 0)]


def test_hidden_methods_are_never_offered(methods):
    standard, express, pickup, europe = methods
    assert "Europe" not in [offer.name for offer in offers_for("DE", 1000)]
    set_method_active(europe, True, None)
    assert "Europe" in [offer.name for offer in offers_for("DE", 1000)]
    for row in methods:
        set_method_active(row, False, None)
    assert offers_for("GB", 1000) == [] and not delivery_in_use()


def test_a_shop_without_methods_has_no_delivery_step(app):
    assert not delivery_in_use()
    assert estimate_for("GB", 1000) is None


def test_the_cart_estimate_is_the_cheapest_delivered_method(methods):
    estimate = estimate_for("FR", 2000)
    assert estimate.cheapest.name == "Standard" and estimate.cheapest.price == 490
    assert estimate.free_from == 6000 and estimate.pickup.name == "Pickup at the shop"
    assert estimate_for("FR", 6000).cheapest.price == 0 and estimate_for("FR", 6000).free_from is None
    japan = estimate_for("JP", 2000)
    assert japan.cheapest.name == "Express" and japan.free_from is None
    standard, express, pickup, europe = methods
    set_method_active(express, False, None)
    nowhere = estimate_for("JP", 2000)
    assert nowhere.cheapest is None and nowhere.pickup is not None and nowhere.serves


def test_a_choice_is_checked_against_what_the_page_showed(methods):
    standard, express, pickup, europe = methods
    assert checked_offer(standard.id, "FR", 1000, {standard.id: 490}).price == 490
    with pytest.raises(DeliveryUnavailable, match="changed from €4.90 to €0.00"):
        checked_offer(standard.id, "FR", 7000, {standard.id: 490})
    with pytest.raises(DeliveryUnavailable, match="doesn't deliver to Japan"):
        checked_offer(standard.id, "JP", 1000, {standard.id: 490})
    with pytest.raises(DeliveryUnavailable, match="no longer offered"):
        checked_offer(europe.id, "DE", 1000, {europe.id: 1250})
    assert checked_offer(pickup.id, "", 1000, {pickup.id: 0}).pickup


def test_the_owner_rules_refuse_what_makes_no_sense(app):
    with pytest.raises(DeliveryInvalid) as refused:
        create_method(
            {"name": "", "price": None, "free_above": 0, "everywhere": False, "countries": []}, None
        )
    assert set(refused.value.errors) == {"name", "price", "free_above", "countries"}
    with pytest.raises(DeliveryInvalid) as refused:
        create_method({"name": "Collect", "price": 0, "pickup": True, "details": ""}, None)
    assert "where and when" in refused.value.errors["details"]
    with pytest.raises(DeliveryInvalid) as refused:
        create_method({"name": "Moon", "price": 100, "everywhere": False, "countries": ["XX"]}, None)
    assert refused.value.errors == {"countries": "Choose countries from the list."}
    assert DeliveryMethod.select().count() == 0


def test_every_change_is_audited_and_order_moves(methods, owner):
    standard, express, pickup, europe = methods
    update_method(
        standard,
        {"name": "Standard", "price": 550, "free_above": 6000, "countries": ["FR"], "everywhere": False},
        owner,
    )
    entry = AuditEntry.select().where(AuditEntry.action == "delivery_method_changed").get()
    assert entry.before_data["price"] == 490 and entry.after_data["price"] == 550
    assert entry.after_data["countries"] == "FR"
    move_method(pickup, -1, owner)
    assert [m.name for m in DeliveryMethod.select().order_by(DeliveryMethod.position)][:3] == [
        "Standard",
        "Pickup at the shop",
        "Express",
    ]
    actions = {e.action for e in AuditEntry.select()}
    assert {"delivery_method_created", "delivery_method_hidden", "delivery_method_moved"} <= actions


# The owner's page --------------------------------------------------------------------------

NEW = {
    "name": "Express",
    "price": "9.90",
    "free_above": "",
    "estimate": "Next working day",
    "everywhere": "listed",
    "countries": ["FR", "BE"],
    "active": "y",
}


def test_the_owner_adds_a_method_and_the_list_shows_countries_by_name(owner_client, owner):
    response = post_form(owner_client, "/admin/delivery/new", dict(NEW))
    assert response.status_code == 303
    saved = DeliveryMethod.get()
    assert (saved.name, saved.price, saved.countries, saved.active) == ("Express", 990, "BE FR", True)
    page = unescape(owner_client.get("/admin/delivery/").get_data(as_text=True))
    assert "Belgium, France" in page and "€9.90" in page and "Next working day" in page
    entry = AuditEntry.get(AuditEntry.action == "delivery_method_created")
    assert entry.actor_id == owner.id


def test_a_form_that_needs_corrections_answers_422_and_keeps_what_was_typed(owner_client):
    typed = {**NEW, "price": "9,999", "name": "Express à vélo", "countries": [], "estimate": "Tomorrow"}
    response = post_form(owner_client, "/admin/delivery/new", typed)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "There is a problem" in html
    assert 'value="9,999"' in html and 'value="Express à vélo"' in html and 'value="Tomorrow"' in html
    assert "Choose at least one country" in html
    assert re.search(r'value="listed"[^>]*checked|checked[^>]*value="listed"', html)
    assert DeliveryMethod.select().count() == 0 and AuditEntry.select().count() == 0


def test_the_owner_edits_hides_and_moves(owner_client, methods):
    standard, express, pickup, europe = methods
    page = owner_client.get(f"/admin/delivery/{standard.id}").get_data(as_text=True)
    assert 'value="4.90"' in page and 'value="60.00"' in page
    assert re.search(r'<option selected value="FR">|<option value="FR" selected>', page)
    edited = {
        "name": "Standard",
        "price": "5.20",
        "free_above": "60",
        "estimate": "2–4 working days",
        "everywhere": "all",
        "active": "y",
    }
    assert post_form(owner_client, f"/admin/delivery/{standard.id}", edited).status_code == 303
    assert DeliveryMethod.get_by_id(standard.id).price == 520
    assert DeliveryMethod.get_by_id(standard.id).countries == ""
    hide = post_form(owner_client, f"/admin/delivery/{express.id}/hide", page="/admin/delivery/")
    assert hide.status_code == 303 and not DeliveryMethod.get_by_id(express.id).active
    post_form(owner_client, f"/admin/delivery/{pickup.id}/up", page="/admin/delivery/")
    assert AuditEntry.select().where(AuditEntry.action.startswith("delivery_method_")).count() >= 7


def test_staff_may_look_but_not_change(app, staff, methods):
    client = app.test_client()
    sign_in(client, staff)
    page = client.get("/admin/delivery/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Standard" in html and "Only the owner changes them" in html
    assert "New delivery method" not in html and "/hide" not in html
    token = csrf_token(client, "/admin/delivery/")
    standard = methods[0]
    assert client.post(f"/admin/delivery/{standard.id}/hide", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/delivery/new", data={**NEW, "csrf_token": token}).status_code == 403
    assert client.get(f"/admin/delivery/{standard.id}").status_code == 403
    assert DeliveryMethod.get_by_id(standard.id).active and DeliveryMethod.select().count() == 4


# The cart's estimate -----------------------------------------------------------------------


@pytest.fixture
def cart(client, make_product):
    product = make_product(price=2500)
    token = csrf_token(client, f"/p/{product.slug}")
    client.post(f"/p/{product.slug}/add", data={"quantity": "1", "csrf_token": token})
    return client


def test_the_cart_estimates_delivery_to_the_shops_country(cart, methods):
    html = unescape(cart.get("/cart").get_data(as_text=True))
    assert "Delivery to United Kingdom" in html and "from €4.90" in html
    assert "Free delivery from €60.00." in html and "Estimated total" in html and "€29.90" in html
    assert "Europe" not in html


def test_the_visitor_changes_the_country_without_javascript_and_with_htmx(cart, methods):
    token = csrf_token(cart, "/cart")
    response = cart.post("/cart/country", data={"country": "JP", "csrf_token": token})
    assert response.status_code == 303
    html = unescape(cart.get("/cart").get_data(as_text=True))
    assert "Delivery to Japan" in html and "from €9.90" in html and "Free delivery" not in html
    fragment = cart.post(
        "/cart/country", data={"country": "FR", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    text = unescape(fragment.get_data(as_text=True))
    assert fragment.status_code == 200 and "<html" not in text and "Delivery to France" in text
    assert cart.post("/cart/country", data={"country": "XX", "csrf_token": token}).status_code == 422


def test_the_cart_says_clearly_when_nothing_delivers_there(cart, methods):
    standard, express, pickup, europe = methods
    set_method_active(express, False, None)
    token = csrf_token(cart, "/cart")
    cart.post("/cart/country", data={"country": "JP", "csrf_token": token})
    html = unescape(cart.get("/cart").get_data(as_text=True))
    assert "We don't deliver to Japan yet. You can collect your order at the shop instead." in html
    assert "Express" not in html and "Estimated total" not in html


def test_a_customer_sees_delivery_to_their_default_address(app, client, customer, methods, make_product):
    from models.accounts.addresses import add_address

    add_address(
        customer,
        {"full_name": "Ann", "line1": "1 Rue", "city": "Lyon", "postal_code": "69001", "country": "FR"},
        make_default_shipping=True,
    )
    add_to_cart(make_product(price=2500).id, 1, user=customer)
    sign_in(client, customer)
    html = unescape(client.get("/cart").get_data(as_text=True))
    assert "Delivery to France" in html


def test_a_shop_without_delivery_methods_shows_the_cart_as_before(cart):
    html = cart.get("/cart").get_data(as_text=True)
    assert "Delivery to" not in html and "Deliver to" not in html
