"""Sign-in by emailed code, password reset, throttling and the purge of unconfirmed accounts."""

import datetime
import re

import time_machine

from jobs.tick import tick
from models.accounts.administration import create_user
from models.accounts.registration import purge_expired_drafts
from models.accounts.registration import purge_unconfirmed_accounts
from models.accounts.registration import RegistrationDraft
from models.accounts.registration import start_draft
from models.base import utcnow
from models.funds.top_ups import TopUp
from models.shop.outbox import OutboxMessage
from models.shop.throttle import ThrottleCounter
from models.users.user import User
from tests.conftest import post_form
from tests.conftest import run_mail_requests
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD


def mails_to(address):
    return list(OutboxMessage.select().where(OutboxMessage.to_address == address).order_by(OutboxMessage.id))


def link_path(message, prefix):
    return re.search(r"http://shop\.test(" + re.escape(prefix) + r"[^\s]+)", message.text_body).group(1)


def later(**delta):
    return time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(**delta))


# Sign-in by code -----------------------------------------------------------


def test_sign_in_code_for_a_known_and_an_unknown_address_look_the_same(app, customer):
    known, unknown = app.test_client(), app.test_client()
    a = post_form(known, "/sign-in/code", {"email": customer.email})
    run_mail_requests(app)
    b = post_form(unknown, "/sign-in/code", {"email": "nobody@example.com"})
    run_mail_requests(app)
    assert a.status_code == b.status_code == 303
    assert a.headers["Location"] == b.headers["Location"] == "/check-inbox"
    page_a = known.get("/check-inbox").get_data(as_text=True).replace(customer.email, "E")
    page_b = unknown.get("/check-inbox").get_data(as_text=True).replace("nobody@example.com", "E")
    strip = re.compile(r'(value="|"X-CSRFToken": ")[^"]+"')
    assert strip.sub("", page_a) == strip.sub("", page_b)
    assert mails_to("nobody@example.com") == []
    assert len(mails_to(customer.email)) == 1


