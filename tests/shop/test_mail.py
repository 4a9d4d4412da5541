"""The outbox and its delivery over real SMTP (aiosmtpd on a loopback port)."""

import datetime
import re
import socket
import threading
from types import SimpleNamespace

import pytest

from jobs.mail import deliver_due
from jobs.mail import SmtpConfig
from models.base import as_aware_utc
from models.base import bind_database
from models.base import db
from models.base import to_naive_utc
from models.base import write_transaction
from models.operations.migrate import runner
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.mail import text_to_paragraphs
from models.shop.mail import unlinkable
from models.shop.outbox import FAILED
from models.shop.outbox import MAX_ATTEMPTS
from models.shop.outbox import OutboxMessage
from models.shop.outbox import QUEUED
from models.shop.outbox import retry_delay
from models.shop.outbox import send_again
from models.shop.outbox import send_mail
from models.shop.outbox import SENDING
from models.shop.outbox import SENT
from models.shop.outbox import STUCK_AFTER
from models.shop.outbox import UNKNOWN
from models.shop.settings import update_settings
from models.users.sessions import open_session
from tests.conftest import post_form
from tests.mailserver import free_port
from tests.mailserver import Recorder
from tests.mailserver import running_smtp

DOMAIN = "shop.test"  # the host of the test shop's base URL, http://shop.test

TEXT = "Hello Ada,\n\nyour order 1042 is on its way.\n.\nA line that starts with a dot, above.\n"
HTML = "<p>Hello Ada,</p>\n<p>your order <b>1042</b> is on its way.</p>\n" + "<p>More news.</p>\n" * 80


def utc_now():
    return datetime.datetime.now(datetime.UTC)


def smtp_config(port, **fields):
    return SmtpConfig(host="127.0.0.1", port=port, security="none", **{"domain": DOMAIN, **fields})


def reload(message):
    return OutboxMessage.get_by_id(message.id)


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def smtp_port(recorder):
    with running_smtp(recorder) as port:
        yield port


def queue(to="ada@example.com", subject="Your order 1042", text=TEXT, html="", **fields):
    with write_transaction():
        return send_mail(to, subject, text, html=html, **fields)


# --- the outbox ---------------------------------------------------------------


