"""The built-in sandbox payment provider: a hosted page where the payer picks the outcome.

For development, demos and tests. It keeps its own tables (sandbox_payment,
sandbox_notification, sandbox_refund) as a real provider keeps its own books,
and talks to the shop only through the provider interface and signed
notifications POSTed to the shop's notification endpoint.

Outcomes the payer can choose on the hosted page:

- approve: paid; the notification goes out at once and the browser returns.
- decline: refused; the notification goes out at once and the browser returns.
- late: the provider takes SANDBOX_LATE_SECONDS to decide (status "pending"
  until then) and its notification waits for the jobs process to deliver it;
  the browser returns at once to a "payment being confirmed" page.
- lost: paid and notified, but the browser never comes back: the page just
  says the window can be closed.

Notifications are JSON bodies signed with HMAC-SHA256 (hex, header
`Sandbox-Signature`); the key is SANDBOX_SECRET, or derived from SECRET_KEY
when that is unset. They are delivered through the app's own WSGI stack (a
test client inside a fresh app context), so the shop's real endpoint with its
real signature check handles them, without the web worker calling itself
over HTTP.
"""

import datetime
import hashlib
import hmac
import json
import logging
import secrets

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from payments.interface import BadNotification
from payments.interface import configured_name
from payments.interface import FAILED
from payments.interface import Notification
from payments.interface import PaymentError
from payments.interface import PENDING
from payments.interface import SUCCEEDED
from payments.interface import UnknownPayment

log = logging.getLogger("shop.payments")

SIGNATURE_HEADER = "Sandbox-Signature"
DEFAULT_LATE_SECONDS = 8
OUTCOMES = ("approve", "decline", "late", "lost")


class SandboxPayment(BaseModel):
    public_id = CharField(unique=True)
    amount = IntegerField()
    currency = CharField(max_length=3)
    reference = CharField()
    idempotency_key = CharField(unique=True)
    return_url = TextField()
    status = CharField(default=PENDING)
    outcome = CharField(default="")
    settles_at = DateTimeField(null=True)
    refunded = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sandbox_payment"


class SandboxNotification(BaseModel):
    payment = ForeignKeyField(SandboxPayment, on_delete="CASCADE", backref="notifications")
    body = TextField()
    deliver_after = DateTimeField(index=True)
    delivered_at = DateTimeField(null=True, index=True)
    attempts = IntegerField(default=0)
    last_status = IntegerField(null=True)

    class Meta:
        table_name = "sandbox_notification"


class SandboxRefund(BaseModel):
    payment = ForeignKeyField(SandboxPayment, on_delete="CASCADE", backref="refunds")
    amount = IntegerField()
    idempotency_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "sandbox_refund"


# Signing --------------------------------------------------------------------


def secret():
    configured = current_app.config.get("SANDBOX_SECRET")
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    return hmac.new(
        str(current_app.config["SECRET_KEY"]).encode(), b"sandbox-notifications", hashlib.sha256
    ).digest()


def sign(body):
    body = body.encode() if isinstance(body, str) else body
    return hmac.new(secret(), body, hashlib.sha256).hexdigest()


# The provider interface -------------------------------------------------------


class SandboxProvider:
    name = "sandbox"
    signature_header = SIGNATURE_HEADER

    @staticmethod
    def configuration_problems(config):
        return []

    @staticmethod
    def mode(config):
        return "sandbox"

    def create_payment(self, amount, currency, reference, idempotency_key, return_url):
        if not isinstance(amount, int) or amount <= 0:
            raise PaymentError("The amount must be a positive number of minor units.")
        payment = SandboxPayment.get_or_none(SandboxPayment.idempotency_key == idempotency_key)
        if payment is None:
            try:
                with write_transaction():
                    payment = SandboxPayment.create(
                        public_id=f"sbx_{secrets.token_urlsafe(12)}",
                        amount=amount,
                        currency=currency,
                        reference=reference,
                        idempotency_key=idempotency_key,
                        return_url=return_url,
                    )
            except IntegrityError:
                payment = SandboxPayment.get(SandboxPayment.idempotency_key == idempotency_key)
        if payment.amount != amount or payment.currency != currency:
            raise PaymentError("That idempotency key was used for a different payment.")
        return payment.public_id, url_for("sandbox.pay", payment_id=payment.public_id)

    def verify_notification(self, body, signature):
        body = body.encode() if isinstance(body, str) else (body or b"")
        if not signature or not hmac.compare_digest(sign(body), str(signature).strip().lower()):
            raise BadNotification("The signature does not match.")
        try:
            data = json.loads(body)
            event = Notification(
                event_id=str(data["id"]),
                provider_payment_id=str(data["payment_id"]),
                status=str(data["status"]),
                amount=data["amount"],
                currency=str(data["currency"]),
            )
        except (ValueError, KeyError, TypeError):
            raise BadNotification("The notification is not readable.") from None
        if event.status not in (SUCCEEDED, FAILED) or not isinstance(event.amount, int):
            raise BadNotification("The notification is not readable.")
        return event

    def get_status(self, provider_payment_id, now=None):
        payment = _payment(provider_payment_id)
        return _settle(payment, now or utcnow()).status

    def refund(self, provider_payment_id, amount, idempotency_key):
        with write_transaction():
            earlier = SandboxRefund.get_or_none(SandboxRefund.idempotency_key == idempotency_key)
            if earlier is not None:
                return f"sbx_refund_{earlier.id}"
            payment = _payment(provider_payment_id)
            if payment.status != SUCCEEDED:
                raise PaymentError("Only a paid payment can be refunded.")
            if not isinstance(amount, int) or amount <= 0 or amount > payment.amount - payment.refunded:
                raise PaymentError("That is more than is left to refund on this payment.")
            refund = SandboxRefund.create(payment=payment, amount=amount, idempotency_key=idempotency_key)
            SandboxPayment.update(refunded=SandboxPayment.refunded + amount).where(
                SandboxPayment.id == payment.id
            ).execute()
        return f"sbx_refund_{refund.id}"


