"""The cart: visitors and customers, quantities (good and bad), stock caps, htmx and plain forms,
the visitor's cart carried into the account at sign-in, privacy, and the purge of old visitor carts."""

import datetime
import re
from html import unescape

import pytest

from jobs.tick import tick
from models.base import utcnow
from models.operations.demo import load_demo_catalogue
from models.storefront.cart import add_to_cart
from models.storefront.cart import carry_into_account
from models.storefront.cart import Cart
from models.storefront.cart import cart_summary
from models.storefront.cart import CartError
from models.storefront.cart import CartLine
from models.storefront.cart import find_cart
from models.storefront.cart import MAX_QUANTITY
from models.storefront.cart import purge_visitor_carts
from models.storefront.cart import set_quantity
from models.storefront.catalog import Product
from tests.conftest import post_form
from tests.conftest import sign_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
def catalogue(app):
    load_demo_catalogue()
    return {p.slug: p for p in Product.select()}


def add(client, slug, quantity="1", **kwargs):
    return post_form(client, f"/p/{slug}/add", {"quantity": quantity}, page=f"/p/{slug}", **kwargs)


def change(client, product, quantity, **kwargs):
    return post_form(client, f"/cart/lines/{product.id}", {"quantity": quantity}, page="/cart", **kwargs)


def lines_of(client):
    """{product name: quantity} as the cart page shows them."""
    html = client.get("/cart").get_data(as_text=True)
    names = re.findall(r'<h2 class="cart-line__name">(?:<a [^>]*>)?([^<]+)<', html)
    quantities = re.findall(r'class="qty__input" id="quantity-\d+"[^>]*\n?\s*value="(\d+)"', html)
    return dict(zip((unescape(n) for n in names), (int(q) for q in quantities), strict=True))


def header_count(html):
    match = re.search(r'<a id="cart-link"[^>]*>Cart(?: <span class="cart-count">(\d+))?', html)
    assert match, "no Cart link in the header"
    return int(match.group(1) or 0)


# Visitors -----------------------------------------------------------------------


def test_a_visitor_adds_to_the_cart_and_the_header_counts(client, catalogue):
    assert header_count(client.get("/").get_data(as_text=True)) == 0
    response = add(client, "sencha-100g", "2")
    assert response.status_code == 303 and response.headers["Location"] == "/p/sencha-100g"
    page = client.get("/p/sencha-100g").get_data(as_text=True)
    assert "Added 2 × Sencha, 100 g to your cart." in page
    assert header_count(page) == 2
    assert lines_of(client) == {"Sencha, 100 g": 2}
    cart = client.get("/cart").get_data(as_text=True)
    assert "€17.80" in cart and "Checkout" in cart


def test_the_cookie_holds_a_random_key_and_nothing_personal(client, catalogue):
    with client.session_transaction() as session:
        assert "cart" not in session  # browsing alone makes no cart
    add(client, "sencha-100g")
    with client.session_transaction() as session:
        key = session["cart"]
        assert session.permanent  # a visitor's cart outlives closing the browser
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)
    cart = Cart.get(Cart.visitor_key == key)
    assert cart.user_id is None


def test_adding_again_adds_up(client, catalogue):
    add(client, "sencha-100g", "2")
    add(client, "sencha-100g", "3")
    assert lines_of(client) == {"Sencha, 100 g": 5}


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter a quantity, like 2."),
        ("0", "The quantity must be at least 1."),
        ("-1", "The quantity can't be negative."),
        ("1e3", "Enter the quantity as a whole number using digits, like 2."),
        ("abc", "Enter the quantity as a whole number using digits, like 2."),
        ("2.5", "Enter the quantity as a whole number using digits, like 2."),
        ("٣", "Enter the quantity as a whole number using digits, like 2."),
        ("1000", f"The quantity can be at most {MAX_QUANTITY}."),
    ],
)
def test_bad_quantities_to_add_are_refused_and_shown_as_typed(client, catalogue, typed, message):
    response = add(client, "sencha-100g", typed)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html and "There is a problem" in html
    assert f'value="{typed}"' in html
    assert CartLine.select().count() == 0


def test_asking_for_more_than_the_stock_gives_what_there_is_and_says_so(client, catalogue):
    response = add(client, "ethiopia-guji-250g", "5")  # 3 in stock
    assert response.status_code == 303
    page = unescape(client.get("/p/ethiopia-guji-250g").get_data(as_text=True))
    assert "Only 3 of Ethiopia Guji, 250 g in stock: your cart now has 3." in page
    assert lines_of(client) == {"Ethiopia Guji, 250 g": 3}
    response = add(client, "ethiopia-guji-250g", "1")
    assert response.status_code == 422
    assert "already has 3 of Ethiopia Guji, 250 g, all we have in stock" in unescape(
        response.get_data(as_text=True)
    )


def test_out_of_stock_and_hidden_products_cannot_be_added(client, catalogue):
    response = add(client, "decaf-colombia-250g", "1")
    assert response.status_code == 422
    assert "is out of stock" in response.get_data(as_text=True)
    Product.update(active=False).where(Product.slug == "sencha-100g").execute()
    assert post_form(client, "/p/sencha-100g/add", {"quantity": "1"}, page="/").status_code == 404
    assert CartLine.select().count() == 0


