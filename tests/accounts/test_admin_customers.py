"""The shop's customer pages: search, customer page, create, edit, pause and resume."""

import json
import re
from urllib.parse import urlsplit

import pytest
from peewee import IntegrityError

from models.accounts.addresses import add_address
from models.accounts.profile import delete_account
from models.accounts.search import customers
from models.base import utcnow
from models.shop.outbox import OutboxMessage
from models.users.security_log import SecurityEvent
from models.users.sessions import open_session
from models.users.user import CUSTOMER
from models.users.user import User
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD
from views.security import load_user

LIST = "/admin/customers"
NEW = "/admin/customers/new"
NEW_CUSTOMER = {
    "email": "  Dora.Dunn@Example.COM ",
    "first_name": "Dora",
    "last_name": "Dunn",
    "phone": "07400 123456",
}


def page(response):
    return response.get_data(as_text=True)


def names_listed(html):
    """The customer names linked from the results table, in order."""
    return re.findall(r'<a href="/admin/customers/\d+">([^<]+)</a>', html)


@pytest.fixture
def people(make_customer):
    return {
        "alice": make_customer(
            first_name="Alice", last_name="Anderson", email="alice@example.com", phone="+447400123456"
        ),
        "bob": make_customer(
            first_name="Bob", last_name="Brown", email="bob@shop.example", phone="+442079460000"
        ),
        "elodie": make_customer(first_name="Élodie", last_name="Éclair", email="elodie@example.fr"),
    }


# Search ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "q, expected",
    [
        ("alice", ["Alice Anderson"]),
        ("ANDERSON", ["Alice Anderson"]),
        ("alice anderson", ["Alice Anderson"]),
        ("élodie", ["Élodie Éclair"]),
        ("shop.example", ["Bob Brown"]),
        ("BOB@SHOP", ["Bob Brown"]),
        ("07400 123456", ["Alice Anderson"]),  # national format finds +447400123456
        ("07400 123", ["Alice Anderson"]),  # part of it, while typing
        ("(020) 7946-0000", ["Bob Brown"]),
        ("+44 20 7946 0000", ["Bob Brown"]),
        ("0044 7400 123456", ["Alice Anderson"]),
        ("7946", ["Bob Brown"]),
        ("nobody", []),
        ("%", []),  # a LIKE wildcard is just a character
        ("_", []),
    ],
)
def test_search_finds_customers_by_name_email_or_phone(owner_client, people, q, expected):
    response = owner_client.get(LIST, query_string={"q": q})
    assert response.status_code == 200
    assert names_listed(page(response)) == expected


def test_without_a_search_every_customer_is_listed_newest_first_staff_and_owner_not(
    owner_client, people, owner, staff
):
    html = page(owner_client.get(LIST))
    assert names_listed(html) == ["Élodie Éclair", "Bob Brown", "Alice Anderson"]
    assert "3 customers, newest first" in html


def test_paused_customers_are_listed_with_a_badge_and_deleted_ones_are_not(
    owner_client, people, make_customer
):
    post_form(owner_client, f"{LIST}/{people['bob'].id}/block", page=f"{LIST}/{people['bob'].id}")
    gone = make_customer(first_name="Gone", last_name="Away")
    assert delete_account(gone, TEST_PASSWORD)
    html = page(owner_client.get(LIST))
    assert names_listed(html) == ["Élodie Éclair", "Bob Brown", "Alice Anderson"]
    bob_row = html[html.index(">Bob Brown</a>") :].split("</tr>")[0]
    assert "Paused" in bob_row
    alice_row = html[html.index(">Alice Anderson</a>") :].split("</tr>")[0]
    assert "Paused" not in alice_row
    assert owner_client.get(f"{LIST}/{gone.id}").status_code == 404


