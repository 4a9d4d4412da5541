"""Asking for a reset link or a sign-in code takes the same work for any address (issue 19, 6).

The request writes one row the same way whatever the address; the jobs process answers it with
mail delivery (models/accounts/mail_requests.py, jobs/accounts.py). bench/mail_request_bench.py
prints the timings; here the statements themselves are compared.
"""

import datetime
import logging
import re
from contextlib import contextmanager

import pytest
import time_machine

from jobs.accounts import answer_mail_requests
from jobs.mail import SmtpConfig
from jobs.scheduler import mail_work
from models.accounts import credentials
from models.accounts.mail_requests import ANSWER_WITHIN
from models.accounts.mail_requests import MailRequest
from models.shop.outbox import OutboxMessage
from models.users.tokens import AccountToken
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import run_mail_requests

UNKNOWN = "nobody@example.com"


@contextmanager
def statements():
    """Every SQL statement Peewee runs meanwhile, without its parameters."""
    seen = []

    class Collect(logging.Handler):
        def emit(self, record):
            seen.append(record.msg[0] if isinstance(record.msg, tuple) else record.getMessage())

    logger, handler = logging.getLogger("peewee"), Collect(level=logging.DEBUG)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def asked(client, path, email):
    """The statements of one POST of `path` for `email` (its page, for the CSRF token, fetched first)."""
    token = csrf_token(client, path)
    with statements() as seen:
        response = client.post(path, data={"email": email, "csrf_token": token})
    assert response.status_code == 303
    return seen


@pytest.mark.parametrize("path", ["/forgot-password", "/sign-in/code"])
def test_a_known_and_an_unknown_address_run_the_same_statements(app, customer, path):
    asked(
        app.test_client(), path, "warm-up@example.com"
    )  # first-use work (settings, counters) out of the way
    known = asked(app.test_client(), path, customer.email)
    unknown = asked(app.test_client(), path, UNKNOWN)
    assert known == unknown
    assert known, "no statement seen: the capture is broken"
    # Not even a lookup that both would run alike: the request never reads the accounts.
    assert not [sql for sql in known if re.search(r'\bFROM "user"', sql)], known


def test_sending_a_code_again_runs_the_same_statements_for_either_address(app, customer):
    tickets = {}
    for email in (customer.email, UNKNOWN):
        client = app.test_client()
        post_form(client, "/sign-in/code", {"email": email})
        run_mail_requests(app)
        tickets[email] = client
    seen = {}
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)):
        for email, client in tickets.items():
            token = csrf_token(client, "/check-inbox")
            with statements() as seen[email]:
                response = client.post("/check-inbox/resend", data={"csrf_token": token})
            assert response.status_code == 303
    assert seen[customer.email] == seen[UNKNOWN]
    assert not [sql for sql in seen[UNKNOWN] if re.search(r'\bFROM "user"', sql)]


def test_the_request_only_writes_it_down_and_the_jobs_process_makes_the_link(app, customer):
    post_form(app.test_client(), "/forgot-password", {"email": customer.email.upper()})
    assert AccountToken.select().count() == 0 and OutboxMessage.select().count() == 0
    (request,) = MailRequest.select()
    assert (request.kind, request.email) == ("reset_password", customer.email)
    run_mail_requests(app)
    assert MailRequest.select().count() == 0
    (message,) = OutboxMessage.select()
    assert message.kind == "reset_password" and message.to_address == customer.email
    run_mail_requests(app)
    assert OutboxMessage.select().count() == 1  # answered once


def test_the_code_page_takes_the_code_once_it_arrives(app, client, customer):
    post_form(client, "/sign-in/code", {"email": customer.email})
    early = post_form(client, "/check-inbox", {"code": "123456"})
    assert early.status_code == 422  # no code opens the ticket yet
    run_mail_requests(app)
    (message,) = OutboxMessage.select().where(OutboxMessage.kind == "sign_in_code")
    code = re.search(r"^(\d{6})$", message.text_body, re.M).group(1)
    response = post_form(client, "/check-inbox", {"code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"


def test_a_new_code_replaces_the_old_one_on_the_same_page(app, client, customer):
    post_form(client, "/sign-in/code", {"email": customer.email})
    run_mail_requests(app)
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)):
        assert post_form(client, "/check-inbox/resend", page="/check-inbox").status_code == 303
        run_mail_requests(app)
        first, second = (
            re.search(r"^(\d{6})$", message.text_body, re.M).group(1)
            for message in OutboxMessage.select()
            .where(OutboxMessage.kind == "sign_in_code")
            .order_by(OutboxMessage.id)
        )
        if first != second:
            assert post_form(client, "/check-inbox", {"code": first}).status_code == 422
        response = post_form(client, "/check-inbox", {"code": second})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"


def test_an_unknown_or_paused_address_gets_nothing_and_no_code_opens_its_page(app, make_customer):
    paused = make_customer()
    paused.blocked_at = datetime.datetime(2026, 1, 1)
    paused.save()
    for email in (UNKNOWN, paused.email):
        client = app.test_client()
        post_form(client, "/sign-in/code", {"email": email})
        run_mail_requests(app)
        assert OutboxMessage.select().where(OutboxMessage.to_address == email).count() == 0
        (ticket,) = AccountToken.select().where(AccountToken.email == email)
        assert ticket.user_id is None and ticket.code_hash is None
    assert MailRequest.select().count() == 0


def test_a_request_the_jobs_process_could_not_answer_in_time_is_dropped(app, customer):
    post_form(app.test_client(), "/forgot-password", {"email": customer.email})
    late = datetime.datetime.now(datetime.UTC) + ANSWER_WITHIN + datetime.timedelta(minutes=1)
    with app.app_context():
        answer_mail_requests(late)
    assert MailRequest.select().count() == 0 and OutboxMessage.select().count() == 0


def test_a_failing_answer_is_left_for_the_next_run_and_holds_up_no_other(
    app, customer, make_customer, monkeypatch
):
    other = make_customer()
    for email in (customer.email, other.email):
        post_form(app.test_client(), "/forgot-password", {"email": email})
    real = credentials.send_password_reset

    def broken_for_the_customer(email, now=None):
        if email == customer.email:
            raise RuntimeError("a bug")
        return real(email, now)

    monkeypatch.setattr("jobs.accounts.send_password_reset", broken_for_the_customer)
    run_mail_requests(app)
    assert [m.to_address for m in OutboxMessage.select()] == [other.email]
    assert [r.email for r in MailRequest.select()] == [customer.email]
    monkeypatch.setattr("jobs.accounts.send_password_reset", real)
    run_mail_requests(app)
    assert OutboxMessage.select().where(OutboxMessage.to_address == customer.email).count() == 1


def test_the_schedulers_mail_job_answers_requests_before_delivering(app, customer):
    post_form(app.test_client(), "/forgot-password", {"email": customer.email})
    with app.app_context():
        mail_work(datetime.datetime.now(datetime.UTC), SmtpConfig(host=""))
    assert OutboxMessage.select().where(OutboxMessage.kind == "reset_password").count() == 1
