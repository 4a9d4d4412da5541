"""The mail outbox: messages are written here in the transaction that causes them.

Web requests never talk to SMTP. The jobs process delivers queued rows
(see `jobs/mail.py`). States: queued -> sending -> sent | failed | unknown.

Secrets. The code that queues a message names the secrets in it (a sign-in link's token, a
code) and they are kept with the row (`secrets`). The owner's pages mask them while a mail
server is configured (`shown`), and once delivery is over (sent, failed for good, or unknown:
a message that carried a secret is never sent again, the customer asks for a new one) the
subject and both bodies lose them in the transaction that records that state, so neither the
database nor a later backup keeps a live one (SQLite zeroes what is overwritten: `secure_delete`
in models/base.py). Without a mail server nothing is delivered and the owner's outbox is how the
messages are read (development, the demo), so they stay whole there, under a banner that says so.

Unasked messages. A few messages anyone can make the shop send to an address that is not theirs:
registration and its confirmation, sign-in codes, password resets, an email change to someone
else's address, and sending those again. They are queued with `unasked=True`, and at most
`UNASKED_LIMITS` of them go to one address (`may_send_unasked`), counted here, in the table every
worker and the jobs process share, whatever caused them.
"""

import datetime
import json
import uuid

from markupsafe import escape
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
UNKNOWN = "unknown"
STATES = (QUEUED, SENDING, SENT, FAILED, UNKNOWN)

MAX_ATTEMPTS = 8

MASK = "••••••"  # a secret on the owner's pages while a mail server is configured
REMOVED = "[removed]"  # a secret once delivery is over
# Shorter values could be found anywhere in a message: a secret is a token or a 6-digit code.
SHORTEST_SECRET = 6

# At most this many unasked messages to one address in any such period (a person who asks again
# and again still gets a few; a stranger can't fill someone's inbox).
UNASKED_LIMITS = ((datetime.timedelta(hours=1), 5), (datetime.timedelta(days=1), 10))


class OutboxMessage(BaseModel):
    kind = CharField(index=True)
    to_address = CharField()
    subject = CharField()
    text_body = TextField()
    html_body = TextField(default="")
    state = CharField(default=QUEUED, index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow, index=True)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    sending_since = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)
    uid = CharField(unique=True, default=lambda: uuid.uuid4().hex)
    headers = TextField(default="")  # JSON {name: value}: extra headers such as List-Unsubscribe
    expires_at = DateTimeField(null=True)  # not delivered after this (a reminder's deadline)
    # JSON list of the secrets in the subject and bodies; emptied when they are erased.
    secrets = TextField(default="")
    carried_secrets = BooleanField(default=False)  # stays True after the erasure: never sent again
    unasked = BooleanField(default=False)  # anyone could have caused it: counts towards UNASKED_LIMITS

    class Meta:
        table_name = "outbox_message"
        indexes = ((("to_address", "created_at"), False),)

    @property
    def extra_headers(self):
        return json.loads(self.headers) if self.headers else {}

    @property
    def secret_values(self):
        return json.loads(self.secrets) if self.secrets else []

    def shown(self, text, masked):
        """`text` (the subject or the text body) as the owner's pages show it: its secrets masked
        when `masked` (a mail server is configured)."""
        return _replace_secrets(text, self.secret_values, MASK) if masked else text

    def message_id(self, domain):
        """The same Message-ID on every attempt, so a resend is recognisable."""
        return f"<{self.uid}@{domain}>"


def send_mail(
    to, subject, text, html="", kind="general", headers=None, expires_at=None, secrets=(), unasked=False
):
    """Queue one message. Call it inside the transaction of the event that causes it.

    `secrets`: the values in it that let someone act as the recipient (a sign-in link's token,
    a code); each must appear in the text. `unasked`: anyone could have caused it, so it is not
    queued (None) once the address had its share (`may_send_unasked`); callers ask that first,
    before they make a link or code for it.
    """
    secrets = [secret for secret in secrets if secret]
    for secret in secrets:
        if len(secret) < SHORTEST_SECRET or secret not in text:
            raise ValueError(f"{kind}: a secret must be in the text and at least {SHORTEST_SECRET} long")
    if unasked and not may_send_unasked(to):
        return None
    return OutboxMessage.create(
        expires_at=expires_at,
        kind=kind,
        to_address=to,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=json.dumps(headers) if headers else "",
        secrets=json.dumps(secrets) if secrets else "",
        carried_secrets=bool(secrets),
        unasked=unasked,
    )


def may_send_unasked(to):
    """Whether one more unasked message may go to `to` (UNASKED_LIMITS, counted in the outbox).

    Ask it inside the write transaction that queues the message: on SQLite that transaction
    holds the write lock, so two requests can't both take the last place. Rows are dated by
    the clock when they are written, so this counts by the clock too.
    """
    now = utcnow()
    longest = max(period for period, _ in UNASKED_LIMITS)
    sent_at = [
        row.created_at
        for row in OutboxMessage.select(OutboxMessage.created_at).where(
            (OutboxMessage.to_address == to)
            & (OutboxMessage.unasked == True)  # noqa: E712
            & (OutboxMessage.created_at > now - longest)
        )
    ]
    return all(sum(1 for at in sent_at if at > now - period) < cap for period, cap in UNASKED_LIMITS)


