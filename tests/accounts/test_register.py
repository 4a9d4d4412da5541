"""The four-step registration, confirmation by link and code, and no account enumeration."""

import datetime
import re

import pytest
import time_machine

from models.accounts.registration import RegistrationDraft
from models.base import utcnow
from models.funds.customer_accounts import account_for
from models.funds.ledger import Entry
from models.funds.signup_bonus import credit_signup_bonus
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.users.security_log import SecurityEvent
from models.users.user import User
from tests.conftest import csrf_token
from tests.conftest import post_form

DETAILS = {
    "first_name": "Ana",
    "last_name": "Lima",
    "phone": "020 7946 0018",
    "billing-line1": "1 High Street",
    "billing-line2": "",
    "billing-city": "London",
    "billing-region": "",
    "billing-postal_code": "sw1a 1aa",
    "billing-country": "GB",
}
SHIPPING = {
    "ship_different": "y",
    "shipping-full_name": "Ana at work",
    "shipping-company": "Lima Ltd",
    "shipping-line1": "5 Office Road",
    "shipping-city": "Leeds",
    "shipping-postal_code": "LS1 1AA",
    "shipping-country": "GB",
}


def begin(client):
    response = post_form(client, "/register/", page="/account/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/register/email"


def register(client, email="ana@example.com", password="a good long password", details=DETAILS):
    begin(client)
    assert post_form(client, "/register/email", {"email": email, "password": password}).status_code == 303
    assert post_form(client, "/register/details", details).status_code == 303
    response = post_form(client, "/register/review")
    assert response.status_code == 303
    assert response.headers["Location"] == "/check-inbox"
    return client.get("/check-inbox")


def last_mail(to):
    return (
        OutboxMessage.select().where(OutboxMessage.to_address == to).order_by(OutboxMessage.id.desc()).first()
    )


def code_in(message):
    return re.search(r"^(\d{6})$", message.text_body, re.M).group(1)


def link_in(message, path_prefix):
    match = re.search(r"http://shop\.test(" + re.escape(path_prefix) + r"[^\s]+)", message.text_body)
    assert match, message.text_body
    return match.group(1)


def test_visitor_my_account_offers_sign_in_or_continue(client):
    html = client.get("/account/").get_data(as_text=True)
    assert "Create an account" in html and "Continue" in html and "Sign in" in html
    assert "Step 1 of 4" in html


def test_each_step_has_its_own_url_and_step_name(client):
    begin(client)
    assert "Step 2 of 4" in client.get("/register/email").get_data(as_text=True)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    assert "Step 3 of 4" in client.get("/register/details").get_data(as_text=True)
    post_form(client, "/register/details", DETAILS)
    review = client.get("/register/review").get_data(as_text=True)
    assert "Step 4 of 4" in review
    assert "ana@example.com" in review and "Ana Lima" in review and "SW1A 1AA" in review
    assert review.count(">Change<") == 3
    assert "020 7946 0018" in review
    assert "Same as billing" in review


def test_steps_cannot_be_skipped(client):
    begin(client)
    assert client.get("/register/review").headers["Location"] == "/register/email"
    assert client.get("/register/details").headers["Location"] == "/register/email"


def test_no_draft_means_a_clear_page(client):
    response = client.get("/register/details")
    assert response.status_code == 410
    assert "start again" in response.get_data(as_text=True).lower()


def test_the_session_cookie_holds_no_personal_data(client):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    post_form(client, "/register/details", DETAILS)
    with client.session_transaction() as session:
        serialized = repr(dict(session))
    assert (
        "ana@example.com" not in serialized and "Lima" not in serialized and "High Street" not in serialized
    )


def test_password_is_hashed_at_step_two(client):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    draft = RegistrationDraft.get()
    assert draft.password_hash.startswith("$argon2")
    assert "a good long password" not in draft.data


@pytest.mark.parametrize(
    "email, password, message",
    [
        ("", "a good long password", "Enter your email address."),
        ("not an email", "a good long password", "Enter an email address like"),
        ("ana@example.com", "short", "at least 8 characters"),
        ("ana@example.com", "password123", "too common"),
        ("ana@example.com", "x" * 300, "at most 256"),
    ],
)
def test_step_two_validation_keeps_the_email(client, email, password, message):
    begin(client)
    response = post_form(client, "/register/email", {"email": email, "password": password})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "There is a problem" in html
    if email:
        assert f'value="{email}"' in html
    assert password not in html


def test_back_to_step_two_keeps_the_password_when_left_blank(client):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    page = client.get("/register/email").get_data(as_text=True)
    assert 'value="ana@example.com"' in page and "leave this empty to keep it" in page
    assert (
        post_form(client, "/register/email", {"email": "ana2@example.com", "password": ""}).status_code == 303
    )
    assert RegistrationDraft.get().values["email"] == "ana2@example.com"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("first_name", "", "Enter your first name."),
        ("first_name", "x" * 101, "at most 100 characters"),
        ("first_name", "Ana\u202e", "characters we can"),
        ("phone", "12", "phone number"),
        ("phone", "", "Enter your phone number."),
        ("billing-postal_code", "<script>", "letters, digits and spaces"),
        ("billing-country", "XX", "Not a valid choice"),
    ],
)
def test_step_three_validation_keeps_everything_typed(client, field, value, message):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    response = post_form(client, "/register/details", dict(DETAILS, **{field: value}))
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in html
    assert 'value="1 High Street"' in html
    assert 'aria-invalid="true"' in html


