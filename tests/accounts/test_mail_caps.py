"""Mail anyone can cause to an address that is not theirs is capped per recipient (issue 19, 5).

Registration, its confirmation and "send again", sign-in codes, password resets and email changes
count together (models/shop/outbox.UNASKED_LIMITS: 5 an hour, 10 a day), whatever the asker's IP
address; past the cap nothing is sent, the answer reads the same, and the link or code sent last
keeps working. Mail the recipient's own actions cause is never capped.
"""

import datetime
import itertools
import re

import time_machine

from models.accounts.credentials import change_password
from models.accounts.credentials import request_email_change
from models.shop.outbox import OutboxMessage
from models.shop.outbox import UNASKED_LIMITS
from tests.accounts.test_register import code_in
from tests.accounts.test_register import register
from tests.conftest import post_form
from tests.conftest import run_mail_requests
from tests.conftest import TEST_PASSWORD

PER_HOUR, PER_DAY = (cap for _, cap in UNASKED_LIMITS)
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def stranger():
    """A request from an address of its own, so no IP throttle gets in the way."""
    return {"environ_base": {"REMOTE_ADDR": next(_addresses)}}


def mails_to(address, kind=None):
    query = OutboxMessage.select().where(OutboxMessage.to_address == address)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(query.order_by(OutboxMessage.id))


def ask_reset(app, address):
    response = post_form(app.test_client(), "/forgot-password", {"email": address}, **stranger())
    assert response.status_code == 303 and response.headers["Location"] == "/forgot-password/sent"
    run_mail_requests(app)


def later(**delta):
    return time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(**delta))


def test_registering_a_known_address_again_and_again_mails_it_only_a_few_times(app, make_customer):
    customer = make_customer(email="taken@example.com")
    pages = [register(app.test_client(), email=customer.email).status_code for _ in range(PER_HOUR + 3)]
    assert pages == [200] * (PER_HOUR + 3)  # every registration answers the same
    assert len(mails_to(customer.email, "already_registered")) == PER_HOUR


def test_reset_mails_are_capped_per_address_and_the_last_link_keeps_working(app, customer):
    for _ in range(PER_HOUR + 2):
        ask_reset(app, customer.email)
    sent = mails_to(customer.email, "reset_password")
    assert len(sent) == PER_HOUR
    path = re.search(r"http://shop\.test(/reset-password/\S+)", sent[-1].text_body).group(1)
    assert app.test_client().get(path).status_code == 200


def test_every_unasked_kind_counts_together_by_the_hour_and_by_the_day(app, customer):
    for _ in range(2):
        post_form(app.test_client(), "/sign-in/code", {"email": customer.email}, **stranger())
        run_mail_requests(app)
    register(app.test_client(), email=customer.email)
    for _ in range(PER_HOUR):
        ask_reset(app, customer.email)
    assert len(mails_to(customer.email)) == PER_HOUR  # 2 codes, 1 "already registered", 2 resets
    with later(hours=1, minutes=1):
        for _ in range(PER_HOUR):
            ask_reset(app, customer.email)
        assert len(mails_to(customer.email)) == PER_DAY
    with later(hours=2, minutes=2):
        ask_reset(app, customer.email)
        assert len(mails_to(customer.email)) == PER_DAY  # the day's cap
    with later(hours=25):
        ask_reset(app, customer.email)
        assert len(mails_to(customer.email)) == PER_DAY + 1


def test_a_capped_resend_sends_nothing_and_the_last_code_still_confirms(app, client):
    register(client, email="ana@example.com")
    for minutes in range(2, 2 * (PER_HOUR + 2), 2):
        with later(minutes=minutes):
            assert post_form(client, "/check-inbox/resend", page="/check-inbox").status_code == 303
    sent = mails_to("ana@example.com", "confirm_email")
    assert len(sent) == PER_HOUR
    with later(minutes=2 * (PER_HOUR + 2)):
        response = post_form(client, "/check-inbox", {"code": code_in(sent[-1])})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"


def test_an_email_change_to_someone_elses_address_is_capped(app, make_customer):
    victim = "victim@example.com"
    with app.app_context():
        for _ in range(PER_HOUR + 2):
            assert request_email_change(make_customer(), TEST_PASSWORD, victim) == "sent"
    assert len(mails_to(victim, "confirm_new_email")) == PER_HOUR


def test_mail_the_recipient_caused_is_never_capped(app, customer):
    for _ in range(PER_HOUR):
        ask_reset(app, customer.email)
    with app.test_request_context():
        for n in range(2):
            assert change_password(
                customer, TEST_PASSWORD if n == 0 else "a new long password 1", f"a new long password {n + 1}"
            )
    assert len(mails_to(customer.email, "password_changed")) == 2
