"""Sessions live on the server: a copied cookie is worth nothing once its session has ended."""

import datetime

import time_machine

from models.base import utcnow
from models.users.sessions import forget_old_sessions
from models.users.sessions import UserSession
from models.users.user import OWNER
from models.users.user import STAFF
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD

ACCOUNT = "/account/"
NEW_PASSWORD = "a much longer new passphrase 42"


def signed_in(client):
    return client.get("/account/security").status_code == 200


def copy_cookies(source, target):
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def browser_signed_in_as(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def test_a_copied_cookie_is_refused_once_its_browser_signed_out(app, customer):
    browser = browser_signed_in_as(app, customer)
    thief = app.test_client()
    copy_cookies(browser, thief)
    assert signed_in(thief)  # the copy works while the session is open…

    post_form(browser, "/sign-out", page=ACCOUNT)

    assert not signed_in(browser)
    assert not signed_in(thief)  # …and not after it was signed out


def test_signing_out_ends_only_that_browsers_session(app, customer):
    phone, laptop = browser_signed_in_as(app, customer), browser_signed_in_as(app, customer)

    post_form(phone, "/sign-out", page=ACCOUNT)

    assert not signed_in(phone)
    assert signed_in(laptop)


def test_signing_out_other_devices_keeps_this_one(app, customer):
    phone, laptop = browser_signed_in_as(app, customer), browser_signed_in_as(app, customer)
    stolen = app.test_client()
    copy_cookies(laptop, stolen)

    response = post_form(laptop, "/account/security/sign-out-others", page="/account/security")

    assert response.status_code == 303
    assert signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(stolen)  # the old cookie of this very browser is not kept alive either


def test_a_password_change_ends_the_other_sessions(app, customer):
    phone, laptop = browser_signed_in_as(app, customer), browser_signed_in_as(app, customer)

    response = post_form(
        laptop,
        "/account/security/password",
        {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD},
    )

    assert response.status_code == 303, response.get_data(as_text=True)
    assert signed_in(laptop)
    assert not signed_in(phone)


def test_a_paused_account_is_signed_out_everywhere(app, customer, make_user):
    browser = browser_signed_in_as(app, customer)
    owner = browser_signed_in_as(app, make_user(OWNER))

    post_form(owner, f"/admin/customers/{customer.id}/block", page=f"/admin/customers/{customer.id}")

    assert not signed_in(browser)


def test_a_customers_session_ends_after_30_idle_days_or_90_days_in_all(app, customer):
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser = browser_signed_in_as(app, customer)
    with time_machine.travel(start + datetime.timedelta(days=29), tick=False):
        assert signed_in(browser)  # used: idle time starts again
    with time_machine.travel(start + datetime.timedelta(days=58), tick=False):
        assert signed_in(browser)
    with time_machine.travel(start + datetime.timedelta(days=87), tick=False):
        assert signed_in(browser)
    with time_machine.travel(start + datetime.timedelta(days=91), tick=False):
        assert not signed_in(browser)  # used every month, but 90 days is the most a session lasts

    with time_machine.travel(start, tick=False):
        idle = browser_signed_in_as(app, customer)
    with time_machine.travel(start + datetime.timedelta(days=31), tick=False):
        assert not signed_in(idle)


def test_staff_sessions_end_after_12_idle_hours(app, make_user):
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser = browser_signed_in_as(app, make_user(STAFF))
    with time_machine.travel(start + datetime.timedelta(hours=11), tick=False):
        assert browser.get("/admin/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=23, minutes=30), tick=False):
        assert browser.get("/admin/").status_code == 302  # 12 h 30 without use: sign in again


def test_limits_are_settings(app, customer):
    app.config["SESSION_IDLE"] = datetime.timedelta(hours=1)
    start = utcnow()
    with time_machine.travel(start, tick=False):
        browser = browser_signed_in_as(app, customer)
    with time_machine.travel(start + datetime.timedelta(hours=2), tick=False):
        assert not signed_in(browser)


def test_the_security_page_lists_open_sessions_with_device_and_last_use(app, customer):
    phone = app.test_client()
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    sign_in(phone, customer)
    laptop = app.test_client()
    laptop.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    )
    sign_in(laptop, customer)
    ended = browser_signed_in_as(app, customer)
    post_form(ended, "/sign-out", page=ACCOUNT)

    page = laptop.get("/account/security").get_data(as_text=True)

    listed = page.split("Where you're signed in")[1].split("</ul>")[0]
    assert listed.count("<li>") == 2  # the signed-out one is gone
    assert "iPhone" in listed and "Firefox" in listed
    assert listed.count("This device") == 1
    assert "Last used" in listed
    assert "30 days without use" in page


def test_old_sessions_are_forgotten(app, customer):
    browser = browser_signed_in_as(app, customer)
    post_form(browser, "/sign-out", page=ACCOUNT)
    browser_signed_in_as(app, customer)

    forget_old_sessions(utcnow() + datetime.timedelta(days=31))

    assert UserSession.select().count() == 1  # the open one stays


def test_signing_in_again_ends_the_browsers_old_session(app, customer):
    browser = browser_signed_in_as(app, customer)
    copy = app.test_client()
    copy_cookies(browser, copy)

    # The sign-in form of a tab opened before, sent while signed in.
    response = post_form(
        browser, "/sign-in", {"email": customer.email, "password": TEST_PASSWORD}, page="/account/security"
    )

    assert response.status_code == 303
    assert signed_in(browser)
    assert not signed_in(copy)
