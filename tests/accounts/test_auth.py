"""Sign-in, sign-out, sessions, roles and safe redirects."""

import pytest

from models.accounts.credentials import change_password
from models.users.user import User
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD


def test_sign_in_lands_customer_on_my_account(client, customer):
    response = sign_in(client, customer)
    assert response.headers["Location"] == "/account/"
    page = client.get("/account/").get_data(as_text=True)
    assert customer.email in page


def test_sign_in_lands_staff_on_admin(client, staff):
    assert sign_in(client, staff).headers["Location"] == "/admin/"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, customer):
    wrong_password = post_form(client, "/sign-in", {"email": customer.email, "password": "nope-nope"})
    unknown_email = post_form(client, "/sign-in", {"email": "nobody@example.com", "password": "nope-nope"})
    assert wrong_password.status_code == unknown_email.status_code == 422
    for response in (wrong_password, unknown_email):
        html = response.get_data(as_text=True)
        assert "match an account" in html
        assert "There is a problem" in html
        assert 'aria-invalid="true"' in html
        assert "nope-nope" not in html  # passwords are never echoed back
    assert 'value="nobody@example.com"' in unknown_email.get_data(as_text=True)


def test_empty_sign_in_form_shows_each_problem(client):
    response = post_form(client, "/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#email"' in html and 'href="#password"' in html
    assert "Enter your email address." in html and "Enter your password." in html


def test_email_is_case_insensitive(client, make_customer):
    user = make_customer(email="Mixed.Case@Example.com")
    assert user.email == "mixed.case@example.com"
    response = post_form(client, "/sign-in", {"email": "MIXED.case@example.COM", "password": TEST_PASSWORD})
    assert response.status_code == 303


def test_blocked_customer_is_told_politely_and_not_signed_in(client, customer):
    User.update(blocked_at=User.created_at).where(User.id == customer.id).execute()
    response = post_form(client, "/sign-in", {"email": customer.email, "password": TEST_PASSWORD})
    assert response.status_code == 422
    assert "paused" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_sign_in_starts_a_new_session(client, customer):
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, customer)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_out_is_post_only(customer_client):
    assert customer_client.get("/sign-out").status_code == 405
    response = post_form(customer_client, "/sign-out", page="/account/")
    assert response.status_code == 303
    assert "Sign in" in customer_client.get("/account/").get_data(as_text=True)


def test_password_change_ends_other_sessions(app, customer):
    first, second = app.test_client(), app.test_client()
    sign_in(first, customer)
    sign_in(second, customer)
    with app.app_context():  # it emails the customer
        assert change_password(User.get_by_id(customer.id), TEST_PASSWORD, "a brand new password")
    for client in (first, second):
        assert "Signed in as" not in client.get("/account/").get_data(as_text=True)


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "http:/evil",
        "\t//evil",
    ],
)
def test_tampered_next_falls_back_to_a_local_page(client, customer, next_url):
    response = client.post(
        "/sign-in",
        data={
            "email": customer.email,
            "password": TEST_PASSWORD,
            "next": next_url,
            "csrf_token": csrf_token(client, "/sign-in"),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"


def test_local_next_is_followed(client, customer):
    response = client.post(
        "/sign-in",
        data={
            "email": customer.email,
            "password": TEST_PASSWORD,
            "next": "/cart?x=1",
            "csrf_token": csrf_token(client, "/sign-in"),
        },
    )
    assert response.headers["Location"] == "/cart?x=1"


def test_admin_needs_sign_in_then_staff(client, customer, staff):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=")
    sign_in(client, customer)
    assert client.get("/admin/").status_code == 403


def test_owner_only_pages_refuse_staff(client, staff):
    sign_in(client, staff)
    assert client.get("/admin/").status_code == 200
    for path in ("/admin/settings", "/admin/outbox"):
        assert client.get(path).status_code == 403


def test_htmx_post_after_sign_in_uses_the_new_token(client, owner):
    old_token = csrf_token(client, "/sign-in")
    sign_in(client, owner)
    stale = client.post("/admin/settings", headers={"HX-Request": "true", "X-CSRFToken": old_token})
    assert stale.status_code == 400
    fresh_token = csrf_token(client, "/admin/")
    fresh = client.post(
        "/admin/settings",
        headers={"HX-Request": "true", "X-CSRFToken": fresh_token},
        data={"shop_name": ""},
    )
    assert fresh.status_code == 422
    assert "<html" not in fresh.get_data(as_text=True)
    assert fresh.headers["Vary"] and "HX-Request" in fresh.headers["Vary"]