def test_htmx_search_answers_with_only_the_results(owner_client, people):
    response = owner_client.get(LIST, query_string={"q": "bob"}, headers={"HX-Request": "true"})
    html = page(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in html and "<form" not in html
    assert html.lstrip().startswith('<section id="customer-results"')
    assert names_listed(html) == ["Bob Brown"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
)
def test_browser_and_boosted_requests_get_the_whole_page(owner_client, people, headers):
    response = owner_client.get(LIST, query_string={"q": "bob"}, headers=headers)
    html = page(response)
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in html
    # The real GET form under the active search, with the search kept in the box.
    assert re.search(r'<form action="/admin/customers" method="get"', html)
    assert 'name="q" value="bob"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert names_listed(html) == ["Bob Brown"]


def test_pages_hold_25_and_page_links_keep_the_search(owner_client, make_customer):
    for number in range(30):
        make_customer(first_name="Zed", last_name=f"Number{number:02d}")
    make_customer(first_name="Other", last_name="Person")
    first = page(owner_client.get(LIST, query_string={"q": "zed"}))
    assert len(names_listed(first)) == 25
    assert names_listed(first)[0] == "Zed Number29"  # newest first
    assert "Page 1 of 2" in first
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert urlsplit(older).query in ("q=zed&page=2", "page=2&q=zed")
    second = page(owner_client.get(older))
    assert names_listed(second) == [f"Zed Number{n:02d}" for n in range(4, -1, -1)]
    assert "Page 2 of 2" in second
    newer = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert "q=zed" in newer


@pytest.mark.parametrize(
    "q",
    [
        "a" * 10_000,
        "\u202eevil\u202c",  # right-to-left override
        "\x00\x01\x1f",
        "Ｚｅｄ",  # fullwidth letters
        "e\u0301lodie",  # decomposed é
        "😀" * 50,
        "\ud7ff\ufffd\uffff",
        "' OR 1=1 --",
        "+" * 40,
        "0" * 40,
        "   ",
    ],
)
def test_absurd_searches_never_fail(owner_client, people, q):
    for headers in ({}, {"HX-Request": "true"}):
        response = owner_client.get(LIST, query_string={"q": q}, headers=headers)
        assert response.status_code == 200
    assert names_listed(page(owner_client.get(LIST, query_string={"q": "e\u0301lodie"}))) == ["Élodie Éclair"]


@pytest.mark.parametrize("page_number", ["0", "-1", "abc", "²", "99999999999999999999999999", "2.5", ""])
def test_odd_page_numbers_show_a_page(owner_client, people, page_number):
    response = owner_client.get(LIST, query_string={"page": page_number})
    assert response.status_code == 200
    assert len(names_listed(page(response))) == 3


def test_the_search_function_caps_and_cleans_what_it_is_given(people):
    assert [c.first_name for c in customers("07400123456", "GB")] == ["Alice"]
    assert [c.first_name for c in customers("alice\u200b", "GB")] == ["Alice"]  # zero-width space dropped
    assert list(customers("x" * 5000, "GB")) == []


# Who may see what -----------------------------------------------------------


def test_staff_can_find_and_view_customers(client, staff, people):
    sign_in(client, staff)
    html = page(client.get("/admin/"))
    assert 'href="/admin/customers"' in html  # the Customers link in the admin menu
    assert names_listed(page(client.get(LIST, query_string={"q": "alice"}))) == ["Alice Anderson"]
    response = client.get(f"{LIST}/{people['alice'].id}")
    assert response.status_code == 200
    assert "Pause account" not in page(response)  # owner only


def test_customers_get_403_and_visitors_are_sent_to_sign_in(client, customer, people):
    alice = people["alice"].id
    for path in (LIST, f"{LIST}/{alice}", NEW, f"{LIST}/{alice}/edit"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]
    sign_in(client, customer)
    for path in (LIST, f"{LIST}/{alice}", NEW, f"{LIST}/{alice}/edit"):
        assert client.get(path).status_code == 403
    response = client.post(f"{LIST}/{alice}/block", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 403
    assert User.get_by_id(alice).blocked_at is None


@pytest.mark.parametrize("suffix", ["", "/edit"])
def test_unknown_staff_and_huge_ids_are_not_found(owner_client, owner, staff, suffix):
    for customer_id in (999_999, owner.id, staff.id, 10**30):
        assert owner_client.get(f"{LIST}/{customer_id}{suffix}").status_code == 404


# The customer page ------------------------------------------------------------


def test_customer_page_shows_profile_addresses_and_activity(owner_client, make_customer):

    customer = make_customer(first_name="Carol", last_name="Clarke", phone="+447400123456")
    add_address(
        customer,
        {
            "full_name": "Carol Clarke",
            "line1": "1 High Street",
            "city": "Leeds",
            "postal_code": "LS1 1AA",
            "country": "GB",
        },
    )
    add_address(
        customer,
        {
            "full_name": "Carol at work",
            "line1": "2 Mill Lane",
            "city": "York",
            "postal_code": "YO1 7HH",
            "country": "GB",
        },
        make_default_shipping=True,
    )
    html = page(owner_client.get(f"{LIST}/{customer.id}"))
    assert "Carol Clarke" in html
    assert customer.email in html
    assert "07400 123456" in html  # national format
    assert "Registered on the website" in html
    assert "(confirmed)" in html
    assert "1 High Street" in html and "2 Mill Lane" in html
    first_card = html[html.index("1 High Street") : html.index("2 Mill Lane")]
    second_card = html[html.index("2 Mill Lane") :].split("</li>")[0]
    assert "Default billing" in first_card and "Default delivery" not in first_card
    assert "Default delivery" in second_card and "Default billing" not in second_card
    assert "Address added" in html  # security activity
    assert "Active" in html


# Creating a customer ----------------------------------------------------------


def test_creating_a_customer_emails_a_set_password_link_that_opens(app, owner_client, owner):
    response = post_form(owner_client, NEW, NEW_CUSTOMER)
    assert response.status_code == 303
    customer = User.get(User.email == "dora.dunn@example.com")
    assert response.headers["Location"] == f"{LIST}/{customer.id}"
    assert (customer.role, customer.phone, customer.password_hash) == (CUSTOMER, "+447400123456", None)
    assert customer.is_confirmed
    html = page(owner_client.get(response.headers["Location"]))
    assert "Dora Dunn is added" in html
    assert "Created by the shop" in html
    message = OutboxMessage.get(OutboxMessage.to_address == "dora.dunn@example.com")
    assert message.kind == "set_password"
    link = re.search(r"http://shop\.test(/reset-password/\S+)", message.text_body).group(1)
    visitor = app.test_client()  # the customer, in their own browser
    opened = visitor.get(link)
    assert opened.status_code == 200
    assert "dora.dunn@example.com" in page(opened)


def test_staff_can_create_customers(client, staff):
    sign_in(client, staff)
    response = post_form(client, NEW, NEW_CUSTOMER)
    assert response.status_code == 303
    event = SecurityEvent.get(SecurityEvent.kind == "account_created")
    assert event.detail == f"by {staff.email}" and event.actor == "shop"


def test_htmx_create_answers_with_a_location(owner_client):
    response = owner_client.post(
        NEW, data=dict(NEW_CUSTOMER, csrf_token=csrf_token(owner_client, NEW)), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Location"])["path"].startswith(f"{LIST}/")


@pytest.mark.parametrize("email", ["alice@example.com", " ALICE@Example.com "])
def test_duplicate_email_is_refused_clearly_with_values_kept(owner_client, people, email):
    response = post_form(owner_client, NEW, dict(NEW_CUSTOMER, email=email))
    html = page(response)
    assert response.status_code == 422
    assert "There is already an account with this email address." in html
    assert 'href="#email"' in html  # the error summary links to the field
    assert f'href="{LIST}/{people["alice"].id}"' in html  # and to the customer who has it
    assert 'value="Dora"' in html and 'value="Dunn"' in html and 'value="07400 123456"' in html
    assert User.select().where(User.first_name == "Dora").count() == 0
    assert OutboxMessage.select().count() == 0


def test_duplicate_email_is_reported_together_with_other_problems(owner_client, people):
    response = post_form(
        owner_client, NEW, dict(NEW_CUSTOMER, email="alice@example.com", last_name="", phone="12")
    )
    html = page(response)
    assert response.status_code == 422
    assert "There is already an account with this email address." in html
    assert 'href="#last_name"' in html and 'href="#phone"' in html


def test_a_race_on_the_same_email_still_gets_the_field_error(owner_client, monkeypatch):
    """Two people adding the same customer at once: the database's unique index decides."""

    def lost_the_race(*args, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: user.email")

    monkeypatch.setattr("views.admin.customers.create_customer_for_owner", lost_the_race)
    response = post_form(owner_client, NEW, NEW_CUSTOMER)
    assert response.status_code == 422
    assert "There is already an account with this email address." in page(response)


def test_duplicate_of_a_staff_address_does_not_link_to_a_customer_page(owner_client, staff):
    html = page(post_form(owner_client, NEW, dict(NEW_CUSTOMER, email=staff.email)))
    assert "There is already an account with this email address." in html
    assert f"{LIST}/{staff.id}" not in html


@pytest.mark.parametrize(
    "phone, message",
    [
        ("12", "doesn't look right"),
        ("call me", "Enter a phone number like"),
        ("07700 900123", "doesn't look right"),  # the drama range: not a real number
        ("1" * 31, "30 characters"),
    ],
)
def test_bad_phone_is_refused_with_every_value_kept(owner_client, phone, message):
    response = post_form(owner_client, NEW, dict(NEW_CUSTOMER, phone=phone))
    html = page(response).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in html
    assert 'href="#phone"' in html and 'aria-invalid="true"' in html
    assert f'value="{phone}"' in html
    assert 'value="Dora.Dunn@Example.COM"' in html and 'value="Dora"' in html and 'value="Dunn"' in html
    assert not User.select().where(User.first_name == "Dora").exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("email", "not an email"),
        ("email", ""),
        ("first_name", ""),
        ("first_name", "x" * 101),
        ("last_name", "Dunn\u202e"),
        ("first_name", "\x00"),
        ("email", "a@" + "b" * 300 + ".com"),
    ],
)
def test_absurd_new_customer_input_gets_422(owner_client, field, value):
    response = post_form(owner_client, NEW, dict(NEW_CUSTOMER, **{field: value}))
    assert response.status_code == 422
    assert f'href="#{field}"' in page(response)
    assert not User.select().where(User.role == CUSTOMER).exists()


def test_create_without_csrf_token_is_refused(owner_client):
    response = owner_client.post(NEW, data=NEW_CUSTOMER)
    assert response.status_code == 400
    assert not User.select().where(User.role == CUSTOMER).exists()


# Editing ------------------------------------------------------------------------


def test_edit_form_shows_phone_in_national_format_and_saves(owner_client, people):
    alice = people["alice"]
    edit = f"{LIST}/{alice.id}/edit"
    html = page(owner_client.get(edit))
    assert 'value="07400 123456"' in html
    assert alice.email in html and 'name="email"' not in html  # the email is not editable here
    response = post_form(
        owner_client, edit, {"first_name": " Alicia ", "last_name": "Anders", "phone": "020 7946 0001"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{LIST}/{alice.id}"
    alice = User.get_by_id(alice.id)
    assert (alice.first_name, alice.last_name, alice.phone) == ("Alicia", "Anders", "+442079460001")
    assert alice.email == "alice@example.com"
    event = SecurityEvent.get((SecurityEvent.user == alice) & (SecurityEvent.kind == "profile_changed"))
    assert event.actor == "shop"
    shown = page(owner_client.get(f"{LIST}/{alice.id}"))
    assert "Details saved." in shown and "Profile changed" in shown and "The shop" in shown


def test_edit_can_clear_the_phone(owner_client, people):
    alice = people["alice"]
    edit = f"{LIST}/{alice.id}/edit"
    assert (
        post_form(
            owner_client, edit, {"first_name": "Alice", "last_name": "Anderson", "phone": ""}
        ).status_code
        == 303
    )
    assert User.get_by_id(alice.id).phone == ""


def test_bad_edit_is_refused_with_values_kept(owner_client, people):
    alice = people["alice"]
    edit = f"{LIST}/{alice.id}/edit"
    response = post_form(owner_client, edit, {"first_name": "Alicia", "last_name": "", "phone": "12"})
    html = page(response)
    assert response.status_code == 422
    assert 'value="Alicia"' in html and 'value="12"' in html
    assert 'href="#last_name"' in html and 'href="#phone"' in html
    assert User.get_by_id(alice.id).first_name == "Alice"
    # A valid phone is shown as typed, not as the E.164 it would be stored as.
    html = page(
        post_form(owner_client, edit, {"first_name": "Alicia", "last_name": "", "phone": "020 7946 0001"})
    )
    assert 'value="020 7946 0001"' in html
    htmx = owner_client.post(
        edit,
        data={"first_name": "", "last_name": "A", "phone": "", "csrf_token": csrf_token(owner_client, edit)},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 422
    assert "<html" not in page(htmx) and 'id="edit-customer-form"' in page(htmx)


# Pausing and resuming -----------------------------------------------------------


def test_pausing_cuts_off_a_signed_in_customer_and_sign_in_is_refused_politely(app, owner_client, people):
    alice = people["alice"]
    customer_browser = app.test_client()
    sign_in(customer_browser, alice)
    assert customer_browser.get(LIST).status_code == 403  # signed in (a customer, so not allowed)

    response = post_form(owner_client, f"{LIST}/{alice.id}/block", page=f"{LIST}/{alice.id}")
    assert response.status_code == 303
    assert User.get_by_id(alice.id).blocked_at is not None
    html = page(owner_client.get(f"{LIST}/{alice.id}"))
    assert "Paused" in html and "Resume account" in html
    assert (
        SecurityEvent.get((SecurityEvent.user == alice) & (SecurityEvent.kind == "blocked")).actor == "shop"
    )

    # Their open session ends on the next request: they are a visitor again.
    response = customer_browser.get(LIST)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    refused = customer_browser.post(
        "/sign-in",
        data={
            "email": alice.email,
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token(customer_browser, "/sign-in"),
        },
    )
    assert refused.status_code == 422
    assert "This account is paused" in page(refused) and "contact the shop" in page(refused)

    response = post_form(owner_client, f"{LIST}/{alice.id}/unblock", page=f"{LIST}/{alice.id}")
    assert response.status_code == 303
    assert User.get_by_id(alice.id).blocked_at is None
    assert customer_browser.get(LIST).status_code == 302  # the old session stays ended
    sign_in(customer_browser, alice)
    assert customer_browser.get(LIST).status_code == 403


def test_any_paused_or_deleted_account_loses_its_session_on_the_next_request(app, people):
    """The user loader itself refuses inactive accounts, however they became inactive.

    (Flask-Login's UserMixin already says is_authenticated False for them, but
    current_user would still be that user, with is_anonymous False.)
    """
    alice, bob = people["alice"], people["bob"]
    alice_token, bob_token = open_session(alice), open_session(bob)
    with app.test_request_context():
        assert load_user(alice_token) == alice
    alice_browser, bob_browser = app.test_client(), app.test_client()
    sign_in(alice_browser, alice)
    sign_in(bob_browser, bob)
    User.update(blocked_at=utcnow()).where(User.id == alice.id).execute()  # session token unchanged
    User.update(deleted_at=utcnow()).where(User.id == bob.id).execute()
    for browser in (alice_browser, bob_browser):
        response = browser.get(LIST)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    with app.test_request_context():
        assert load_user(alice_token) is None
        assert load_user(bob_token) is None


def test_staff_may_not_pause_or_resume(client, staff, people):
    bob = people["bob"]
    sign_in(client, staff)
    for action in ("block", "unblock"):
        response = client.post(f"{LIST}/{bob.id}/{action}", data={"csrf_token": csrf_token(client, LIST)})
        assert response.status_code == 403
    assert User.get_by_id(bob.id).blocked_at is None


def test_pause_needs_post_and_csrf(owner_client, people):
    bob = people["bob"]
    assert owner_client.get(f"{LIST}/{bob.id}/block").status_code == 405
    assert owner_client.post(f"{LIST}/{bob.id}/block").status_code == 400
    assert User.get_by_id(bob.id).blocked_at is None


def test_pause_of_an_unknown_customer_is_not_found(owner_client, owner):
    assert post_form(owner_client, f"{LIST}/999999/block", page=LIST).status_code == 404
    assert post_form(owner_client, f"{LIST}/{owner.id}/block", page=LIST).status_code == 404
    assert User.get_by_id(owner.id).blocked_at is None