def test_an_empty_cart_says_so(client, catalogue):
    html = client.get("/cart").get_data(as_text=True)
    assert "Your cart is empty." in html and "Checkout" not in html


# Changing quantities ------------------------------------------------------------


def test_changing_a_quantity_without_javascript(client, catalogue):
    sencha = catalogue["sencha-100g"]
    add(client, "sencha-100g", "2")
    response = change(client, sencha, "4")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    html = client.get("/cart").get_data(as_text=True)
    assert "Your cart now has 4 of Sencha, 100 g." in html and "€35.60" in html
    assert lines_of(client) == {"Sencha, 100 g": 4}


def test_changing_a_quantity_with_htmx_updates_the_line_totals_and_header(client, catalogue):
    sencha, assam = catalogue["sencha-100g"], catalogue["assam-breakfast-100g"]
    add(client, "sencha-100g", "2")
    add(client, "assam-breakfast-100g", "1")
    response = change(client, sencha, "3", headers=HTMX)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="cart"')
    assert f'id="quantity-{sencha.id}"' in html and f'id="quantity-{assam.id}"' in html
    assert "€26.70" in html  # 3 × 8.90
    assert "€33.20" in html  # + 6.50
    assert '<a id="cart-link"' in html and 'hx-swap-oob="true"' in html and header_count(html) == 4
    assert 'id="messages" hx-swap-oob="innerHTML"' in html and "Your cart now has 3 of Sencha" in html
    assert "HX-Request" in response.headers["Vary"]