def test_send_mail_only_writes_a_queued_row(app, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("send_mail must not talk to the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    message = queue(kind="order_shipped")

    row = reload(message)
    assert row.state == QUEUED
    assert row.attempts == 0
    assert row.kind == "order_shipped"
    assert row.to_address == "ada@example.com"
    assert row.text_body == TEXT
    assert row.sent_at is None


def test_send_mail_is_part_of_the_callers_transaction(app):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), write_transaction():
        send_mail("ada@example.com", "Rolled back", "never sent")
        assert OutboxMessage.select().count() == 1
        raise Boom

    assert OutboxMessage.select().count() == 0


def test_message_id_is_fixed_per_row(app):
    first, second = queue(), queue()
    assert reload(first).message_id(DOMAIN) == first.message_id(DOMAIN) == f"<{first.uid}@{DOMAIN}>"
    assert first.message_id(DOMAIN) != second.message_id(DOMAIN)


# --- a real SMTP round trip ---------------------------------------------------


def test_round_trip_delivers_text_and_html_with_a_stable_message_id(app, recorder, smtp_port):
    message = queue(html=HTML)
    now = utc_now()

    assert deliver_due(now, smtp_config(smtp_port)) == 1

    (received,) = recorder.wait_for(1)
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.mail_from == f"no-reply@{DOMAIN}"
    email = received.message
    assert email["Subject"] == "Your order 1042"
    assert email["To"] == "ada@example.com"
    assert email["From"].addresses[0].display_name == "Test Shop"
    assert email["Message-ID"] == message.message_id(DOMAIN)
    assert email.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT
    assert email.get_body(("html",)).get_content().replace("\r\n", "\n") == HTML
    # Every line ends in CRLF on the wire (RFC 5321); bare LFs get mail refused.
    assert b"\n" not in received.raw.replace(b"\r\n", b"")

    row = reload(message)
    assert row.state == SENT
    assert row.attempts == 1
    assert row.sent_at == to_naive_utc(now)
    assert row.last_error == ""


def test_text_only_message_has_no_html_part(app, recorder, smtp_port):
    queue()
    deliver_due(utc_now(), smtp_config(smtp_port))

    (received,) = recorder.wait_for(1)
    assert received.message.get_body(("html",)) is None
    assert not received.message.is_multipart()


def test_configured_sender_is_used(app, recorder, smtp_port):
    queue()
    deliver_due(utc_now(), smtp_config(smtp_port, sender="Orders <orders@shop.test>"))

    (received,) = recorder.wait_for(1)
    assert received.mail_from == "orders@shop.test"
    assert received.message["From"].addresses[0].display_name == "Orders"


def test_shop_name_with_a_comma_still_gives_a_valid_sender(app, recorder, smtp_port):
    update_settings({"shop_name": "Smith, Sons & Co."})
    message = queue()
    deliver_due(utc_now(), smtp_config(smtp_port))

    assert reload(message).state == SENT
    (received,) = recorder.wait_for(1)
    assert received.mail_from == f"no-reply@{DOMAIN}"
    (sender,) = received.message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Smith, Sons & Co.", f"no-reply@{DOMAIN}")


def test_without_an_smtp_host_messages_stay_queued(app):
    message = queue()
    assert deliver_due(utc_now() + datetime.timedelta(days=1), SmtpConfig(host="")) == 0
    row = reload(message)
    assert (row.state, row.attempts, row.last_error) == (QUEUED, 0, "")


# --- failures before the data was accepted: retried ---------------------------


def test_server_down_is_retried_after_the_backoff(app, recorder):
    port = free_port()  # nobody listens here yet
    message = queue()
    now = utc_now()

    assert deliver_due(now, smtp_config(port, timeout=2)) == 0

    row = reload(message)
    assert row.state == QUEUED
    assert row.attempts == 1
    assert row.next_attempt_at == to_naive_utc(now + retry_delay(1))
    assert as_aware_utc(row.next_attempt_at) > now
    assert row.last_error

    with running_smtp(recorder, port=port):
        early = now + retry_delay(1) - datetime.timedelta(seconds=1)
        assert deliver_due(early, smtp_config(port)) == 0
        assert recorder.received == [] and recorder.mail_commands == 0
        assert reload(message).state == QUEUED

        assert deliver_due(now + retry_delay(1), smtp_config(port)) == 1
        assert deliver_due(now + datetime.timedelta(hours=1), smtp_config(port)) == 0
        assert len(recorder.wait_for(1)) == 1

    row = reload(message)
    assert row.state == SENT
    assert row.attempts == 2


def test_temporary_refusal_of_the_recipient_is_retried(app, smtp_port, recorder):
    recorder.rcpt_reply = "451 4.3.0 try again later"
    message = queue()
    now = utc_now()

    deliver_due(now, smtp_config(smtp_port))

    row = reload(message)
    assert (row.state, row.attempts) == (QUEUED, 1)
    assert "451" in row.last_error
    assert row.next_attempt_at == to_naive_utc(now + retry_delay(1))
    assert recorder.received == []


def test_temporary_refusal_of_the_data_is_retried_with_the_same_message_id(app, smtp_port, recorder):
    recorder.data_reply = "451 4.7.1 greylisted, try later"
    message = queue()
    now = utc_now()

    deliver_due(now, smtp_config(smtp_port))
    row = reload(message)
    assert (row.state, row.attempts) == (QUEUED, 1)
    assert "451" in row.last_error

    recorder.data_reply = None
    deliver_due(now + retry_delay(1), smtp_config(smtp_port))

    assert reload(message).state == SENT
    refused, accepted = recorder.wait_for(2)
    assert refused.message["Message-ID"] == accepted.message["Message-ID"] == message.message_id(DOMAIN)


def test_gives_up_after_max_attempts(app):
    port = free_port()
    message = queue()
    now = utc_now()

    for attempt in range(1, MAX_ATTEMPTS):
        deliver_due(now, smtp_config(port))
        row = reload(message)
        assert (row.state, row.attempts) == (QUEUED, attempt)
        now = as_aware_utc(row.next_attempt_at)

    deliver_due(now, smtp_config(port))

    row = reload(message)
    assert (row.state, row.attempts) == (FAILED, MAX_ATTEMPTS)
    assert f"gave up after {MAX_ATTEMPTS} attempts" in row.last_error
    assert deliver_due(now + datetime.timedelta(days=1), smtp_config(port)) == 0
    assert reload(message).attempts == MAX_ATTEMPTS


def test_retry_delay_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 5)] == [30, 60, 120, 240]
    assert retry_delay(MAX_ATTEMPTS + 20) == datetime.timedelta(hours=1)


