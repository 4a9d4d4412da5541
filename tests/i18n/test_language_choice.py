"""Which language a page is in, the selector, and the locale amounts follow (issue 23)."""

import datetime
import re

from models.shop.language import active_locale
from models.shop.language import format_money
from models.shop.language import in_language
from models.shop.language import locale_for
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.users.user import User
from tests import factories
from tests.conftest import csrf_token
from tests.conftest import sign_in
from views.formatting import house_day


def page_language(response):
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


def choose(client, language, next_path, referrer=None):
    return client.post(
        "/language",
        data={"language": language, "next": next_path, "csrf_token": csrf_token(client, "/")},
        headers={"Referer": referrer} if referrer else {},
    )


def test_a_visitor_gets_the_language_their_browser_asks_for_else_the_shops(client):
    assert page_language(client.get("/")) == "en"
    assert page_language(client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})) == "fr"
    assert page_language(client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})) == "en"


def test_the_shops_language_is_the_default_for_browsers_asking_for_neither(app, client):
    with app.app_context():
        update_settings({"locale": "fr_FR", "country": "FR"})
    assert page_language(client.get("/", headers={"Accept-Language": "de"})) == "fr"
    assert page_language(client.get("/", headers={"Accept-Language": "en"})) == "en"


def test_choosing_a_language_comes_back_to_the_same_page_with_the_cart(app, client):
    with app.test_request_context():
        product = factories.make_product(name="Blue mug")
    token = csrf_token(client, f"/p/{product.slug}")
    client.post(f"/p/{product.slug}/add", data={"quantity": "2", "csrf_token": token})
    response = choose(client, "fr", "/cart", referrer="http://localhost/cart?from=menu")
    assert response.status_code == 303
    assert response.headers["Location"] == "/cart?from=menu"  # the query string from the same page
    cart = client.get("/cart", headers={"Accept-Language": "en"})
    assert page_language(cart) == "fr"  # the choice beats the browser's guess
    assert "Blue mug" in cart.get_data(as_text=True)


def test_the_choice_never_leads_off_the_site_and_refuses_unknown_languages(client):
    assert choose(client, "fr", "https://evil.example/").headers["Location"] == "/"
    elsewhere = choose(client, "fr", "/cart", referrer="https://evil.example/cart?x=1")
    assert elsewhere.headers["Location"] == "/cart"
    assert choose(client, "de", "/").status_code == 400


def test_a_signed_in_customers_choice_is_kept_on_the_account(app, client, customer):
    sign_in(client, customer)
    choose(client, "fr", "/account/")
    assert User.get_by_id(customer.id).language == "fr"
    other_browser = app.test_client()
    sign_in(other_browser, customer)
    response = other_browser.get("/account/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert page_language(response) == "fr"


def test_a_registration_draft_survives_a_change_of_language(client):
    client.post("/register/", data={"csrf_token": csrf_token(client, "/account/")})
    with client.session_transaction() as session:
        draft = session.get("registration_draft")
    assert draft
    choose(client, "fr", "/register/1")
    with client.session_transaction() as session:
        assert session.get("registration_draft") == draft


def test_amounts_and_dates_follow_the_language_in_the_shops_region(app):
    with app.app_context():
        update_settings({"locale": "fr_FR", "country": "FR", "currency": "EUR"})
        settings = load_settings()
        assert locale_for("en", settings) == "en_FR"
        assert locale_for("fr", settings) == "fr_FR"
        with in_language("fr"):
            assert format_money(123456) == "1\u202f234,56\u00a0€"
            assert house_day(datetime.date(2026, 12, 7), active_locale()) == "7 déc. 2026"
        with in_language("en"):
            assert house_day(datetime.date(2026, 12, 7), active_locale()) == "7 Dec 2026"


def test_pages_read_the_french_catalogue_shipped_in_translations(client):
    french = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'aria-label="Langue"' in french
    assert 'aria-label="Language"' in client.get("/").get_data(as_text=True)


def test_from_a_page_that_answered_a_post_the_choice_goes_back_to_the_form_page(client):
    response = client.post(
        "/language",
        data={"language": "fr", "csrf_token": csrf_token(client, "/")},
        headers={"Referer": "http://localhost/p/some-product?from=home"},
    )
    assert response.headers["Location"] == "/p/some-product?from=home"
    no_referrer = client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    assert no_referrer.headers["Location"] == "/"
