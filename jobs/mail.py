"""Deliver the outbox over SMTP.

A failure before the message data went out (connection, MAIL, RCPT, the
DATA command) or a 4xx reply to the data is retried with backoff; a 5xx reply
is final (`failed`). Once the data has started to go out and no reply comes
back, we cannot know whether the server kept the message, so the row becomes
`unknown` for the owner to judge: a duplicate email is worse than a late one.
"""

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import parseaddr
from urllib.parse import urlsplit

from models.base import to_naive_utc
from models.shop.outbox import claim
from models.shop.outbox import due_message_ids
from models.shop.outbox import FAILED
from models.shop.outbox import finish
from models.shop.outbox import mark_stuck_as_unknown
from models.shop.outbox import record_retry
from models.shop.outbox import SENT
from models.shop.outbox import UNKNOWN
from models.shop.settings import load_settings

BATCH_SIZE = 20


SECURITY_CHOICES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password: str = ""
    timeout: float = 20.0
    sender: str = ""
    # The host of SHOP_BASE_URL: Message-IDs and the default sender, no-reply@<domain>.
    domain: str = "localhost"

    def __post_init__(self):
        # A typo ("tls", "SSL") must not silently mean "no encryption" and
        # send the password in clear text.
        if self.security not in SECURITY_CHOICES:
            raise ValueError(
                f"SMTP_SECURITY must be one of {', '.join(SECURITY_CHOICES)}, not {self.security!r}"
            )
        if self.sender and "@" not in parseaddr(self.sender)[1]:
            raise ValueError(f"MAIL_FROM is not an email address: {self.sender!r}")

    @classmethod
    def from_app_config(cls, config):
        return cls(
            host=config["SMTP_HOST"],
            port=config["SMTP_PORT"],
            security=config["SMTP_SECURITY"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            timeout=config["SMTP_TIMEOUT"],
            sender=config["MAIL_FROM"],
            domain=urlsplit(config["SHOP_BASE_URL"]).hostname or "localhost",
        )


class BeforeData(Exception):
    """The server never accepted the data: safe to try again."""


class AfterData(Exception):
    """The connection failed while or after sending the data: outcome unknown."""


class Rejected(Exception):
    """The server refused the message for good (5xx)."""


def deliver_due(now, smtp, limit=BATCH_SIZE):
    """Send queued messages whose time has come. Returns how many were sent."""
    mark_stuck_as_unknown(now)
    if not smtp.host:
        return 0
    sent = 0
    for message_id in due_message_ids(now, limit):
        message = claim(message_id, now)
        if message is not None and attempt(message, smtp, now):
            sent += 1
    return sent


def attempt(message, smtp, now):
    if message.expires_at is not None and to_naive_utc(now) >= message.expires_at:
        # "Pay before 11:00 today" arriving after 11:00 (mail was down) would be untrue.
        finish(message, FAILED, now, "not sent: what it says was no longer true when it could go")
        return False
    try:
        transmit(message, smtp, now)
    except BeforeData as error:
        record_retry(message, now, error)
        return False
    except Rejected as error:
        finish(message, FAILED, now, str(error))
        return False
    except AfterData as error:
        finish(message, UNKNOWN, now, f"connection lost after the message was sent: {error}")
        return False
    finish(message, SENT, now)
    return True


def transmit(message, smtp, now):
    """Talk SMTP step by step so we know which side of the data a failure fell on.

    Raises BeforeData (safe to retry), Rejected (final) or AfterData (the
    server may have kept the message).
    """
    try:
        settings = load_settings()
    except Exception as error:
        raise BeforeData(describe(error)) from error
    try:
        email, envelope_sender = compose(message, smtp.sender, settings.shop_name, smtp.domain, now)
        payload = wire_format(email)
    except (ValueError, TypeError, UnicodeError) as error:
        # A header with a line break, an address that is not an address:
        # no retry will ever fix it.
        raise Rejected(f"the message cannot be sent as written: {error}") from error
    client = None
    try:
        try:
            client = open_connection(smtp)
            check(*client.mail(envelope_sender))
            check(*client.rcpt(message.to_address))
            # The DATA command alone: until the server answers 354 and we
            # start sending, it has nothing it could deliver.
            code, reply = client.docmd("DATA")
        except (BeforeData, Rejected):
            raise
        except UnicodeError as error:
            # smtplib speaks ASCII only: an internationalised address needs
            # SMTPUTF8, which we do not use.
            raise Rejected(f"address not deliverable without SMTPUTF8: {error}") from error
        except Exception as error:
            raise BeforeData(describe(error)) from error
        if code != 354:
            check(code, reply)
            raise BeforeData(f"unexpected reply to DATA: {code} {reply!r}")
        try:
            client.send(payload)
            code, reply = client.getreply()
        except Exception as error:
            raise AfterData(describe(error)) from error
        # After the final dot, 4xx and 5xx both mean the server did not take
        # the message: 4xx is retried, 5xx is final.
        check(code, reply)
        if not 200 <= code < 300:
            raise AfterData(f"unexpected reply after the data: {code} {reply!r}")
    finally:
        if client is not None:
            close_quietly(client)


def check(code, reply):
    """Raise for an SMTP error reply: 5xx is final, 4xx is worth another try."""
    if code < 400:
        return
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if code >= 500:
        raise Rejected(f"refused by the mail server: {code} {text}")
    raise BeforeData(f"{code} {text}")


def close_quietly(client):
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def open_connection(smtp):
    if smtp.security == "ssl":
        client = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        client.ehlo_or_helo_if_needed()
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if smtp.username:
            client.login(smtp.username, smtp.password)
    except BaseException:
        client.close()
        raise
    return client


def compose(message, configured_sender, shop_name, domain, now):
    """The email and its envelope sender (the bare address, for MAIL FROM)."""
    if configured_sender:
        name, address = parseaddr(configured_sender)
        sender = Address(display_name=name, addr_spec=address)
    else:
        sender = Address(display_name=shop_name, addr_spec=f"no-reply@{domain}")
    return build_email(message, sender, domain, now), sender.addr_spec


def build_email(message, sender, domain, now):
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender
    email["To"] = message.to_address
    email["Date"] = formatdate(now.timestamp())
    email["Message-ID"] = message.message_id(domain)
    email["Auto-Submitted"] = "auto-generated"
    for name, value in message.extra_headers.items():
        email[name] = value
    email.set_content(message.text_body)
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    return email


def wire_format(email):
    """The DATA payload: CRLF line ends (never bare LF), dot-stuffed, with the final dot.

    smtplib's data() leaves the line ends of bytes alone, so this is done here.
    """
    # Lines up to SMTP's 998: a folded List-Unsubscribe URL would be RFC 2047-encoded, which
    # mail providers don't read as a one-click unsubscribe.
    data = email.as_bytes(policy=email.policy.clone(linesep="\r\n", max_line_length=998))
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def describe(error):
    if isinstance(error, socket.timeout):
        return "timed out"
    return f"{type(error).__name__}: {error}"