# --- permanent refusals: failed -----------------------------------------------


def test_permanent_refusal_of_the_recipient_fails(app, smtp_port, recorder):
    recorder.rcpt_reply = "550 5.1.1 no such mailbox"
    message = queue()

    deliver_due(utc_now(), smtp_config(smtp_port))

    row = reload(message)
    assert (row.state, row.attempts) == (FAILED, 1)
    assert "550" in row.last_error
    assert deliver_due(utc_now() + datetime.timedelta(days=1), smtp_config(smtp_port)) == 0
    assert recorder.received == []


def test_permanent_refusal_of_the_data_fails(app, smtp_port, recorder):
    recorder.data_reply = "554 5.7.1 message refused"
    message = queue()

    deliver_due(utc_now(), smtp_config(smtp_port))

    row = reload(message)
    assert row.state == FAILED
    assert "554" in row.last_error
    assert row.sent_at is None


def test_a_message_that_cannot_be_built_fails_without_holding_up_the_others(app, smtp_port, recorder):
    broken = queue(to="ada@example.com\r\nBcc: everyone@example.com")
    good = queue(to="bob@example.com")

    assert deliver_due(utc_now(), smtp_config(smtp_port)) == 1

    assert reload(broken).state == FAILED
    assert reload(broken).last_error
    assert reload(good).state == SENT
    (received,) = recorder.wait_for(1)
    assert received.rcpt_tos == ["bob@example.com"]


# --- outcome unknown: never retried blindly -----------------------------------


def test_timeout_after_the_data_was_sent_is_unknown_and_not_resent(app, smtp_port, recorder):
    recorder.data_delay = 3.0  # longer than the client's timeout below
    message = queue()
    config = smtp_config(smtp_port, timeout=0.5)
    now = utc_now()

    assert deliver_due(now, config) == 0

    row = reload(message)
    assert row.state == UNKNOWN
    assert row.last_error
    assert recorder.mail_commands == 1

    recorder.data_delay = 0
    for later in (datetime.timedelta(minutes=1), STUCK_AFTER * 2, datetime.timedelta(days=2)):
        assert deliver_due(now + later, config) == 0
    assert reload(message).state == UNKNOWN
    assert recorder.mail_commands == 1

    # The owner checked with the customer: it never arrived. Send it again.
    assert send_again(reload(message)) is True
    assert reload(message).state == QUEUED
    assert send_again(reload(message)) is False  # a second click queues nothing more
    assert deliver_due(utc_now() + datetime.timedelta(seconds=1), config) == 1

    assert reload(message).state == SENT
    first, second = recorder.wait_for(2)
    assert first.message["Message-ID"] == second.message["Message-ID"] == message.message_id(DOMAIN)


def test_send_again_only_touches_unknown_messages(app):
    sent = queue()
    OutboxMessage.update(state=SENT).where(OutboxMessage.id == sent.id).execute()
    assert send_again(sent) is False
    assert reload(sent).state == SENT


def mark_sending(message, since):
    OutboxMessage.update(state=SENDING, sending_since=to_naive_utc(since)).where(
        OutboxMessage.id == message.id
    ).execute()


def test_a_delivery_stuck_in_sending_becomes_unknown(app):
    now = utc_now()
    stuck = queue()
    recent = queue()
    mark_sending(stuck, now - STUCK_AFTER - datetime.timedelta(seconds=1))
    mark_sending(recent, now - STUCK_AFTER + datetime.timedelta(seconds=5))

    deliver_due(now, SmtpConfig(host=""))

    assert reload(stuck).state == UNKNOWN
    assert reload(stuck).last_error
    assert reload(recent).state == SENDING


