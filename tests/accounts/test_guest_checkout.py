"""A visitor at checkout: the choice page (sign in, or create an account) with the cart in view,
and the way back to checkout with the cart after registering, by code or by the emailed link in
another browser; where a sign-in started from there lands; and `next` values that are not ours."""

import datetime
import re
from html import unescape

import pytest

from models.accounts.registration import purge_expired_drafts
from models.accounts.registration import RegistrationDraft
from models.accounts.registration import RegistrationReturn
from models.base import utcnow
from models.storefront.cart import add_to_cart
from models.storefront.cart import Cart
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.users.user import User
from tests.accounts.test_register import code_in
from tests.accounts.test_register import DETAILS
from tests.accounts.test_register import last_mail
from tests.accounts.test_register import link_in
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import run_mail_requests
from tests.conftest import TEST_PASSWORD

CHOICE = "/checkout/sign-in?next=%2Fcheckout"
PASSWORD = "a good long password"


@pytest.fixture
def teas(make_product):
    return make_product(price=450, stock=20, name="Paper filters"), make_product(price=1200, name="Green tea")


def fill_cart(client, teas):
    filters, green = teas
    post_form(client, f"/p/{filters.slug}/add", {"quantity": "2"}, page=f"/p/{filters.slug}")
    post_form(client, f"/p/{green.slug}/add", {"quantity": "1"}, page=f"/p/{green.slug}")


def visitor_key(client):
    with client.session_transaction() as session:
        return session.get("cart")


def account_cart(email):
    return {item.product.name: item.quantity for item in cart_summary(find_cart(User.by_email(email))).items}


def register_from_checkout(client, email="ana@example.com", next_url="/checkout"):
    """Create an account from the choice page, through the four steps, to "check your inbox"."""
    response = client.post(
        "/register/", data={"next": next_url, "csrf_token": csrf_token(client, "/account/")}
    )
    assert response.status_code == 303 and response.location == "/register/email"
    assert post_form(client, "/register/email", {"email": email, "password": PASSWORD}).status_code == 303
    assert post_form(client, "/register/details", DETAILS).status_code == 303
    response = post_form(client, "/register/review")
    assert response.status_code == 303 and response.location == "/check-inbox"
    return client.get("/check-inbox").get_data(as_text=True)


# The choice page ---------------------------------------------------------------------------


def test_a_visitor_at_checkout_gets_the_choice_with_their_cart(client, teas):
    fill_cart(client, teas)
    response = client.get("/checkout")
    assert response.status_code == 302 and response.location == CHOICE
    response = client.get("/checkout", follow_redirects=True)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "How would you like to continue?" in html
    assert "Please sign in to see that page" not in html
    assert "2 × Paper filters" in html and "€9.00" in html
    assert "1 × Green tea" in html and "€12.00" in html
    assert "Subtotal" in html and "€21.00" in html
    # A prominent "Create an account" button, one line on why, and a sign-in form, both coming back.
    assert re.search(r'<form action="/register/" method="post">.*?name="next" value="/checkout"', html, re.S)
    assert ">Create an account</button>" in html
    assert "account funds" in html and "order history" in html and "on credit" in html
    assert re.search(r'<form action="/sign-in" method="post".*?name="next" value="/checkout"', html, re.S)
    assert 'href="/sign-in/code?next=/checkout"' in html


def test_a_form_sent_to_checkout_by_a_visitor_goes_to_the_choice(client, teas):
    fill_cart(client, teas)
    response = client.post("/checkout", data={"csrf_token": csrf_token(client, "/cart")})
    assert response.status_code == 303 and response.location == CHOICE


def test_a_visitor_with_an_empty_cart_goes_to_the_cart(client):
    response = client.get("/checkout", follow_redirects=True)
    assert response.request.path == "/cart"
    assert "Your cart is empty." in response.get_data(as_text=True)


def test_other_pages_still_ask_visitors_to_sign_in_and_come_back(client):
    response = client.get("/account/funds")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=%2Faccount%2Ffunds")
    assert "Please sign in to see that page." in client.get(response.location).get_data(as_text=True)


def test_a_signed_in_customer_goes_on_to_checkout(customer_client):
    response = customer_client.get(CHOICE)
    assert response.status_code == 302 and response.location == "/checkout"


@pytest.mark.parametrize(
    "bad", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"]
)
def test_the_choice_page_only_goes_back_to_our_own_pages(client, teas, bad):
    fill_cart(client, teas)
    html = client.get("/checkout/sign-in", query_string={"next": bad}).get_data(as_text=True)
    assert 'name="next" value="/checkout"' in html
    assert "evil" not in html


