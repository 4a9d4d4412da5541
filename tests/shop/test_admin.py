"""The owner's settings and outbox pages."""

import json

import pytest

from models.funds.adjustments import adjust
from models.shop.outbox import OutboxMessage
from models.shop.outbox import send_mail
from models.shop.outbox import UNKNOWN
from models.shop.settings import load_settings
from tests.conftest import csrf_token
from tests.conftest import post_form

VALID_SETTINGS = {
    "shop_name": "Corner Shop",
    "contact_email": "hello@corner.example",
    "contact_phone": "+44 20 7946 0000",
    "country": "gb",
    "locale": "en-GB",
    "timezone": "Europe/London",
    "currency": "eur",
    "bank_account_name": "Corner Shop Ltd",
    "bank_iban": "GB33BUKB20201555555555",
    "bank_bic": "BUKBGB22",
    "bank_details_note": "Use your order number as the reference.",
    "staff_money_limit": "75.50",
    "signup_bonus": "5",
    "topup_min": "5",
    "topup_max": "500",
    "default_credit_limit": "0",
    "credit_terms_days": "30",
    "new_order_emails": "daily",
}


def test_settings_page_shows_current_values(owner_client):
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert 'value="Test Shop"' in html
    # The public address is shown with where it comes from, and is not a field of this form.
    assert "http://shop.test" in html and "SHOP_BASE_URL" in html
    assert 'name="base_url"' not in html


def test_saving_settings_normalises_and_stores_them(owner_client):
    response = post_form(owner_client, "/admin/settings", VALID_SETTINGS)
    assert response.status_code == 303
    settings = load_settings()
    assert settings.shop_name == "Corner Shop"
    assert (settings.country, settings.locale, settings.currency) == ("GB", "en_GB", "EUR")
    assert settings.staff_money_limit == 7550
    assert settings.signup_bonus == 500
    assert "Corner Shop" in owner_client.get("/").get_data(as_text=True)


def test_the_owner_chooses_the_emails_about_new_orders(owner_client):
    assert load_settings().new_order_emails == "each"  # the default
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert '<label for="new_order_emails">Emails about new orders</label>' in html
    assert '<option selected value="each">An email for each new order</option>' in html
    # A translated label is markup-safe text: its apostrophe may come escaped or not.
    assert "One email a day, listing the previous day's new orders" in html.replace("&#39;", "'")
    assert "No emails about new orders" in html
    assert "after 07:00" in html
    for choice in ("daily", "none", "each"):
        response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, new_order_emails=choice))
        assert response.status_code == 303
        assert load_settings().new_order_emails == choice
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, new_order_emails="weekly"))
    assert response.status_code == 422
    assert "Choose which emails about new orders you want." in response.get_data(as_text=True)
    assert load_settings().new_order_emails == "each"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("country", "XX", "two-letter country code"),
        ("locale", "klingon", "language and region from the list"),
        ("timezone", "Mars/Olympus", "time zone such as"),
        ("currency", "ABC", "currency code such as"),
        ("contact_email", "not-an-email", "email address like"),
        ("shop_name", "", "Enter the shop"),
        ("shop_name", "x" * 81, "80 characters"),
        ("staff_money_limit", "1e3", "digits"),
        ("staff_money_limit", "-1", "digits"),
    ],
)
def test_bad_settings_get_a_clear_message_and_keep_what_was_typed(owner_client, field, value, message):
    data = dict(VALID_SETTINGS, **{field: value})
    response = post_form(owner_client, "/admin/settings", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html.replace("&#39;", "'")
    assert f'href="#{field}"' in html
    assert 'value="Corner Shop Ltd"' in html  # other values survive
    assert load_settings().shop_name == "Test Shop"


def test_htmx_save_answers_with_a_location(owner_client):
    response = owner_client.post(
        "/admin/settings",
        data=dict(VALID_SETTINGS, csrf_token=csrf_token(owner_client, "/admin/settings")),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    location = json.loads(response.headers["HX-Location"])
    assert location["path"] == "/admin/settings"
    assert location["headers"] == {"HX-Boosted": "true"}  # the follow-up gets the whole page


def test_outbox_lists_messages_and_shows_one(owner_client):
    message = send_mail("alice@example.com", "Your order", "Thanks!\nSee you.", kind="test")
    listing = owner_client.get("/admin/outbox").get_data(as_text=True)
    assert "Your order" in listing and "alice@example.com" in listing
    detail = owner_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "Thanks!" in detail
    assert "No mail server is configured" in listing
    assert owner_client.get("/admin/outbox/999999").status_code == 404


def test_outbox_filters_by_state(owner_client):
    send_mail("a@example.com", "Queued one", "x")
    unknown = send_mail("b@example.com", "Unknown one", "x")
    OutboxMessage.update(state=UNKNOWN).where(OutboxMessage.id == unknown.id).execute()
    html = owner_client.get("/admin/outbox?state=unknown").get_data(as_text=True)
    assert "Unknown one" in html and "Queued one" not in html


def test_send_again_only_for_unknown_messages(owner_client):
    message = send_mail("a@example.com", "Hello", "x")
    path = f"/admin/outbox/{message.id}/send-again"
    post_form(owner_client, path, page=f"/admin/outbox/{message.id}")
    assert OutboxMessage.get_by_id(message.id).state == "queued"
    OutboxMessage.update(state=UNKNOWN).where(OutboxMessage.id == message.id).execute()
    response = post_form(owner_client, path, page=f"/admin/outbox/{message.id}")
    assert response.status_code == 303
    assert OutboxMessage.get_by_id(message.id).state == "queued"


@pytest.mark.parametrize("page", ["²", "-1", "99999999999999999999999999", "abc", "0"])
def test_odd_page_numbers_never_fail(owner_client, page):
    assert owner_client.get(f"/admin/outbox?page={page}").status_code == 200
    assert owner_client.get(f"/admin/audit?page={page}").status_code == 200


def test_a_zero_staff_limit_is_kept_as_zero(owner_client):
    post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, staff_money_limit="0"))
    assert load_settings().staff_money_limit == 0


def test_currency_is_locked_once_money_has_moved(app, owner_client, customer, owner):

    with app.app_context():
        adjust(customer, 100, "goodwill", "", "", owner, "k")
    page = owner_client.get("/admin/settings").get_data(as_text=True)
    assert "Locked because money has moved" in page
    post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, currency="USD"))
    assert load_settings().currency == "EUR"
