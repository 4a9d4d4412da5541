"""The mail outbox: messages are written here in the transaction that causes them.

Web requests never talk to SMTP. The jobs process delivers queued rows
(see `jobs/mail.py`). States: queued -> sending -> sent | failed | unknown.
"""

import datetime
import json
import uuid

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

    class Meta:
        table_name = "outbox_message"

    @property
    def extra_headers(self):
        return json.loads(self.headers) if self.headers else {}

    def message_id(self, domain):
        """The same Message-ID on every attempt, so a resend is recognisable."""
        return f"<{self.uid}@{domain}>"


def send_mail(to, subject, text, html="", kind="general", headers=None, expires_at=None):
    """Queue one message. Call it inside the transaction of the event that causes it."""
    return OutboxMessage.create(
        expires_at=expires_at,
        kind=kind,
        to_address=to,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=json.dumps(headers) if headers else "",
    )


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
    already sent it again).
    """
    with write_transaction():
        changed = (
            OutboxMessage.update(state=QUEUED, next_attempt_at=utcnow(), last_error="")
            .where((OutboxMessage.id == message.id) & (OutboxMessage.state == UNKNOWN))
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
    with write_transaction():
        OutboxMessage.update(
            state=state,
            attempts=message.attempts + 1,
            sent_at=to_naive_utc(now) if state == SENT else None,
            last_error=error,
            sending_since=None,
        ).where(OutboxMessage.id == message.id).execute()


def mark_stuck_as_unknown(now):
    with write_transaction():
        OutboxMessage.update(
            state=UNKNOWN, last_error="delivery was interrupted; it may or may not have arrived"
        ).where(
            (OutboxMessage.state == SENDING) & (OutboxMessage.sending_since < to_naive_utc(now - STUCK_AFTER))
        ).execute()