def _replace_secrets(text, secrets, replacement):
    # The longest first, so a secret inside another is never left half-replaced.
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, replacement).replace(str(escape(secret)), replacement)
    return text


def _erased(message):
    """The changes that take a finished message's secrets out of it (none if it had none)."""
    secrets = message.secret_values
    if not secrets:
        return {}
    return {
        OutboxMessage.subject: _replace_secrets(message.subject, secrets, REMOVED),
        OutboxMessage.text_body: _replace_secrets(message.text_body, secrets, REMOVED),
        OutboxMessage.html_body: _replace_secrets(message.html_body, secrets, REMOVED),
        OutboxMessage.secrets: "",
    }


def retry_delay(attempts):
    """Backoff after the n-th failed attempt: 30 s, 1 min, 2 min … capped at 1 hour."""
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def counts_by_state():
    rows = OutboxMessage.select(OutboxMessage.state, fn.COUNT(OutboxMessage.id).alias("n")).group_by(
        OutboxMessage.state
    )
    counts = dict.fromkeys(STATES, 0)
    counts.update({row.state: row.n for row in rows})
    return counts


def send_again(message, actor=None):
    """The owner decided an `unknown` message never arrived: queue it once more.

    Returns whether it was queued (False if it is not `unknown`, e.g. someone
    already sent it again, or if it carried a secret: that was erased, and a sign-in
    link or code is for the customer to ask for again, never to be resent by the shop).
    """
    with write_transaction():
        changed = (
            OutboxMessage.update(state=QUEUED, next_attempt_at=utcnow(), last_error="")
            .where(
                (OutboxMessage.id == message.id)
                & (OutboxMessage.state == UNKNOWN)
                & (OutboxMessage.carried_secrets == False)  # noqa: E712
            )
            .execute()
        )
        if changed:
            audit(
                actor,
                "mail_sent_again",
                f"message {message.id} to {message.to_address}",
                before={"state": UNKNOWN},
                after={"state": QUEUED},
            )
    return changed == 1


# A row still `sending` this long after it was claimed belongs to a delivery
# that died mid-way (killed process): its outcome is unknown.
STUCK_AFTER = datetime.timedelta(minutes=5)


def due_message_ids(now, limit):
    query = (
        OutboxMessage.select(OutboxMessage.id)
        .where((OutboxMessage.state == QUEUED) & (OutboxMessage.next_attempt_at <= to_naive_utc(now)))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    return [row.id for row in query]


def claim(message_id, now):
    """Move one row from queued to sending; None if someone else took it."""
    with write_transaction():
        changed = (
            OutboxMessage.update(state=SENDING, sending_since=to_naive_utc(now))
            .where((OutboxMessage.id == message_id) & (OutboxMessage.state == QUEUED))
            .execute()
        )
    return OutboxMessage.get_by_id(message_id) if changed else None


def record_retry(message, now, error):
    attempts = message.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        finish(message, FAILED, now, f"gave up after {attempts} attempts: {error}")
        return
    with write_transaction():
        OutboxMessage.update(
            state=QUEUED,
            attempts=attempts,
            next_attempt_at=to_naive_utc(now + retry_delay(attempts)),
            last_error=str(error),
            sending_since=None,
        ).where(OutboxMessage.id == message.id).execute()


def finish(message, state, now, error=""):
    """Record how delivery ended: sent, failed for good or unknown. Each is the end for a
    message that carries secrets, so they are erased in the same statement."""
    with write_transaction():
        OutboxMessage.update(
            {
                OutboxMessage.state: state,
                OutboxMessage.attempts: message.attempts + 1,
                OutboxMessage.sent_at: to_naive_utc(now) if state == SENT else None,
                OutboxMessage.last_error: error,
                OutboxMessage.sending_since: None,
                **_erased(message),
            }
        ).where(OutboxMessage.id == message.id).execute()


def mark_stuck_as_unknown(now):
    stuck = (OutboxMessage.state == SENDING) & (OutboxMessage.sending_since < to_naive_utc(now - STUCK_AFTER))
    interrupted = "delivery was interrupted; it may or may not have arrived"
    with write_transaction():
        for message in OutboxMessage.select().where(stuck & (OutboxMessage.secrets != "")):
            OutboxMessage.update(
                {OutboxMessage.state: UNKNOWN, OutboxMessage.last_error: interrupted, **_erased(message)}
            ).where(OutboxMessage.id == message.id).execute()
        OutboxMessage.update(state=UNKNOWN, last_error=interrupted).where(stuck).execute()
