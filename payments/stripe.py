"""Stripe: card payments through PaymentIntents, confirmed in the browser with Stripe.js.

Card data never reaches the shop: the pay page (this module's blueprint) mounts Stripe's card
element and calls `confirmCardPayment`, which also runs 3-D Secure when the bank asks for it,
then sends the payer back to the shop's return page. What decides is never the browser: the
return page and the reconciliation job ask Stripe (`get_status`), and Stripe's signed webhooks
(`verify_notification`) tell the shop the outcome.

Every POST to Stripe carries the Idempotency-Key the shop derives from the business operation
(`top-up:<id>`, `order-payment:<id>`, a refund's journal key), so a retry after a crash can
never create a second charge or refund.

Configuration (the app refuses to start without it, see `check_configuration`):
STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET; for tests and local trials
STRIPE_API_BASE and STRIPE_JS_URL point the SDK, Stripe.js and the Content-Security-Policy at a
fake server (refused together with live keys).
"""

from urllib.parse import urlsplit

import stripe
from flask import abort
from flask import Blueprint
from flask import current_app
from flask import redirect
from flask import render_template
from flask import url_for
from itsdangerous import BadData

from models.signing import serializer
from payments.interface import BadNotification
from payments.interface import configured_name
from payments.interface import FAILED
from payments.interface import Notification
from payments.interface import PaymentError
from payments.interface import PENDING
from payments.interface import SUCCEEDED
from payments.interface import UnknownPayment

STRIPE_JS_URL = "https://js.stripe.com/v3/"
# https://docs.stripe.com/security/guide#content-security-policy (card element, 3-D Secure).
DOCUMENTED_SOURCES = {
    "script-src": ("https://js.stripe.com",),
    "frame-src": ("https://js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
}
TIMEOUT_SECONDS = 20  # a Stripe call that hangs must not hold a web worker for ever
PAY_TOKEN_SALT = "stripe-pay-page"  # noqa: S105 - a salt that names the token's use, not a secret

# What a PaymentIntent's status means for the shop. `requires_payment_method` is both "not tried
# yet" and "the last try failed"; only its last_payment_error tells them apart.
STATUS_OF = {"succeeded": SUCCEEDED, "canceled": FAILED}
EVENT_STATUS = {
    "payment_intent.succeeded": SUCCEEDED,
    "payment_intent.payment_failed": FAILED,
    "payment_intent.canceled": FAILED,
}


def mode(config):
    """'live' or 'test', from the secret key."""
    return "live" if config.get("STRIPE_SECRET_KEY", "").startswith(("sk_live_", "rk_live_")) else "test"


def check_configuration(config):
    """The reasons the Stripe settings are not usable (empty when they are)."""
    problems = [
        f"{name} is not set."
        for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
        if not config.get(name)
    ]
    if problems:
        return problems
    secret, publishable = config["STRIPE_SECRET_KEY"], config["STRIPE_PUBLISHABLE_KEY"]
    if not secret.startswith(("sk_", "rk_")) or not publishable.startswith("pk_"):
        return ["STRIPE_SECRET_KEY must start with sk_ (or rk_) and STRIPE_PUBLISHABLE_KEY with pk_."]
    live = mode(config) == "live"
    if live != publishable.startswith("pk_live_"):
        return ["The secret and publishable keys are not both live or both test keys."]
    if not config["STRIPE_WEBHOOK_SECRET"].startswith("whsec_"):
        problems.append("STRIPE_WEBHOOK_SECRET must start with whsec_ (Stripe shows it with the endpoint).")
    if live and not config.get("SHOP_BASE_URL", "").startswith("https://"):
        problems.append("Live Stripe keys need SHOP_BASE_URL to be an https:// address.")
    if live and (config.get("STRIPE_API_BASE") or config.get("STRIPE_JS_URL")):
        problems.append("STRIPE_API_BASE and STRIPE_JS_URL point at a fake Stripe: never with live keys.")
    return problems


def content_security_sources(config):
    """The origins the pay page needs, per directive: Stripe's own, or the fake server's."""
    if not (config.get("STRIPE_JS_URL") or config.get("STRIPE_API_BASE")):
        return DOCUMENTED_SOURCES
    origins = {_origin(config.get(name)) for name in ("STRIPE_JS_URL", "STRIPE_API_BASE")} - {""}
    return {directive: tuple(sorted(origins)) for directive in DOCUMENTED_SOURCES}


def _origin(url):
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def _client():
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=0,  # the shop retries with the same Idempotency-Key (reconciliation)
    ).v1


