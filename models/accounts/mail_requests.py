"""Mail anyone can ask for an address, answered by the jobs process: a password-reset link, a
sign-in code and sending that code again (issue 19, 6).

Asking must not tell whether the address has an account, not even by how long the answer takes:
when the request itself looked the address up, made the token and rendered the message, the
answer for an account came 13–17 ms later than for no account, every time. So the request only
writes down what was asked, one `MailRequest` row (and for a sign-in code the ticket that the
"check your inbox" page holds, a token no code opens yet), with the same statements whatever the
address (tests/accounts/test_mail_requests.py compares them). The jobs process answers within
seconds, with mail delivery (jobs/accounts.py `answer_mail_requests`): it looks the address up
and, for an account that may have one (credentials.send_password_reset,
inbox.send_sign_in_code, the per-recipient cap in models/shop/outbox.py), makes the link or
code and queues the message; for any other address it does nothing. Answering deletes the row
in the same transaction, so each request is answered once. A request the jobs process could not
answer within `ANSWER_WITHIN` (it was stopped) is dropped: the code would arrive too late to be
of use, and the customer has asked again by then.
"""

import datetime

from peewee import CharField
from peewee import DateTimeField

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.users.tokens import RESET_PASSWORD
from models.users.tokens import SIGN_IN_CODE

KINDS = (RESET_PASSWORD, SIGN_IN_CODE)
ANSWER_WITHIN = datetime.timedelta(minutes=15)


class MailRequest(BaseModel):
    kind = CharField()  # RESET_PASSWORD or SIGN_IN_CODE
    email = CharField()  # normalized, as typed: it may have no account
    ticket = CharField(null=True)  # a sign-in code's AccountToken id (the "check your inbox" page's)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "mail_request"


def record(kind, email, ticket=None, now=None):
    """Write down one request, inside the caller's write transaction; nothing else. (`now`: naive
    UTC, as the account operations take it.)"""
    if kind not in KINDS:
        raise ValueError(f"unknown mail request {kind!r}")
    MailRequest.create(kind=kind, email=email, ticket=ticket, created_at=now or utcnow())


def waiting(now):
    """The requests to answer at `now` (aware, as jobs take it), oldest first; those too old to
    answer are dropped."""
    requests = list(MailRequest.select().order_by(MailRequest.id))  # no write lock when there are none
    oldest = to_naive_utc(now - ANSWER_WITHIN)
    stale = [request.id for request in requests if request.created_at < oldest]
    if stale:
        with write_transaction():
            MailRequest.delete().where(MailRequest.id.in_(stale)).execute()
    return [request for request in requests if request.created_at >= oldest]


def take(request):
    """Claim `request` for answering inside the caller's write transaction: False if it is gone."""
    return MailRequest.delete().where(MailRequest.id == request.id).execute() == 1
