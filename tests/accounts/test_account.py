"""My Account: profile, address book, security, freshness, data download and deletion."""

import json
import re
from urllib.parse import urlsplit

import pytest

from models.accounts.addresses import add_address
from models.accounts.addresses import Address
from models.accounts.addresses import addresses_of
from models.shop.outbox import OutboxMessage
from models.users.security_log import SecurityEvent
from models.users.tokens import AccountToken
from models.users.user import User
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "purple walrus on a unicycle"


def fresh(user):
    return User.get_by_id(user.id)


def address_data(prefix="new-address", **overrides):
    data = {
        "full_name": "Ada Lovelace",
        "company": "",
        "line1": "12 Analytical Row",
        "line2": "",
        "city": "London",
        "region": "",
        "postal_code": "sw1a 1aa",
        "country": "GB",
        "phone": "",
    }
    data.update(overrides)
    return {f"{prefix}-{name}": value for name, value in data.items() if value is not None}


def make_address(user, **overrides):
    fields = {
        "full_name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "SW1A 1AA",
        "country": "GB",
    }
    fields.update(overrides)
    return add_address(user, fields)


def messages_to(address, kind=None):
    query = OutboxMessage.select().where(OutboxMessage.to_address == address)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(query.order_by(OutboxMessage.id))


def links_in(message):
    return re.findall(r"https?://[^\s<>\"]+", message.text_body)


def local_path(link):
    assert link.startswith("http://shop.test/"), link
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def make_stale(client):
    """The password was typed long ago (the session is older than 15 minutes)."""
    with client.session_transaction() as session:
        session["password_at"] = 0


def second_client(app, user):
    other = app.test_client()
    sign_in(other, user)
    return other


# Access ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account/profile",
        "/account/addresses",
        "/account/addresses/new",
        "/account/security",
        "/account/security/password",
        "/account/security/email",
        "/account/confirm-password",
        "/account/data",
        "/account/data.json",
        "/account/delete",
    ],
)
def test_account_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_dashboard_greets_customer_and_links_every_section(customer_client, customer):
    make_address(customer, line1="1 Delivery Lane")
    html = customer_client.get("/account/").get_data(as_text=True)
    assert f"Hello, {customer.first_name}" in html
    assert "1 Delivery Lane" in html
    for path in ("/account/profile", "/account/addresses", "/account/security", "/account/data"):
        assert f'href="{path}"' in html
        assert customer_client.get(path).status_code == 200


# Profile ---------------------------------------------------------------------


def test_profile_edit_saves_name_and_e164_phone_shown_nationally(customer_client, customer):
    response = post_form(
        customer_client,
        "/account/profile",
        {"first_name": " Grace ", "last_name": "Hopper", "phone": "020 7946 0000"},
    )
    assert response.status_code == 303
    user = fresh(customer)
    assert (user.first_name, user.last_name, user.phone) == ("Grace", "Hopper", "+442079460000")
    html = customer_client.get("/account/profile").get_data(as_text=True)
    assert 'value="020 7946 0000"' in html
    assert SecurityEvent.get(SecurityEvent.user == customer, SecurityEvent.kind == "profile_changed")