def test_unknown_security_setting_is_refused():
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        SmtpConfig(host="mail.example.com", security="tls")


def test_no_answer_to_the_data_command_is_retried(app):
    """Silence after "DATA" but before "354": the server has no message yet, so retrying is safe."""
    commands = []

    def serve(listener):
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 smtp.test ready\r\n")
            for line in lines:
                commands.append(line.split()[0].upper())
                if commands[-1] != b"DATA":  # never answer DATA; wait for the client to hang up
                    connection.sendall(b"250 OK\r\n")

    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=serve, args=(listener,), daemon=True)
        server.start()
        message = queue()
        deliver_due(utc_now(), smtp_config(listener.getsockname()[1], timeout=0.3))
        server.join(5)

    row = reload(message)
    assert (row.state, row.attempts) == (QUEUED, 1)
    assert commands[-3:] == [b"MAIL", b"RCPT", b"DATA"]


# --- secrets: hidden from the owner, erased once delivery is over (issue 19, 2) ----------

SECRET = "Zx9_live-sign-in-token-0123456789abcdefghij"
CODE = "482915"


def queue_with_secrets(**fields):
    text = f"Hello Ada,\n\nYour code is\n\n{CODE}\n\nor use http://shop.test/reset-password/{SECRET}\n"
    html = f'<p>Your code is {CODE}</p><p><a href="http://shop.test/reset-password/{SECRET}">link</a></p>'
    return queue(subject=f"Your code is {CODE}", text=text, html=html, secrets=[SECRET, CODE], **fields)


def assert_erased(message):
    row = reload(message)
    stored = row.subject + row.text_body + row.html_body + row.secrets
    assert SECRET not in stored and CODE not in stored
    assert "[removed]" in row.text_body and row.carried_secrets
    return row


def test_a_delivered_message_loses_its_secrets_after_the_customer_got_them(app, recorder, smtp_port):
    message = queue_with_secrets()
    assert deliver_due(utc_now(), smtp_config(smtp_port)) == 1
    (received,) = recorder.wait_for(1)
    assert CODE in received.message["Subject"]
    assert SECRET in received.message.get_body(("plain",)).get_content()
    assert SECRET in received.message.get_body(("html",)).get_content()
    assert assert_erased(message).state == SENT


def test_a_refused_message_loses_its_secrets(app, recorder, smtp_port):
    recorder.rcpt_reply = "550 5.1.1 no such mailbox"
    message = queue_with_secrets()
    deliver_due(utc_now(), smtp_config(smtp_port))
    assert assert_erased(message).state == FAILED


def test_a_message_given_up_on_loses_its_secrets(app):
    port = free_port()  # nobody listens: every attempt fails before the data
    message = queue_with_secrets()
    now = utc_now()
    for _ in range(1, MAX_ATTEMPTS):
        deliver_due(now, smtp_config(port))
        assert SECRET in reload(message).text_body  # still waiting to go: kept
        now = as_aware_utc(reload(message).next_attempt_at)
    deliver_due(now, smtp_config(port))
    assert assert_erased(message).state == FAILED


def test_a_message_that_expired_unsent_loses_its_secrets(app, smtp_port, recorder):
    message = queue_with_secrets(expires_at=to_naive_utc(utc_now() - datetime.timedelta(minutes=1)))
    deliver_due(utc_now(), smtp_config(smtp_port))
    assert assert_erased(message).state == FAILED
    assert recorder.received == []


def test_an_unknown_message_with_secrets_loses_them_and_is_never_sent_again(app, smtp_port, recorder):
    recorder.data_delay = 3.0
    message = queue_with_secrets()
    deliver_due(utc_now(), smtp_config(smtp_port, timeout=0.5))
    assert assert_erased(message).state == UNKNOWN
    # A sign-in link or code is for the customer to ask for again, not for the shop to resend.
    assert send_again(reload(message)) is False
    assert reload(message).state == UNKNOWN