def test_shipping_fields_only_validated_when_ticked(client):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    assert post_form(client, "/register/details", DETAILS).status_code == 303
    response = post_form(client, "/register/details", dict(DETAILS, ship_different="y"))
    assert response.status_code == 422
    assert "Enter the name of the person at this address." in response.get_data(as_text=True)


def test_shipping_fragment_for_htmx(client):
    begin(client)
    folded = client.get("/register/details/shipping", headers={"HX-Request": "true"}).get_data(as_text=True)
    shown = client.get(
        "/register/details/shipping?ship_different=y&shipping-line1=Kept", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "folded" in folded and "folded" not in shown
    assert 'value="Kept"' in shown
    assert "<html" not in shown


def test_registration_creates_everything_in_one_go(client):
    register(client, details=dict(DETAILS, **SHIPPING))
    user = User.by_email("ana@example.com")
    assert user.email_confirmed_at is None
    assert user.phone == "+442079460018"
    assert user.default_billing.line1 == "1 High Street"
    assert user.default_shipping.line1 == "5 Office Road"
    assert user.default_shipping.company == "Lima Ltd"
    assert RegistrationDraft.select().count() == 0
    assert SecurityEvent.select().where(SecurityEvent.user == user).count() >= 1


def test_confirm_by_code_signs_in_and_lands_on_my_account(client):
    page = register(client).get_data(as_text=True)
    assert "Check your inbox" in page
    code = code_in(last_mail("ana@example.com"))
    response = post_form(client, "/check-inbox", {"code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert "ana@example.com" in client.get("/account/").get_data(as_text=True)
    assert User.by_email("ana@example.com").email_confirmed_at is not None


def test_wrong_codes_three_attempts_then_expired(client):
    register(client)
    real = code_in(last_mail("ana@example.com"))
    wrong = "000000" if real != "000000" else "111111"
    first = post_form(client, "/check-inbox", {"code": wrong})
    assert first.status_code == 422 and "2 tries left" in first.get_data(as_text=True)
    post_form(client, "/check-inbox", {"code": wrong})
    post_form(client, "/check-inbox", {"code": wrong})
    final = post_form(client, "/check-inbox", {"code": real})
    assert final.status_code == 422
    assert "expired or been tried too often" in final.get_data(as_text=True)
    assert User.by_email("ana@example.com").email_confirmed_at is None


def test_code_expires_after_15_minutes(client):
    register(client)
    code = code_in(last_mail("ana@example.com"))
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)):
        response = post_form(client, "/check-inbox", {"code": code})
    assert response.status_code == 422
    assert "expired" in response.get_data(as_text=True)


def test_new_code_with_cooldown(client):
    register(client)
    too_soon = post_form(client, "/check-inbox/resend", page="/check-inbox")
    assert too_soon.status_code == 303
    assert OutboxMessage.select().where(OutboxMessage.to_address == "ana@example.com").count() == 1
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)):
        post_form(client, "/check-inbox/resend", page="/check-inbox")
        second_code = code_in(last_mail("ana@example.com"))
        response = post_form(client, "/check-inbox", {"code": second_code})
    assert OutboxMessage.select().where(OutboxMessage.to_address == "ana@example.com").count() == 2
    assert response.status_code == 303


def test_confirm_by_link_never_acts_on_get(client, app):
    register(client)
    path = link_in(last_mail("ana@example.com"), "/register/confirm/")
    other_browser = app.test_client()
    opened = other_browser.get(path)
    assert opened.status_code == 200
    assert "Confirm my email address" in opened.get_data(as_text=True)
    assert User.by_email("ana@example.com").email_confirmed_at is None
    response = post_form(other_browser, path)
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert User.by_email("ana@example.com").email_confirmed_at is not None
    reused = post_form(app.test_client(), path, page="/")
    assert reused.status_code == 410