def test_zero_removes_the_line(client, catalogue):
    sencha = catalogue["sencha-100g"]
    add(client, "sencha-100g", "2")
    response = change(client, sencha, "0", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your cart is empty." in html and "Removed Sencha" in html
    assert header_count(html) == 0
    assert CartLine.select().count() == 0


def test_the_remove_button(client, catalogue):
    sencha = catalogue["sencha-100g"]
    add(client, "sencha-100g", "2")
    add(client, "assam-breakfast-100g", "1")
    response = post_form(client, f"/cart/lines/{sencha.id}/remove", page="/cart")
    assert response.status_code == 303
    assert lines_of(client) == {"Assam breakfast, 100 g": 1}


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter a quantity, like 2."),
        ("-1", "The quantity can't be negative."),
        ("1e3", "whole number using digits"),
        ("abc", "whole number using digits"),
        ("100", f"at most {MAX_QUANTITY}"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_bad_quantities_in_the_cart_are_refused_on_their_line(client, catalogue, typed, message, headers):
    sencha = catalogue["sencha-100g"]
    add(client, "sencha-100g", "2")
    response = change(client, sencha, typed, headers=headers)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html
    assert f'id="quantity-{sencha.id}-error"' in html and 'aria-invalid="true"' in html
    if typed:
        assert f'value="{typed}"' in html
    assert ("<html" in html) == (not headers)
    assert lines_of(client) == {"Sencha, 100 g": 2}


def test_more_than_the_stock_in_the_cart_is_capped_with_a_message(client, catalogue):
    guji = catalogue["ethiopia-guji-250g"]
    add(client, "ethiopia-guji-250g", "1")
    response = change(client, guji, "50", headers=HTMX)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "Only 3 of Ethiopia Guji, 250 g in stock: your cart now has 3." in html
    assert lines_of(client) == {"Ethiopia Guji, 250 g": 3}
    assert re.search(rf'id="more-{guji.id}"[^>]*disabled', html)  # "+" stops at the stock


def test_a_line_for_a_product_no_longer_sold_stays_visible_but_not_counted(client, catalogue):
    add(client, "sencha-100g", "2")
    add(client, "assam-breakfast-100g", "1")
    Product.update(active=False).where(Product.slug == "sencha-100g").execute()
    html = client.get("/cart").get_data(as_text=True)
    assert "No longer available" in html and "Not included" in html
    assert header_count(html) == 1 and "€6.50" in html
    response = change(client, catalogue["sencha-100g"], "3")
    assert response.status_code == 422 and "no longer available" in response.get_data(as_text=True)


def test_a_line_beyond_todays_stock_is_flagged(app, client, catalogue):
    add(client, "sencha-100g", "5")
    Product.update(stock=2).where(Product.slug == "sencha-100g").execute()
    html = client.get("/cart").get_data(as_text=True)
    assert "Only 2 left: please lower the quantity" in html
    assert "Some items need a change before you can check out" in html


def test_changing_a_line_that_is_not_in_the_cart(client, catalogue):
    response = change(client, catalogue["sencha-100g"], "2")
    assert response.status_code == 422
    assert "That item is no longer in your cart." in response.get_data(as_text=True)


# Customers, sign-in and privacy -------------------------------------------------


def test_the_visitors_cart_is_carried_into_the_account_on_sign_in(app, client, customer, catalogue):
    sencha, guji = catalogue["sencha-100g"], catalogue["ethiopia-guji-250g"]
    add_to_cart(sencha.id, 1, user=customer)  # from another device, earlier
    add_to_cart(guji.id, 2, user=customer)
    add(client, "sencha-100g", "2")
    add(client, "ethiopia-guji-250g", "2")  # 2 + 2 > 3 in stock
    add(client, "assam-breakfast-100g", "1")
    with client.session_transaction() as session:
        visitor_key = session["cart"]
    response = sign_in(client, customer)
    assert response.status_code == 303
    with client.session_transaction() as session:
        assert "cart" not in session  # a fresh session; the cart lives with the account now
    page = unescape(client.get("/account/").get_data(as_text=True))  # where sign-in leads
    assert "Only 3 of Ethiopia Guji, 250 g in stock: your cart now has 3." in page
    assert lines_of(client) == {"Sencha, 100 g": 3, "Ethiopia Guji, 250 g": 3, "Assam breakfast, 100 g": 1}
    assert Cart.get_or_none(Cart.visitor_key == visitor_key) is None
    assert Cart.select().count() == 1


def test_the_account_cart_follows_the_customer_and_not_the_browser(app, customer, catalogue):
    first = app.test_client()
    sign_in(first, customer)
    add(first, "sencha-100g", "2")
    post_form(first, "/sign-out", page="/")
    assert lines_of(first) == {}  # signed out: a visitor with an empty cart
    second = app.test_client()
    sign_in(second, customer)
    assert lines_of(second) == {"Sencha, 100 g": 2}


def test_another_customers_cart_is_never_visible_or_changeable(app, make_customer, catalogue):
    sencha = catalogue["sencha-100g"]
    alice, bob = make_customer(), make_customer()
    alice_client, bob_client = app.test_client(), app.test_client()
    sign_in(alice_client, alice)
    sign_in(bob_client, bob)
    add(alice_client, "sencha-100g", "2")
    assert lines_of(bob_client) == {}
    assert header_count(bob_client.get("/").get_data(as_text=True)) == 0
    assert change(bob_client, sencha, "7").status_code == 422
    assert post_form(bob_client, f"/cart/lines/{sencha.id}/remove", page="/cart").status_code == 303
    assert lines_of(alice_client) == {"Sencha, 100 g": 2}


def test_a_visitor_cannot_reach_a_cart_by_guessing(app, client, customer, catalogue):
    add_to_cart(catalogue["sencha-100g"].id, 2, user=customer)
    with client.session_transaction() as session:
        session["cart"] = "made-up-key"
    assert lines_of(client) == {}
    assert change(client, catalogue["sencha-100g"], "5").status_code == 422
    assert cart_summary(find_cart(user=customer)).count == 2


# The rules without HTTP ---------------------------------------------------------


def test_cart_rules(app, customer, catalogue):
    sencha, decaf = catalogue["sencha-100g"], catalogue["decaf-colombia-250g"]
    with pytest.raises(CartError, match="out of stock"):
        add_to_cart(decaf.id, 1, user=customer)
    with pytest.raises(CartError, match="from 1 to"):
        add_to_cart(sencha.id, 0, user=customer)
    Product.update(stock=500).where(Product.id == sencha.id).execute()
    result = add_to_cart(sencha.id, 98, user=customer)
    assert (result.quantity, result.capped) == (98, False)
    result = add_to_cart(sencha.id, 5, user=customer)
    assert (result.quantity, result.capped) == (99, True)
    assert f"at most {MAX_QUANTITY} of one product" in result.message
    assert set_quantity(sencha.id, 99, user=customer).quantity == 99
    with pytest.raises(CartError, match="the most one order can have"):
        add_to_cart(sencha.id, 1, user=customer)
    summary = cart_summary(find_cart(user=customer))
    assert (summary.count, summary.subtotal) == (99, 99 * 890)


def test_carry_into_account_without_a_visitor_cart_is_harmless(app, customer):
    assert carry_into_account(None, customer) == []
    assert carry_into_account("no-such-key", customer) == []
    assert Cart.select().count() == 0


def test_old_visitor_carts_are_purged_and_customer_carts_kept(app, customer, catalogue):
    sencha = catalogue["sencha-100g"]
    add_to_cart(sencha.id, 1, visitor_key="old")
    add_to_cart(sencha.id, 1, visitor_key="recent")
    add_to_cart(sencha.id, 1, user=customer)
    long_ago = utcnow() - datetime.timedelta(days=31)
    Cart.update(updated_at=long_ago).where(Cart.visitor_key.in_(["old"]) | Cart.user.is_null(False)).execute()
    assert purge_visitor_carts(utcnow()) == 1
    assert {c.visitor_key for c in Cart.select()} == {"recent", None}
    assert CartLine.select().count() == 2


def test_the_tick_purges_old_visitor_carts(app, catalogue):

    add_to_cart(catalogue["sencha-100g"].id, 1, visitor_key="old")
    Cart.update(updated_at=utcnow() - datetime.timedelta(days=40)).execute()
    tick(datetime.datetime.now(datetime.UTC))
    assert Cart.select().count() == 0