def test_profile_bad_phone_is_422_and_keeps_values(customer_client, customer):
    response = post_form(
        customer_client, "/account/profile", {"first_name": "Grace", "last_name": "Hopper", "phone": "12345"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in html and 'href="#phone"' in html
    assert 'value="Grace"' in html and 'value="Hopper"' in html and 'value="12345"' in html
    assert fresh(customer).first_name == customer.first_name


def test_profile_turns_payment_reminders_off_and_on(customer_client, customer):
    details = {"first_name": "Grace", "last_name": "Hopper"}
    html = customer_client.get("/account/profile").get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*name="payment_reminders"|name="payment_reminders"[^>]*checked', html
    )
    assert post_form(customer_client, "/account/profile", details).status_code == 303  # box left unticked
    assert fresh(customer).reminders_opted_out_at is not None
    html = customer_client.get("/account/profile").get_data(as_text=True)
    assert not re.search(r'name="payment_reminders"[^>]*checked', html)
    post_form(customer_client, "/account/profile", {**details, "payment_reminders": "y"})
    assert fresh(customer).reminders_opted_out_at is None


@pytest.mark.parametrize("bad", ["Gr\u202eace", "Gr\x07ace", "G" * 101, ""])
def test_profile_refuses_odd_or_overlong_names(customer_client, customer, bad):
    response = post_form(customer_client, "/account/profile", {"first_name": bad, "last_name": "Hopper"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in html
    assert any(
        text in html
        for text in ("characters we can&#39;t store", "at most 100 characters", "Enter your first name.")
    )
    assert fresh(customer).first_name == customer.first_name


# Address book ------------------------------------------------------------------


def test_first_address_added_without_javascript_becomes_both_defaults(customer_client, customer):
    response = post_form(customer_client, "/account/addresses/new", address_data(phone="020 7946 0000"))
    assert response.status_code == 303
    (address,) = addresses_of(customer)
    assert response.headers["Location"] == f"/account/addresses#address-{address.id}"
    assert address.postal_code == "SW1A 1AA" and address.phone == "+442079460000"
    user = fresh(customer)
    assert user.default_billing_id == user.default_shipping_id == address.id
    html = customer_client.get("/account/addresses").get_data(as_text=True)
    assert "12 Analytical Row" in html and "United Kingdom" in html
    assert "Billing address" in html and "Delivery address" in html
    assert "020 7946 0000" in html


def test_add_address_with_htmx_answers_with_the_new_card(customer_client, customer):
    form = customer_client.get("/account/addresses/new", headers=HTMX)
    assert form.status_code == 200
    assert "<html" not in form.get_data(as_text=True)
    assert 'hx-target="closest article"' in form.get_data(as_text=True)
    assert "HX-Request" in form.headers["Vary"]
    assert "<html" in customer_client.get("/account/addresses/new").get_data(as_text=True)

    response = post_form(customer_client, "/account/addresses/new", address_data(), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    (address,) = addresses_of(customer)
    assert f'id="address-{address.id}"' in html and "<html" not in html
    assert "Address added." in html
    assert 'href="/account/addresses/new"' in html  # the "Add an address" tile comes back


def test_invalid_address_with_htmx_is_422_fragment_with_values_kept(customer_client, customer):
    data = address_data(full_name="Ada Lovelace", line1="", postal_code="SW1A 1AA")
    response = post_form(
        customer_client, "/account/addresses/new", data, headers=HTMX, page="/account/addresses"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in html and "There is a problem" in html
    assert 'href="#new-address-line1"' in html
    assert "Enter the street and house number." in html
    assert 'value="Ada Lovelace"' in html and 'value="SW1A 1AA"' in html
    assert addresses_of(customer) == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("full_name", "A" * 101, "Full name can be at most 100 characters."),
        ("line1", "12 Evil\u202eRow", "Address line 1 contains characters we can&#39;t store."),
        ("city", "Lon\x00don", "Town or city contains characters we can&#39;t store."),
        ("company", "Acme\u200b", "Company contains characters we can&#39;t store."),
        ("postal_code", "SW1A<1AA>", "Enter the postcode using letters, digits and spaces."),
        ("postal_code", "1" * 13, "Postcode can be at most 12 characters."),
        ("country", "XX", "Not a valid choice"),
        ("phone", "9" * 300, "Enter a phone number like"),
        ("phone", "not a phone", "Enter a phone number like"),
    ],
)
def test_bad_address_fields_are_refused_with_a_clear_message(
    customer_client, customer, field, value, message
):
    response = post_form(customer_client, "/account/addresses/new", address_data(**{field: value}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'href="#new-address-{field}"' in html
    assert 'value="12 Analytical Row"' in html or field == "line1"
    assert addresses_of(customer) == []


def test_edit_address_without_javascript(customer_client, customer):
    address = make_address(customer)
    page = customer_client.get(f"/account/addresses/{address.id}/edit").get_data(as_text=True)
    assert "<html" in page and 'value="12 Analytical Row"' in page
    prefix = f"address-{address.id}"
    response = post_form(
        customer_client,
        f"/account/addresses/{address.id}/edit",
        address_data(prefix, line1="34 Engine Street"),
    )
    assert response.status_code == 303
    assert Address.get_by_id(address.id).line1 == "34 Engine Street"
    assert SecurityEvent.get(SecurityEvent.user == customer, SecurityEvent.kind == "address_changed")


def test_edit_address_with_htmx_swaps_the_card_and_refreshes_moved_defaults(customer_client, customer):
    first = make_address(customer, full_name="First Person")
    second = make_address(customer, full_name="Second Person")
    edit_form = customer_client.get(f"/account/addresses/{second.id}/edit", headers=HTMX)
    assert edit_form.status_code == 200 and "<html" not in edit_form.get_data(as_text=True)
    assert f'id="address-{second.id}"' in edit_form.get_data(as_text=True)

    prefix = f"address-{second.id}"
    data = address_data(prefix, full_name="Second Person", make_default_shipping="y")
    response = post_form(customer_client, f"/account/addresses/{second.id}/edit", data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    user = fresh(customer)
    assert user.default_shipping_id == second.id and user.default_billing_id == first.id
    # The first card lost its delivery badge: it comes along out of band.
    assert f'id="address-{first.id}" aria-labelledby="address-{first.id}-name" hx-swap-oob="true"' in html

    invalid = post_form(
        customer_client,
        f"/account/addresses/{second.id}/edit",
        address_data(prefix, city="", full_name="Still Typed"),
        headers=HTMX,
    )
    assert invalid.status_code == 422
    assert 'value="Still Typed"' in invalid.get_data(as_text=True)
    assert "<html" not in invalid.get_data(as_text=True)
    assert Address.get_by_id(second.id).full_name == "Second Person"

    cancel = customer_client.get(f"/account/addresses/{second.id}", headers=HTMX)
    assert cancel.status_code == 200 and "Second Person" in cancel.get_data(as_text=True)
    assert "<html" in customer_client.get(f"/account/addresses/{second.id}").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["no-js", "htmx"])
def test_deleting_a_default_address_moves_the_default(customer_client, customer, headers):
    first = make_address(customer, full_name="First Person")
    second = make_address(customer, full_name="Second Person")
    third = make_address(customer, full_name="Third Person")
    User.update(default_billing=third.id, default_shipping=first.id).where(User.id == customer.id).execute()

    response = post_form(
        customer_client, f"/account/addresses/{first.id}/delete", headers=headers, page="/account/addresses"
    )
    assert [a.id for a in addresses_of(customer)] == [second.id, third.id]
    user = fresh(customer)
    assert user.default_shipping_id == second.id  # passed to the oldest remaining address
    assert user.default_billing_id == third.id  # untouched
    if headers:
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'id="address-{first.id}"' not in html
        assert (
            f'id="address-{second.id}" aria-labelledby="address-{second.id}-name" hx-swap-oob="true"' in html
        )
        assert "Address deleted." in html
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == "/account/addresses"


def test_another_customers_address_is_not_found(customer_client, customer, make_customer):
    stranger = make_customer()
    theirs = make_address(stranger, full_name="Not Yours")
    base = f"/account/addresses/{theirs.id}"
    assert customer_client.get(base).status_code == 404
    assert customer_client.get(base, headers=HTMX).status_code == 404
    assert customer_client.get(f"{base}/edit").status_code == 404
    token = csrf_token(customer_client, "/account/addresses")
    edit = customer_client.post(
        f"{base}/edit", data={**address_data(f"address-{theirs.id}"), "csrf_token": token}
    )
    delete = customer_client.post(f"{base}/delete", data={"csrf_token": token})
    assert edit.status_code == delete.status_code == 404
    kept = Address.get_by_id(theirs.id)
    assert kept.full_name == "Not Yours" and kept.user_id == stranger.id
    assert customer_client.get("/account/addresses/999999").status_code == 404


def test_address_delete_needs_csrf(customer_client, customer):
    address = make_address(customer)
    assert customer_client.post(f"/account/addresses/{address.id}/delete").status_code == 400
    assert Address.get_or_none(Address.id == address.id) is not None


# Security: password, email, devices --------------------------------------------


def test_change_password_ends_other_sessions_keeps_this_one_and_sends_notice(app, customer_client, customer):
    other_device = second_client(app, customer)
    response = post_form(
        customer_client,
        "/account/security/password",
        {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/security"
    assert customer_client.get("/account/profile").status_code == 200  # still signed in here
    assert other_device.get("/account/profile").status_code == 302  # signed out there
    (notice,) = messages_to(customer.email, "password_changed")
    assert "password" in notice.text_body and links_in(notice)
    for link in links_in(notice):
        assert customer_client.get(local_path(link)).status_code == 200
    sign_in(app.test_client(), customer, NEW_PASSWORD)


def test_change_password_with_wrong_current_password_is_422(app, customer_client, customer):
    response = post_form(
        customer_client,
        "/account/security/password",
        {"current_password": "not my password", "password": NEW_PASSWORD},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "That password isn&#39;t right" in html and 'href="#current_password"' in html
    assert NEW_PASSWORD not in html and "not my password" not in html
    assert messages_to(customer.email) == []
    sign_in(app.test_client(), customer, TEST_PASSWORD)  # the old password still works


def test_change_password_refuses_a_weak_new_password(customer_client, customer):
    response = post_form(
        customer_client,
        "/account/security/password",
        {"current_password": TEST_PASSWORD, "password": "short"},
    )
    assert response.status_code == 422
    assert "Use at least 8 characters." in response.get_data(as_text=True)


def test_change_email_by_link_to_the_new_address(app, customer_client, customer):
    old_email = customer.email
    response = post_form(
        customer_client,
        "/account/security/email",
        {"email": "New.Address@Example.com", "current_password": TEST_PASSWORD},
    )
    assert response.status_code == 303
    assert fresh(customer).email == old_email  # nothing changes until the link is used
    (message,) = messages_to("new.address@example.com", "confirm_new_email")
    (link,) = links_in(message)
    path = local_path(link)
    assert path.startswith("/account/email/confirm/")

    # Opened on another device, signed out: a page with one button, nothing changed.
    phone = app.test_client()
    page = phone.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "new.address@example.com" in html and "<button" in html
    assert fresh(customer).email == old_email

    switched = post_form(phone, path)
    assert switched.status_code == 303
    assert fresh(customer).email == "new.address@example.com"
    (notice,) = messages_to(old_email, "email_changed_notice")
    assert "new.address@example[.]com" in notice.text_body  # typed: shown so no mail client links it
    for link in links_in(notice):  # (the confirmation link answered 200 above, before its use)
        assert phone.get(local_path(link)).status_code == 200

    # The link works once.
    again = phone.get(path)
    assert again.status_code == 410 and "no longer works" in again.get_data(as_text=True)
    reused = post_form(phone, path, page="/")
    assert reused.status_code == 410 and "no longer works" in reused.get_data(as_text=True)

    # The change ended the other sessions; the new address signs in.
    assert customer_client.get("/account/profile").status_code == 302
    sign_in(app.test_client(), fresh(customer))


def test_change_email_confirmed_in_the_same_browser_stays_signed_in(customer_client, customer):
    post_form(
        customer_client,
        "/account/security/email",
        {"email": "me@new.example", "current_password": TEST_PASSWORD},
    )
    (message,) = messages_to("me@new.example", "confirm_new_email")
    path = local_path(links_in(message)[0])
    response = post_form(customer_client, path)
    assert response.status_code == 303 and response.headers["Location"] == "/account/security"
    page = customer_client.get("/account/security")
    assert page.status_code == 200 and "me@new.example" in page.get_data(as_text=True)


def test_change_email_to_a_taken_address_says_the_same_and_tells_its_owner(
    customer_client, customer, make_customer
):
    taken = make_customer(email="taken@example.com")
    response = post_form(
        customer_client, "/account/security/email", {"email": taken.email, "current_password": TEST_PASSWORD}
    )
    assert response.status_code == 303
    flash = customer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We&#39;ve sent a link to taken@example.com" in flash
    (warning,) = messages_to(taken.email, "email_change_taken")
    assert links_in(warning)
    for link in links_in(warning):
        assert customer_client.application.test_client().get(local_path(link)).status_code == 200
    assert fresh(customer).email == customer.email


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "new@example.com", "current_password": "wrong password"}, "That password isn&#39;t right"),
        ({"email": "not-an-email", "current_password": TEST_PASSWORD}, "Enter an email address like"),
        ({"email": "SAME", "current_password": TEST_PASSWORD}, "That is already your email address"),
    ],
)
def test_change_email_problems_are_422(customer_client, customer, data, message):
    if data["email"] == "SAME":
        data = {**data, "email": customer.email.upper()}
    response = post_form(customer_client, "/account/security/email", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert AccountToken.select().where(AccountToken.user == customer).count() == 0
    assert messages_to("new@example.com") == []


def test_unknown_email_change_link_is_a_clear_410(client):
    response = client.get("/account/email/confirm/not-a-real-secret")
    assert response.status_code == 410
    assert "no longer works" in response.get_data(as_text=True)


def test_sign_out_other_devices(app, customer_client, customer):
    other_device = second_client(app, customer)
    response = post_form(customer_client, "/account/security/sign-out-others", page="/account/security")
    assert response.status_code == 303
    assert customer_client.get("/account/security").status_code == 200
    assert other_device.get("/account/security").status_code == 302
    html = customer_client.get("/account/security").get_data(as_text=True)
    assert "Signed out of other devices" in html


def test_security_page_lists_activity_with_time_device_and_ip(customer_client, customer):
    customer_client.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile"
    post_form(customer_client, "/account/addresses/new", address_data())
    html = customer_client.get("/account/security").get_data(as_text=True)
    assert "Address added" in html and "Chrome on Android" in html and "127.0.0.1" in html
    event = SecurityEvent.get(SecurityEvent.user == customer, SecurityEvent.kind == "address_added")
    assert event.at.strftime("%Y") in html


# Freshness ---------------------------------------------------------------------


def test_sensitive_actions_ask_for_the_password_again_after_15_minutes(app, customer_client, customer):
    other_device = second_client(app, customer)
    make_stale(customer_client)
    response = post_form(customer_client, "/account/security/sign-out-others", page="/account/security")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/confirm-password?next=/account/security"
    assert other_device.get("/account/profile").status_code == 200  # nothing happened

    download = customer_client.get("/account/data.json")
    assert download.status_code == 303
    assert download.headers["Location"] == "/account/confirm-password?next=/account/data"

    page = customer_client.get(download.headers["Location"])
    assert page.status_code == 200 and 'value="/account/data"' in page.get_data(as_text=True)
    wrong = post_form(
        customer_client, "/account/confirm-password", {"password": "nope", "next": "/account/data"}
    )
    assert wrong.status_code == 422
    assert customer_client.get("/account/data.json").status_code == 303

    right = post_form(
        customer_client, "/account/confirm-password", {"password": TEST_PASSWORD, "next": "/account/data"}
    )
    assert right.status_code == 303 and right.headers["Location"] == "/account/data"
    assert customer_client.get("/account/data.json").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "javascript:alert(1)"])
def test_confirm_password_never_redirects_off_site(customer_client, target):
    make_stale(customer_client)
    response = post_form(
        customer_client,
        "/account/confirm-password",
        {"password": TEST_PASSWORD, "next": target},
        page="/account/confirm-password",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"


# Data and deletion ---------------------------------------------------------------


def test_download_my_data(customer_client, customer):
    home = make_address(customer, full_name="Home Person")
    work = make_address(customer, full_name="Work Person")
    User.update(default_shipping=work.id).where(User.id == customer.id).execute()
    response = customer_client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == customer.email
    assert data["account"]["first_name"] == customer.first_name
    by_name = {row["full_name"]: row for row in data["addresses"]}
    assert (
        by_name["Home Person"]["default_billing"] is True
        and by_name["Home Person"]["default_shipping"] is False
    )
    assert by_name["Work Person"]["default_shipping"] is True
    assert home.id and any(event["what"] == "Signed in" for event in data["security_activity"])


def test_delete_account_erases_personal_data_and_signs_out(app, customer_client, customer):
    make_address(customer)
    old_email = customer.email
    wrong = post_form(customer_client, "/account/delete", {"password": "not it"})
    assert wrong.status_code == 422 and "That password isn&#39;t right" in wrong.get_data(as_text=True)
    assert fresh(customer).deleted_at is None

    response = post_form(customer_client, "/account/delete", {"password": TEST_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Your account is deleted" in customer_client.get("/").get_data(as_text=True)
    user = fresh(customer)
    assert user.email == f"deleted-{user.id}@invalid"
    assert (user.first_name, user.last_name, user.phone, user.password_hash) == ("", "", "", None)
    assert user.deleted_at is not None
    assert addresses_of(user) == []
    assert SecurityEvent.select().where(SecurityEvent.user == user).count() == 0
    assert customer_client.get("/account/profile").status_code == 302
    refused = post_form(app.test_client(), "/sign-in", {"email": old_email, "password": TEST_PASSWORD})
    assert refused.status_code == 422