def _payment(provider_payment_id):
    payment = SandboxPayment.get_or_none(SandboxPayment.public_id == str(provider_payment_id))
    if payment is None:
        raise UnknownPayment(f"No sandbox payment {provider_payment_id!r}.")
    return payment


def _settle(payment, now):
    """A "late" payment is decided once its time has come."""
    if payment.status == PENDING and payment.outcome == "late" and payment.settles_at <= now:
        with write_transaction():
            SandboxPayment.update(status=SUCCEEDED).where(
                (SandboxPayment.id == payment.id) & (SandboxPayment.status == PENDING)
            ).execute()
        payment = SandboxPayment.get_by_id(payment.id)
    return payment


def choose(payment, outcome, now=None):
    """The payer's choice on the hosted page; the first choice stands. Returns the payment."""
    if outcome not in OUTCOMES:
        raise PaymentError("Choose one of the offered outcomes.")
    now = now or utcnow()
    with write_transaction():
        changed = (
            SandboxPayment.update(
                outcome=outcome,
                status={"approve": SUCCEEDED, "lost": SUCCEEDED, "decline": FAILED}.get(outcome, PENDING),
                settles_at=now + datetime.timedelta(seconds=late_seconds()) if outcome == "late" else None,
            )
            .where((SandboxPayment.id == payment.id) & (SandboxPayment.outcome == ""))
            .execute()
        )
        payment = SandboxPayment.get_by_id(payment.id)
        if changed:
            status = FAILED if outcome == "decline" else SUCCEEDED
            SandboxNotification.create(
                payment=payment,
                body=json.dumps(
                    {
                        "id": f"evt_{secrets.token_urlsafe(9)}",
                        "payment_id": payment.public_id,
                        "status": status,
                        "amount": payment.amount,
                        "currency": payment.currency,
                        "reference": payment.reference,
                    }
                ),
                deliver_after=payment.settles_at or now,
            )
    return payment


def late_seconds():
    return int(current_app.config.get("SANDBOX_LATE_SECONDS", DEFAULT_LATE_SECONDS))


# Delivering notifications ------------------------------------------------------


def deliver_due_notifications(now=None):
    """POST every notification whose time has come to the shop; returns how many were accepted.

    Runs on the jobs tick (late notifications) and right after the payer's
    choice (the others). A notification the shop refuses is retried on later
    ticks, at most 10 times.
    """
    now = now or utcnow()
    due = list(
        SandboxNotification.select()
        .where(
            SandboxNotification.delivered_at.is_null()
            & (SandboxNotification.deliver_after <= now)
            & (SandboxNotification.attempts < 10)
        )
        .order_by(SandboxNotification.id)
    )
    accepted = 0
    for notification in due:
        _settle(notification.payment, now)
        status = _post_to_shop(notification.body)
        with write_transaction():
            SandboxNotification.update(
                attempts=SandboxNotification.attempts + 1,
                last_status=status,
                delivered_at=now if status < 300 else None,
            ).where(SandboxNotification.id == notification.id).execute()
        accepted += status < 300
    return accepted


def _post_to_shop(body):
    app = current_app._get_current_object()
    path = app.url_map.bind("localhost").build("funds.provider_notification", {"provider_name": "sandbox"})
    # A fresh app context: the inner request gets its own `g`, so it neither
    # reuses nor closes the connection of the request (or job) that delivers.
    with app.app_context():
        response = app.test_client().post(
            path,
            data=body,
            headers={SIGNATURE_HEADER: sign(body)},
            content_type="application/json",
        )
    if response.status_code >= 300:
        log.warning("sandbox notification refused with %s: %s", response.status_code, body)
    return response.status_code


# The hosted page -------------------------------------------------------------

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")


@bp.before_request
def only_when_enabled():
    """Where a real provider is configured, nobody can approve a payment with play money."""
    if configured_name() != "sandbox":
        abort(404)


@bp.get("/pay/<payment_id>")
def pay(payment_id):
    payment = SandboxPayment.get_or_none(SandboxPayment.public_id == payment_id)
    if payment is None:
        abort(404)
    return render_template("sandbox/pay.html", payment=payment)


@bp.post("/pay/<payment_id>")
def decide(payment_id):
    payment = SandboxPayment.get_or_none(SandboxPayment.public_id == payment_id)
    if payment is None:
        abort(404)
    outcome = request.form.get("outcome", "")
    if outcome not in OUTCOMES:
        return render_template("sandbox/pay.html", payment=payment, error=True), 422
    payment = choose(payment, outcome)
    deliver_due_notifications()
    if payment.outcome == "lost":
        return redirect(url_for("sandbox.pay", payment_id=payment.public_id), 303)
    return redirect(payment.return_url, 303)