def test_a_stuck_message_with_secrets_loses_them(app):
    now = utc_now()
    message = queue_with_secrets()
    plain = queue()
    mark_sending(message, now - STUCK_AFTER - datetime.timedelta(seconds=1))
    mark_sending(plain, now - STUCK_AFTER - datetime.timedelta(seconds=1))
    deliver_due(now, SmtpConfig(host=""))
    assert assert_erased(message).state == UNKNOWN
    assert reload(plain).state == UNKNOWN and reload(plain).text_body == TEXT


def test_without_a_mail_server_secrets_stay_whole(app):
    message = queue_with_secrets()
    deliver_due(utc_now() + datetime.timedelta(days=3), SmtpConfig(host=""))
    row = reload(message)
    assert row.state == QUEUED and SECRET in row.text_body and CODE in row.subject


def test_a_secret_must_be_in_the_message(app):
    with pytest.raises(ValueError, match="secret"):
        queue(text="No link here.\n", secrets=[SECRET])
    with pytest.raises(ValueError, match="secret"):
        queue(text="Code 42\n", secrets=["42"])  # too short to find safely


@pytest.mark.sqlite_only(reason="reads the SQLite file's bytes")
def test_an_erased_secret_is_gone_from_the_database_file(app, database_path, recorder, smtp_port):
    """What a backup copies: the pages as they are, free space included (secure_delete)."""

    def file_bytes():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(path.read_bytes() for path in database_path.parent.glob(database_path.name + "*"))

    assert db.execute_sql("PRAGMA secure_delete").fetchone()[0] == 1  # not every SQLite build's default
    queue_with_secrets()
    assert SECRET.encode() in file_bytes()
    deliver_due(utc_now(), smtp_config(smtp_port))
    recorder.wait_for(1)
    assert SECRET.encode() not in file_bytes()


def owner_page(app, owner, path):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = open_session(owner)
        session["_fresh"] = True
    return client.get(path).get_data(as_text=True)


def test_with_a_mail_server_the_owner_never_sees_a_secret(app, owner):
    message = queue_with_secrets()
    app.config["SMTP_HOST"] = "mail.test"
    for path in ("/admin/outbox", f"/admin/outbox/{message.id}"):
        html = owner_page(app, owner, path)
        assert SECRET not in html and CODE not in html
        assert "No mail server is configured" not in html
    detail = owner_page(app, owner, f"/admin/outbox/{message.id}")
    assert "http://shop.test/reset-password/••••••" in detail
    assert "Hidden here, and removed from the message once it is delivered." in detail


def test_without_a_mail_server_the_owner_reads_them_under_a_banner(app, owner):
    message = queue_with_secrets()
    for path in ("/admin/outbox", f"/admin/outbox/{message.id}"):
        html = owner_page(app, owner, path)
        assert CODE in html
        assert "No mail server is configured" in html
    assert SECRET in owner_page(app, owner, f"/admin/outbox/{message.id}")


def test_the_owner_cannot_send_again_an_unknown_message_with_secrets(app, owner_client):
    message = queue_with_secrets()
    OutboxMessage.update(state=UNKNOWN).where(OutboxMessage.id == message.id).execute()
    page = owner_client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "Send it again" not in page and "is not sent again" in page
    response = post_form(
        owner_client, f"/admin/outbox/{message.id}/send-again", page=f"/admin/outbox/{message.id}"
    )
    assert response.status_code == 303
    assert reload(message).state == UNKNOWN
    assert "is not sent again" in owner_client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.sqlite_only(reason="writes rows between migrations")