def test_confirmation_link_expires_after_48_hours(client, app):
    register(client)
    path = link_in(last_mail("ana@example.com"), "/register/confirm/")
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=49)):
        assert app.test_client().get(path).status_code == 410


def test_existing_email_gets_the_same_page_and_a_different_message(app, make_customer):
    existing = make_customer(email="taken@example.com")
    new_client, taken_client = app.test_client(), app.test_client()
    new_page = register(new_client, email="fresh@example.com")
    taken_page = register(taken_client, email="taken@example.com")
    assert new_page.status_code == taken_page.status_code == 200

    def normalised(response, email):
        html = response.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'(value="|"X-CSRFToken": ")[^"]+"', "TOKEN", html)

    assert normalised(new_page, "fresh@example.com") == normalised(taken_page, "taken@example.com")
    message = last_mail("taken@example.com")
    assert message.kind == "already_registered"
    assert "already have an account" in message.text_body
    assert User.select().where(User.email == "taken@example.com").count() == 1
    assert User.get_by_id(existing.id).first_name == existing.first_name
    wrong = post_form(taken_client, "/check-inbox", {"code": "123456"})
    assert wrong.status_code == 422 and "2 tries left" in wrong.get_data(as_text=True)


def test_every_link_in_registration_messages_answers(app, make_user):
    make_user(email="taken@example.com", password=None, source="marketplace")
    client = app.test_client()
    register(client, email="taken@example.com")
    register(app.test_client(), email="fresh@example.com")
    for to in ("taken@example.com", "fresh@example.com"):
        message = last_mail(to)
        links = re.findall(r"http://shop\.test(/[^\s]*)", message.text_body)
        assert links, message.text_body
        for path in links:
            assert app.test_client().get(path).status_code == 200, path
        for href in re.findall(r'href="http://shop\.test(/[^"]*)"', message.html_body):
            assert href in links


def test_marketplace_customer_sets_a_password_from_the_already_registered_message(app, make_user):
    make_user(email="market@example.com", password=None, source="marketplace")
    register(app.test_client(), email="market@example.com")
    path = link_in(last_mail("market@example.com"), "/reset-password/")
    browser = app.test_client()
    assert browser.get(path).status_code == 200
    response = post_form(browser, path, {"password": "my own new password"})
    assert response.status_code == 303
    response = post_form(
        browser, "/sign-in", {"email": "market@example.com", "password": "my own new password"}
    )
    assert response.status_code == 303


def test_unconfirmed_sign_in_goes_to_check_inbox(client, app):
    register(client)
    browser = app.test_client()
    response = post_form(
        browser, "/sign-in", {"email": "ana@example.com", "password": "a good long password"}
    )
    assert response.headers["Location"] == "/check-inbox"
    code = code_in(last_mail("ana@example.com"))
    assert post_form(browser, "/check-inbox", {"code": code}).status_code == 303


def test_drafts_expire_after_24_hours(client):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=25)):
        assert client.get("/register/details").status_code == 410


def test_signed_in_customers_skip_registration(customer_client):
    assert customer_client.get("/register/email").status_code == 302


def test_csrf_is_required_at_every_step(client):
    begin(client)
    token = csrf_token(client, "/register/email")
    assert token
    response = client.post(
        "/register/email", data={"email": "a@example.com", "password": "a good long password"}
    )
    assert response.status_code == 400


def test_started_at_is_recent(client):
    begin(client)
    assert utcnow() - RegistrationDraft.get().created_at < datetime.timedelta(minutes=1)


def test_signup_bonus_is_credited_once_on_confirmation(client, app, owner):

    update_settings({"signup_bonus": 500}, owner)
    register(client)
    assert account_for(User.by_email("ana@example.com")).balance == 0  # nothing before confirming
    post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    user = User.by_email("ana@example.com")
    assert account_for(user).balance == 500
    credit_signup_bonus(user)  # a second call is a replay
    assert account_for(user).balance == 500
    assert Entry.get(Entry.account == account_for(user)).category == "bonus"


def test_no_signup_bonus_by_default(client):

    register(client)
    post_form(client, "/check-inbox", {"code": code_in(last_mail("ana@example.com"))})
    assert account_for(User.by_email("ana@example.com")).balance == 0