def test_signing_in_from_the_choice_carries_the_cart_to_checkout(client, customer, teas):
    fill_cart(client, teas)
    client.get(CHOICE)
    response = client.post(
        "/sign-in",
        data={
            "email": customer.email,
            "password": TEST_PASSWORD,
            "next": "/checkout",
            "csrf_token": csrf_token(client, CHOICE),
        },
    )
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart(customer.email) == {"Paper filters": 2, "Green tea": 1}


def test_signing_in_by_code_from_the_choice_comes_back_to_checkout(app, client, customer, teas):
    fill_cart(client, teas)
    html = client.get(CHOICE).get_data(as_text=True)
    assert 'href="/sign-in/code?next=/checkout"' in html
    form = client.get("/sign-in/code?next=/checkout").get_data(as_text=True)
    assert 'name="next" value="/checkout"' in form
    response = post_form(client, "/sign-in/code", {"email": customer.email, "next": "/checkout"})
    assert response.location == "/check-inbox"
    run_mail_requests(app)
    response = post_form(client, "/check-inbox", {"code": code_in(last_mail(customer.email))})
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart(customer.email) == {"Paper filters": 2, "Green tea": 1}


# Registering from the choice page ----------------------------------------------------------


def test_registering_by_code_comes_back_to_checkout_with_the_cart(client, teas):
    fill_cart(client, teas)
    page = register_from_checkout(client)
    assert "we take you back to checkout, where your cart is waiting" in page
    # Until the email is confirmed the cart stays the visitor's, as for an address with an account.
    assert visitor_key(client) and Cart.get(Cart.visitor_key == visitor_key(client))
    response = post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}
    landing = unescape(client.get("/checkout").get_data(as_text=True))
    assert "Welcome, Ana! Your account is ready and your cart is waiting." in landing
    assert RegistrationReturn.select().count() == 0  # used up


def test_registering_by_link_in_another_browser_carries_the_cart(app, client, teas):
    fill_cart(client, teas)
    first_browser_cart = visitor_key(client)
    register_from_checkout(client)
    path = link_in(last_mail("ana@example.com"), "/register/confirm/")
    phone = app.test_client()  # no session, no cart: only the link
    response = post_form(phone, path)
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}
    assert Cart.get_or_none(Cart.visitor_key == first_browser_cart) is None
    landing = unescape(phone.get("/checkout").get_data(as_text=True))
    assert "Your account is ready and your cart is waiting." in landing
    assert "Paper filters" in landing
    # The first browser's code now finds the ticket used.
    stale = post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert stale.status_code == 422


def test_the_link_opened_in_the_same_browser_comes_back_to_checkout_too(client, teas):
    fill_cart(client, teas)
    register_from_checkout(client)
    response = post_form(client, link_in(last_mail("ana@example.com"), "/register/confirm/"), page="/")
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}


def test_the_cart_as_it_is_at_the_last_step_is_the_one_carried(app, client, teas):
    register_from_checkout_start = client.get(CHOICE)  # no cart yet: the choice page sends to the cart
    assert register_from_checkout_start.status_code == 302
    fill_cart(client, teas)
    register_from_checkout(client)
    response = post_form(
        app.test_client(), link_in(last_mail("ana@example.com"), "/register/confirm/"), page="/"
    )
    assert response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}


def test_registering_from_my_account_lands_there_as_before_but_keeps_the_cart(app, client, teas):
    fill_cart(client, teas)
    response = post_form(client, "/register/", page="/account/")
    assert response.location == "/register/email"
    post_form(client, "/register/email", {"email": "ana@example.com", "password": PASSWORD})
    post_form(client, "/register/details", DETAILS)
    post_form(client, "/register/review")
    assert "back to checkout" not in client.get("/check-inbox").get_data(as_text=True)
    response = post_form(
        app.test_client(), link_in(last_mail("ana@example.com"), "/register/confirm/"), page="/"
    )
    assert response.status_code == 303 and response.location == "/account/"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}


@pytest.mark.parametrize(
    "bad",
    [
        "//evil.example/checkout",
        "https://evil.example/checkout",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/checkout\r\nLocation: https://evil.example",
        "checkout",
    ],
)
def test_a_return_url_that_is_not_ours_is_refused(client, teas, bad):
    fill_cart(client, teas)
    response = client.post("/register/", data={"next": bad, "csrf_token": csrf_token(client, "/account/")})
    assert response.status_code == 303
    assert RegistrationDraft.get().return_to is None
    post_form(client, "/register/email", {"email": "ana@example.com", "password": PASSWORD})
    post_form(client, "/register/details", DETAILS)
    post_form(client, "/register/review")
    response = post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert response.status_code == 303 and response.location == "/account/"