class StripeProvider:
    name = "stripe"
    signature_header = "Stripe-Signature"
    configuration_problems = staticmethod(check_configuration)
    mode = staticmethod(mode)

    def create_payment(self, amount, currency, reference, idempotency_key, return_url):
        if not isinstance(amount, int) or amount <= 0:
            raise PaymentError("The amount must be a positive number of minor units.")
        intent = _call(
            _client().payment_intents.create,
            params={
                "amount": amount,
                "currency": currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {"reference": reference},
            },
            options={"idempotency_key": idempotency_key},
        )
        if intent.amount != amount or intent.currency.upper() != currency.upper():
            raise PaymentError("That idempotency key was used for a different payment.")
        token = _pay_token_signer().dumps([intent.id, return_url])
        return intent.id, url_for("stripe.pay", token=token)

    def verify_notification(self, body, signature):
        """The webhook's event, checked by the SDK (signature and its time tolerance); None for an
        authentic event the shop does not act on."""
        try:
            event = stripe.Webhook.construct_event(
                body, signature or "", current_app.config["STRIPE_WEBHOOK_SECRET"]
            )
        except (ValueError, stripe.SignatureVerificationError):
            raise BadNotification("The signature does not match or the event is not readable.") from None
        status = EVENT_STATUS.get(event.type)
        if status is None:
            return None
        intent = event.data.object
        return Notification(
            event_id=event.id,
            provider_payment_id=intent.id,
            status=status,
            amount=intent.amount,
            currency=intent.currency.upper(),
        )

    def get_status(self, provider_payment_id):
        return status_of(_retrieve(provider_payment_id))

    def refund(self, provider_payment_id, amount, idempotency_key):
        refund = _call(
            _client().refunds.create,
            params={"payment_intent": provider_payment_id, "amount": amount},
            options={"idempotency_key": idempotency_key},
        )
        if refund.status in ("failed", "canceled"):
            raise PaymentError(f"Stripe refused the refund ({refund.status}).")
        return refund.id


def status_of(intent):
    if intent.status == "requires_payment_method" and intent.last_payment_error:
        return FAILED
    return STATUS_OF.get(intent.status, PENDING)


def _retrieve(provider_payment_id):
    return _call(_client().payment_intents.retrieve, provider_payment_id)


def _call(method, *args, **kwargs):
    """A Stripe call; its errors as the provider interface's."""
    try:
        return method(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            raise UnknownPayment(str(error)) from None
        raise PaymentError(error.user_message or str(error)) from None
    except stripe.StripeError as error:
        raise PaymentError(error.user_message or "Stripe is not answering.") from None


def _pay_token_signer():
    return serializer(PAY_TOKEN_SALT)


# The pay page -----------------------------------------------------------------------------

bp = Blueprint("stripe", __name__, url_prefix="/payments/stripe")


@bp.before_request
def only_when_enabled():
    if configured_name() != "stripe":
        abort(404)


@bp.after_request
def allow_stripe_js(response):
    """Stripe.js and its frames are allowed on this page only, and only their documented origins."""
    config = current_app.config
    directives = dict(part.strip().split(" ", 1) for part in config["CONTENT_SECURITY_POLICY"].split(";"))
    for directive, origins in content_security_sources(config).items():
        directives[directive] = " ".join([directives.get(directive, "'self'"), *origins])
    response.headers["Content-Security-Policy"] = "; ".join(f"{k} {v}" for k, v in directives.items())
    return response


@bp.get("/pay/<token>")
def pay(token):
    """Card details go from Stripe's element straight to Stripe; the payer then comes back to
    the shop's return page, which asks Stripe what happened."""
    try:
        intent_id, return_url = _pay_token_signer().loads(token)
    except (BadData, ValueError, TypeError):
        abort(404)
    try:
        intent = _retrieve(intent_id)
    except UnknownPayment:
        abort(404)
    if status_of(intent) == SUCCEEDED:
        return redirect(return_url, 303)
    config = current_app.config
    return render_template(
        "stripe/pay.html",
        intent=intent,
        amount=intent.amount,
        currency=intent.currency.upper(),
        return_url=return_url,
        publishable_key=config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js_url=config.get("STRIPE_JS_URL") or STRIPE_JS_URL,
        canceled=intent.status == "canceled",
    )