def test_migration_0025_finds_the_secrets_of_messages_queued_before_it(tmp_path):
    bind_database(f"sqlite:///{tmp_path / 'upgrade.sqlite3'}")
    old_rows = {
        "sent": ("reset_password", "sent", f"Reset: http://shop.test/reset-password/{SECRET}\n"),
        "queued": ("sign_in_code", "queued", f"Your code is\n\n{CODE}\n"),
        "order": ("order_paid", "sent", "Order 123456 is paid: http://shop.test/account/orders/4\n"),
    }
    with db.connection_context():
        names = [migration.name for migration in runner().status()]
        runner().up(names[names.index("0025_outbox_secrets") - 1])
        for uid, (kind, state, text) in old_rows.items():
            db.execute_sql(
                "INSERT INTO outbox_message (kind, to_address, subject, text_body, html_body, state, attempts,"
                " next_attempt_at, last_error, created_at, uid, headers)"
                " VALUES (?, 'ada@example.com', ?, ?, ?, ?, 0, '2026-01-01', '', '2026-01-01', ?, '')",
                (kind, text.splitlines()[0], text, f"<p>{text}</p>", state, uid),
            )
        runner().up()
        rows = {row.uid: row for row in OutboxMessage.select()}
    assert SECRET not in rows["sent"].text_body + rows["sent"].html_body and rows["sent"].carried_secrets
    assert rows["sent"].text_body == "Reset: http://shop.test/reset-password/[removed]\n"
    assert rows["queued"].secret_values == [CODE] and CODE in rows["queued"].text_body
    assert rows["order"].text_body == old_rows["order"][2] and not rows["order"].carried_secrets


# --- only the shop's own links are links (issue 19, 5) ----------------------------------------


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Win 500 EUR: https://evil.example/claim", "Win 500 EUR: https[:]//evil[.]example/claim"),
        ("www.evil.co.uk/x", "www[.]evil[.]co[.]uk/x"),
        ("ana.lima@mail.example", "ana.lima@mail[.]example"),
        ("ftp://10.0.0.1/file", "ftp[:]//10.0.0.1/file"),
        ("J.R.R. Tolkien", "J.R.R. Tolkien"),
        ("Smith & Sons Ltd.", "Smith & Sons Ltd."),
        ("e.g. 2.5 kg, €1,234.56", "e.g. 2.5 kg, €1,234.56"),
        ("Zoë O'Brien-Łukasz", "Zoë O'Brien-Łukasz"),
    ],
)
def test_typed_text_is_written_so_no_mail_client_links_it(typed, shown):
    assert unlinkable(typed) == shown


def test_only_urls_under_the_shops_address_become_links_in_html(app):
    text = (
        "Pay: http://shop.test/pay/abc.\n\n"
        "Not ours: https://evil.example/claim, http://shop.test.evil.example/x, "
        "http://shop.test@evil.example/x, http://shop.testing/x"
    )
    with app.app_context():
        html = "".join(text_to_paragraphs(text))
    assert re.findall(r'href="([^"]+)"', html) == ["http://shop.test/pay/abc"]
    assert "https://evil.example/claim" in html  # shown as text, not a link


def test_email_templates_show_typed_values_unlinkable_and_the_shops_own_as_they_are(app):
    with app.app_context(), write_transaction():
        update_settings({"contact_email": "hello@shop.example"})
        message = send_templated(
            "ada@example.com",
            "set_password",
            "Your account is ready",
            "set_password",
            user=SimpleNamespace(first_name="see https://evil.example"),
            link=absolute_url("auth.sign_in"),
        )
    assert "Hello see https[:]//evil[.]example," in message.text_body
    assert "http://shop.test/sign-in" in message.text_body  # a ShopWords link, as it is
    assert "hello@shop.example" in message.text_body  # the Settings: the shop's own words
    assert re.findall(r'href="(http[^"]+)"', message.html_body) == ["http://shop.test/sign-in"]


def test_typed_text_cannot_pose_as_a_block_of_the_html_part(app):
    """The characters that mark a template's buttons, codes and lists never come from typing."""
    with app.app_context(), write_transaction():
        message = send_templated(
            "ada@example.com",
            "set_password",
            "Your account is ready",
            "set_password",
            user=SimpleNamespace(first_name="\ue0000\ue001Ada"),
            link=absolute_url("auth.sign_in"),
        )
    assert "Hello 0Ada," in message.text_body  # the marks gone, the rest as typed
    assert "\ue000" not in message.text_body + message.html_body
    assert message.html_body.count('href="http://shop.test/sign-in"') == 1