def test_a_way_back_stored_badly_is_still_not_followed(client, teas):
    """Belt and braces: even a row that somehow holds another site is checked again on use."""
    fill_cart(client, teas)
    register_from_checkout(client)
    RegistrationReturn.update(return_to="//evil.example/").execute()
    response = post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert response.location == "/account/"


def test_an_address_with_an_account_answers_the_same_and_keeps_the_cart_with_the_visitor(
    app, make_customer, teas
):
    owner = make_customer(email="taken@example.com", first_name="Tess")
    new_browser, taken_browser = app.test_client(), app.test_client()
    fill_cart(new_browser, teas)
    fill_cart(taken_browser, teas)
    new_page = register_from_checkout(new_browser, email="fresh@example.com")
    taken_page = register_from_checkout(taken_browser, email="taken@example.com")

    def normalised(html, email):
        return re.sub(r'(value="|"X-CSRFToken": ")[^"]+"', "TOKEN", html.replace(email, "EMAIL"))

    assert normalised(new_page, "fresh@example.com") == normalised(taken_page, "taken@example.com")
    assert "back to checkout" in new_page
    # Nothing moved into the existing account: the cart is still the visitor's, as for a new address.
    assert account_cart("taken@example.com") == {}
    assert Cart.get_or_none(Cart.visitor_key == visitor_key(taken_browser)) is not None
    assert Cart.get_or_none(Cart.visitor_key == visitor_key(new_browser)) is not None
    # No code works for it; the mail's sign-in link goes back to checkout, and signing in
    # in that browser brings the cart along.
    message = last_mail("taken@example.com")
    assert "You already have an account" in message.subject
    assert "http://shop.test/sign-in?next=/checkout\n" in message.text_body
    response = taken_browser.post(
        "/sign-in",
        data={
            "email": owner.email,
            "password": TEST_PASSWORD,
            "next": "/checkout",
            "csrf_token": csrf_token(taken_browser, "/sign-in?next=%2Fcheckout"),
        },
    )
    assert response.location == "/checkout"
    assert account_cart("taken@example.com") == {"Paper filters": 2, "Green tea": 1}


def test_a_ticket_for_someone_else_never_carries_a_cart(app, make_customer, teas):
    """take_return only answers for the account whose ticket was just proved."""
    from models.accounts.registration import take_return

    client = app.test_client()
    fill_cart(client, teas)
    register_from_checkout(client)
    ticket = RegistrationReturn.get().token_id
    stranger = make_customer()
    assert take_return(ticket, stranger) == (None, [])
    assert account_cart(stranger.email) == {}
    assert RegistrationReturn.select().count() == 1


def test_unused_ways_back_are_purged_with_the_link(client, teas):
    fill_cart(client, teas)
    register_from_checkout(client)
    purge_expired_drafts(utcnow() + datetime.timedelta(hours=47))
    assert RegistrationReturn.select().count() == 1
    purge_expired_drafts(utcnow() + datetime.timedelta(hours=49))
    assert RegistrationReturn.select().count() == 0


def test_an_unconfirmed_customer_signing_in_from_the_choice_comes_back_to_checkout(app, client, teas):
    fill_cart(client, teas)
    register_from_checkout(app.test_client(), email="ana@example.com")  # registered elsewhere, not confirmed
    response = client.post(
        "/sign-in",
        data={
            "email": "ana@example.com",
            "password": PASSWORD,
            "next": "/checkout",
            "csrf_token": csrf_token(client, CHOICE),
        },
    )
    assert response.location == "/check-inbox"
    response = post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert response.status_code == 303 and response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 2, "Green tea": 1}


def test_a_cart_too_big_for_the_stock_says_so_after_confirming(app, client, teas):
    filters, _ = teas
    fill_cart(client, teas)
    register_from_checkout(client)
    user = User.by_email("ana@example.com")
    add_to_cart(filters.id, 19, user=user)  # from elsewhere: 19 + 2 > 20 in stock
    phone = app.test_client()
    response = post_form(phone, link_in(last_mail("ana@example.com"), "/register/confirm/"), page="/")
    assert response.location == "/checkout"
    assert account_cart("ana@example.com") == {"Paper filters": 20, "Green tea": 1}
    assert "Only 20 of Paper filters in stock: your cart now has 20." in unescape(
        phone.get("/checkout").get_data(as_text=True)
    )