def test_sign_in_code_signs_in(app, client, customer):
    post_form(client, "/sign-in/code", {"email": customer.email})
    run_mail_requests(app)
    code = re.search(r"^(\d{6})$", mails_to(customer.email)[-1].text_body, re.M).group(1)
    response = post_form(client, "/check-inbox", {"code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"
    assert "Signed in as" in client.get("/account/").get_data(as_text=True)
    again = post_form(client, "/check-inbox", {"code": code}, page="/")
    assert again.status_code == 404  # the ticket is gone once used


def test_sign_in_code_is_refused_for_a_blocked_customer(app, client, customer):
    User.update(blocked_at=utcnow()).where(User.id == customer.id).execute()
    post_form(client, "/sign-in/code", {"email": customer.email})
    run_mail_requests(app)
    assert mails_to(customer.email) == []


# Password reset -------------------------------------------------------------


def test_reset_request_says_the_same_for_known_and_unknown(app, customer):
    known, unknown = app.test_client(), app.test_client()
    a = post_form(known, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    b = post_form(unknown, "/forgot-password", {"email": "nobody@example.com"})
    run_mail_requests(app)
    assert a.status_code == b.status_code == 303
    assert a.headers["Location"] == b.headers["Location"]
    strip = re.compile(r'(value="|"X-CSRFToken": ")[^"]+"')
    page_a = known.get(a.headers["Location"]).get_data(as_text=True)
    page_b = unknown.get(b.headers["Location"]).get_data(as_text=True)
    assert strip.sub("", page_a) == strip.sub("", page_b)
    assert len(mails_to(customer.email)) == 1 and mails_to("nobody@example.com") == []


def test_reset_link_single_use_no_auto_sign_in_and_notice(app, customer):
    browser = app.test_client()
    post_form(browser, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    path = link_path(mails_to(customer.email)[-1], "/reset-password/")
    assert browser.get(path).status_code == 200
    assert User.get_by_id(customer.id).password_hash == customer.password_hash  # GET changed nothing
    response = post_form(browser, path, {"password": "a fresh password here"})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"
    assert "Signed in as" not in browser.get("/account/").get_data(as_text=True)
    notice = mails_to(customer.email)[-1]
    assert notice.kind == "password_changed"
    assert browser.get(path).status_code == 410
    assert (
        post_form(
            browser, "/sign-in", {"email": customer.email, "password": "a fresh password here"}
        ).status_code
        == 303
    )


def test_reset_link_expires_after_an_hour(app, customer):
    browser = app.test_client()
    post_form(browser, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    path = link_path(mails_to(customer.email)[-1], "/reset-password/")
    with later(minutes=61):
        assert browser.get(path).status_code == 410


def test_a_newer_reset_link_retires_the_older(app, customer):
    browser = app.test_client()
    post_form(browser, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    first = link_path(mails_to(customer.email)[-1], "/reset-password/")
    post_form(browser, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    assert browser.get(first).status_code == 410


def test_reset_ends_existing_sessions(app, customer, client):

    sign_in(client, customer)
    other = app.test_client()
    post_form(other, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    path = link_path(mails_to(customer.email)[-1], "/reset-password/")
    post_form(other, path, {"password": "a fresh password here"})
    assert "Signed in as" not in client.get("/account/").get_data(as_text=True)


def test_reset_rejects_weak_passwords_with_422(app, customer):
    browser = app.test_client()
    post_form(browser, "/forgot-password", {"email": customer.email})
    run_mail_requests(app)
    path = link_path(mails_to(customer.email)[-1], "/reset-password/")
    response = post_form(browser, path, {"password": "qwertyuiop"})
    assert response.status_code == 422 and "too common" in response.get_data(as_text=True)


def test_tampered_reset_links_are_refused(client):
    for secret in ("x", "a" * 43, "a" * 500):
        assert client.get(f"/reset-password/{secret}").status_code == 410


# Throttling ----------------------------------------------------------------


def test_sign_in_failures_slow_down_with_retry_after(client, customer):
    for _ in range(3):
        assert (
            post_form(client, "/sign-in", {"email": customer.email, "password": "wrong pass"}).status_code
            == 422
        )
    limited = post_form(client, "/sign-in", {"email": customer.email, "password": TEST_PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert "wait" in limited.get_data(as_text=True)
    with later(seconds=3):
        assert (
            post_form(client, "/sign-in", {"email": customer.email, "password": TEST_PASSWORD}).status_code
            == 303
        )


def test_throttle_is_shared_across_workers_through_the_database(app, customer):
    for _ in range(3):
        post_form(app.test_client(), "/sign-in", {"email": customer.email, "password": "wrong pass"})
    assert ThrottleCounter.select().count() >= 2
    limited = post_form(app.test_client(), "/sign-in", {"email": customer.email, "password": TEST_PASSWORD})
    assert limited.status_code == 429


def test_success_clears_the_address_and_account_counter(client, customer):
    for _ in range(2):
        post_form(client, "/sign-in", {"email": customer.email, "password": "wrong pass"})
    assert (
        post_form(client, "/sign-in", {"email": customer.email, "password": TEST_PASSWORD}).status_code == 303
    )
    remembered = ThrottleCounter.select().where(ThrottleCounter.key.contains(customer.email))
    # The account's counter over every address stays: a success from one address must not wipe
    # out what guesses from others have added up.
    assert [row.key for row in remembered] == [f"sign-in:any:{customer.email}"]


def test_one_attacked_account_does_not_lock_out_the_customer_elsewhere(app, customer):
    attacker = app.test_client()
    for _ in range(5):
        post_form(
            attacker,
            "/sign-in",
            {"email": customer.email, "password": "wrong pass"},
            environ_base={"REMOTE_ADDR": "203.0.113.66"},
        )
    customer_browser = app.test_client()
    response = post_form(
        customer_browser,
        "/sign-in",
        {"email": customer.email, "password": TEST_PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 303


# Reset mails are capped per recipient, not throttled: tests/accounts/test_mail_caps.py.


# Purge jobs -----------------------------------------------------------------


def test_purge_removes_only_old_unconfirmed_self_registrations(app):
    now = utcnow()
    old = now - datetime.timedelta(days=8)
    stale = create_user("stale@example.com", "a password here", confirmed=False, created_at=old)
    create_user(
        "recent@example.com", "a password here", confirmed=False, created_at=now - datetime.timedelta(days=2)
    )
    create_user("confirmed@example.com", "a password here", created_at=old)
    create_user("by-owner@example.com", None, confirmed=False, source="owner", created_at=old)
    removed = purge_unconfirmed_accounts(datetime.datetime.now(datetime.UTC).replace(tzinfo=None))
    assert removed == 1
    assert User.get_or_none(User.id == stale.id) is None
    assert {u.email for u in User.select()} >= {
        "recent@example.com",
        "confirmed@example.com",
        "by-owner@example.com",
    }


def test_purge_keeps_accounts_that_started_a_top_up(app):

    kept = create_user(
        "kept@example.com",
        "a password here",
        confirmed=False,
        created_at=utcnow() - datetime.timedelta(days=9),
    )
    TopUp.create(user=kept, amount=1000, currency="EUR", idempotency_key=f"{kept.id}:kept")
    assert purge_unconfirmed_accounts(utcnow()) == 0


def test_expired_drafts_are_purged(app):
    start_draft(now=utcnow() - datetime.timedelta(hours=25))
    start_draft()
    purge_expired_drafts(utcnow())
    assert RegistrationDraft.select().count() == 1


def test_the_tick_runs_account_housekeeping(app):

    old = utcnow() - datetime.timedelta(days=8)
    create_user("abandoned@example.com", "a password here", confirmed=False, created_at=old)
    start_draft(now=utcnow() - datetime.timedelta(hours=30))
    tick(datetime.datetime.now(datetime.UTC))
    assert User.by_email("abandoned@example.com") is None
    assert RegistrationDraft.select().count() == 0
