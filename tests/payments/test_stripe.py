"""Card payments through Stripe, against the fake Stripe (localstripe) running as its own process.

Stripe.js is the payer's side: these tests do what it does (attach a card to the PaymentIntent
and confirm it, or pass 3-D Secure) straight against the fake server, then come back to the
shop as the browser does. Everything the shop itself sends goes through the real SDK.
"""

import datetime
import hashlib
import hmac
import http.server
import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
import stripe

from jobs.funds import reconcile_pending_top_ups
from models.base import utcnow
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import balance_of
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.top_ups import refresh_top_up
from models.funds.top_ups import REPAYMENT
from models.funds.top_ups import start_top_up as start_top_up_model
from models.funds.top_ups import TopUp
from models.orders.card_payments import refresh_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.notifications import ProviderEvent
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.refunds.orders import refund_order
from models.refunds.top_ups import Refund
from models.refunds.top_ups import refund_to_card
from models.shop.outbox import OutboxMessage
from payments import mode as payment_mode
from shop import create_app
from tests.conftest import app_config
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import make_product
from tests.factories import placed_order
from tests.stripe_fake import ROOT
from tests.stripe_fake import stripe_config
from tests.stripe_fake import WEBHOOK_SECRET

KEY = "s" * 22
NOTIFY = "/payments/stripe/notifications"
VISA = "4242424242424242"
DECLINED = "4000000000000341"  # attaches, then the charge is declined
THREE_D_SECURE = "4000002760003184"  # the bank always asks the payer to confirm


@pytest.fixture
def fake(stripe_server):
    """The SDK pointed at the fake Stripe, acting as the payer's browser would."""
    return stripe.StripeClient(
        "sk_test_payer", base_addresses={"api": stripe_server}, max_network_retries=0
    ).v1


def pay(fake, intent_id, number):
    """What Stripe.js does with the card typed into the element: attach it and confirm."""
    card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    method = fake.payment_methods.create(params={"type": "card", "card": card})
    fake.payment_intents.update(intent_id, params={"payment_method": method.id})
    return fake.payment_intents.confirm(intent_id)


def pass_3d_secure(stripe_server, intent, success=True):
    """The bank's challenge, answered in Stripe.js (the fake's `_authenticate`, as its Stripe.js calls it)."""
    response = requests.post(
        f"{stripe_server}/v1/payment_intents/{intent.id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": "pk_test_shop", "client_secret": intent.client_secret},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def start_top_up(client, amount="25"):
    response = post_form(
        client, "/account/funds/top-up", {"amount": amount, "idempotency_key": KEY}, page="/account/funds"
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def signed(body, secret=WEBHOOK_SECRET, at=None):
    """A webhook body and its Stripe-Signature header, signed the way Stripe signs them."""
    raw = json.dumps(body)
    timestamp = int(at if at is not None else time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    return raw, {"Stripe-Signature": f"t={timestamp},v1={digest}"}


def event(intent, kind="payment_intent.succeeded", event_id="evt_1", **changes):
    intent_data = {"id": intent.id, "object": "payment_intent", "amount": intent.amount, "currency": "eur"}
    intent_data.update(changes)
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": intent_data},
    }


def notify(client, body, **signing):
    raw, headers = signed(body, **signing)
    return client.post(NOTIFY, data=raw, headers=headers, content_type="application/json")


# Configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, complaint",
    [
        ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY is not set"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET is not set"),
        ({"STRIPE_PUBLISHABLE_KEY": "pk_live_x"}, "not both live or both test keys"),
        (
            {
                "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
                "SHOP_BASE_URL": "http://shop.test",
            },
            "need SHOP_BASE_URL to be an https:// address",
        ),
        (
            {
                "STRIPE_SECRET_KEY": "sk_live_x",
                "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
                "SHOP_BASE_URL": "https://shop.test",
            },
            "never with live keys",
        ),
        ({"PAYMENT_PROVIDER": "acme"}, "PAYMENT_PROVIDER must be one of sandbox, stripe"),
    ],
)
def test_the_app_refuses_to_start_with_unusable_payment_settings(
    database_url, tmp_path, stripe_server, changes, complaint
):
    config = app_config(database_url, tmp_path, **stripe_config(stripe_server, **changes))
    with pytest.raises(RuntimeError, match=complaint):
        create_app(config)


def test_test_keys_say_test_mode_on_every_page_and_live_keys_are_live(client, stripe_server):
    assert "Test mode" in client.get("/").get_data(as_text=True)
    live = stripe_config(stripe_server, STRIPE_SECRET_KEY="sk_live_x", STRIPE_PUBLISHABLE_KEY="pk_live_x")
    assert (payment_mode(stripe_config(stripe_server)), payment_mode(live)) == ("test", "live")


# Top-ups -----------------------------------------------------------------------------------------


def test_a_top_up_is_paid_on_stripe_and_credited_once(customer_client, customer, fake, stripe_server):
    response = start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    assert top_up.provider == "stripe" and top_up.provider_payment_id.startswith("pi_")
    intent = fake.payment_intents.retrieve(top_up.provider_payment_id)
    assert (intent.amount, intent.currency, intent.metadata["reference"]) == (
        2500,
        "eur",
        f"top-up-{top_up.id}",
    )

    page = customer_client.get(response.location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Pay €25.00 by card" in html
    assert intent.client_secret in html and f'src="{stripe_server}/js.stripe.com/v3/"' in html
    policy = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_server}" in policy and f"connect-src 'self' {stripe_server}" in policy
    assert stripe_server not in customer_client.get("/account/funds").headers["Content-Security-Policy"]

    assert pay(fake, intent.id, VISA).status == "succeeded"
    status_page = customer_client.get(f"/account/funds/top-ups/{top_up.id}")  # the payer is back
    assert "added to your balance" in status_page.get_data(as_text=True)
    assert balance_of(customer) == 2500
    customer_client.get(f"/account/funds/top-ups/{top_up.id}")  # a reload
    reconcile_pending_top_ups(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10))
    assert balance_of(customer) == 2500 and Journal.select().count() == 1
    # Paid: the pay page sends the payer back to the shop instead of offering the card form again.
    assert customer_client.get(response.location).status_code == 303


def test_a_declined_card_credits_nothing_and_says_so(customer_client, customer, fake):
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    with pytest.raises(stripe.CardError):
        pay(fake, top_up.provider_payment_id, DECLINED)
    html = customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(as_text=True)
    assert "didn't go through" in html
    assert TopUp.get_by_id(top_up.id).state == "failed" and balance_of(customer) == 0


def test_3d_secure_waits_for_the_bank_then_credits(customer_client, customer, fake, stripe_server):
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    intent = pay(fake, top_up.provider_payment_id, THREE_D_SECURE)
    assert intent.status == "requires_action"
    html = customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(as_text=True)
    assert "being confirmed" in html and balance_of(customer) == 0
    pass_3d_secure(stripe_server, intent)
    customer_client.get(f"/account/funds/top-ups/{top_up.id}")
    assert balance_of(customer) == 2500


def test_every_post_to_stripe_carries_the_operations_idempotency_key(
    customer_client, customer, owner, fake, monkeypatch
):
    sent = []
    real = stripe.RequestsClient.request

    def record(self, method, url, headers, post_data=None):
        if method == "post":
            sent.append((url.rsplit("/v1/", 1)[-1], headers.get("Idempotency-Key")))
        return real(self, method, url, headers, post_data)

    monkeypatch.setattr(stripe.RequestsClient, "request", record)
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    assert sent == [("payment_intents", f"top-up:{top_up.id}")]
    pay(fake, top_up.provider_payment_id, VISA)
    customer_client.get(f"/account/funds/top-ups/{top_up.id}")
    sent.clear()
    with customer_client.application.app_context():
        refund = refund_to_card(customer, top_up.id, 1000, "", owner, "refund-form-key")
    assert sent == [("refunds", refund.journal_key)]


def test_refunds_to_the_card_go_through_stripe_in_part_and_in_full(customer_client, customer, owner, fake):
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    pay(fake, top_up.provider_payment_id, VISA)
    customer_client.get(f"/account/funds/top-ups/{top_up.id}")
    with customer_client.application.app_context():
        refund_to_card(customer, top_up.id, 1000, "", owner, "refund-one")
        refund_to_card(customer, top_up.id, 1500, "", owner, "refund-two")
    refunds = fake.refunds.list(params={"payment_intent": top_up.provider_payment_id}).data
    assert sorted(r.amount for r in refunds) == [1000, 1500]
    assert [r.state for r in Refund.select().order_by(Refund.id)] == ["succeeded", "succeeded"]
    assert balance_of(customer) == 0


# An order's card part -------------------------------------------------------------------------


def test_an_orders_card_part_is_paid_on_stripe(ctx, customer, fake):
    product = make_product(price=4000)
    order = placed_order(customer, (product, 1), funds=1500, method=CARD)
    assert order.card_amount == 2500
    payment = start_card_payment(order, "order-pay-key-000001")
    assert fake.payment_intents.retrieve(payment.provider_payment_id).amount == 2500
    pay(fake, payment.provider_payment_id, VISA)
    refresh_card_payment(payment)
    assert Order.get_by_id(order.id).status == PAID
    assert OrderPayment.get_by_id(payment.id).outcome == "paid_order"


# Webhooks -----------------------------------------------------------------------------------------


@pytest.fixture
def paid_intent(customer_client, customer, fake):
    """A top-up paid on Stripe whose news has not reached the shop yet: (top_up, intent)."""
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    return top_up, pay(fake, top_up.provider_payment_id, VISA)


def test_a_signed_webhook_credits_once_and_a_replay_changes_nothing(client, customer, paid_intent):
    top_up, intent = paid_intent
    assert notify(client, event(intent)).status_code == 200
    assert notify(client, event(intent)).status_code == 200  # Stripe sends it again
    assert balance_of(customer) == 2500 and Journal.select().count() == 1
    assert ProviderEvent.select().count() == 1


def test_a_late_failure_event_after_success_changes_nothing(client, customer, paid_intent):
    top_up, intent = paid_intent
    notify(client, event(intent))
    failed = event(intent, kind="payment_intent.payment_failed", event_id="evt_2")
    assert notify(client, failed).status_code == 200
    assert TopUp.get_by_id(top_up.id).state == "succeeded" and balance_of(customer) == 2500


@pytest.mark.parametrize(
    "forge",
    ["bad signature", "old signature", "no signature", "amount mismatch", "currency mismatch", "not json"],
)
def test_webhooks_that_cannot_be_trusted_move_no_money(client, customer, paid_intent, forge):
    top_up, intent = paid_intent
    body, signing = event(intent), {}
    if forge == "bad signature":
        signing = {"secret": "whsec_someone_else"}
    elif forge == "old signature":
        signing = {"at": time.time() - 3600}
    elif forge == "amount mismatch":
        body = event(intent, amount=250000)
    elif forge == "currency mismatch":
        body = event(intent, currency="usd")
    if forge == "no signature":
        response = client.post(NOTIFY, data=json.dumps(body), content_type="application/json")
    elif forge == "not json":
        response = client.post(
            NOTIFY, data="not json", headers=signed_raw("not json"), content_type="application/json"
        )
    else:
        response = notify(client, body, **signing)
    assert response.status_code == 400
    assert balance_of(customer) == 0 and TopUp.get_by_id(top_up.id).state == "pending"
    assert ProviderEvent.select().count() == 0


def signed_raw(raw):
    timestamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}"}


def test_events_about_other_payments_or_of_other_kinds_are_acknowledged_and_move_nothing(
    client, customer, paid_intent
):
    top_up, intent = paid_intent
    stranger = event(intent, id="pi_not_ours")
    assert notify(client, stranger).status_code == 200
    assert ProviderEvent.get().payment == "unknown"
    charge = event(intent, kind="charge.succeeded", event_id="evt_charge")
    assert notify(client, charge).status_code == 200
    assert ProviderEvent.select().count() == 1
    assert balance_of(customer) == 0


def test_a_paid_orders_card_part_is_refunded_on_stripe(ctx, customer, owner, fake):
    order = placed_order(customer, (make_product(price=4000), 1), method=CARD)
    payment = start_card_payment(order, "order-pay-key-000002")
    pay(fake, payment.provider_payment_id, VISA)
    refresh_card_payment(payment)
    refund_order(Order.get_by_id(order.id), 1000, "original", "", owner, "order-refund-one")
    refund_order(Order.get_by_id(order.id), 3000, "original", "", owner, "order-refund-two")
    refunds = fake.refunds.list(params={"payment_intent": payment.provider_payment_id}).data
    assert sorted(r.amount for r in refunds) == [1000, 3000]
    assert Order.get_by_id(order.id).refunded == 4000


# Webhooks as the fake Stripe sends them ----------------------------------------------------------


@pytest.fixture
def webhook_catcher(stripe_server):
    """A loopback HTTP server registered as the fake Stripe's webhook endpoint: what it receives."""
    received = queue.Queue()

    class Catcher(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the handler's name in http.server
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    hook = f"catcher{server.server_port}"
    requests.post(
        f"{stripe_server}/_config/webhooks/{hook}", json={"url": url, "secret": WEBHOOK_SECRET}, timeout=10
    )
    yield received
    requests.post(
        f"{stripe_server}/_config/webhooks/{hook}",
        json={"url": url, "secret": "whsec_gone", "events": []},
        timeout=10,
    )
    server.shutdown()
    server.server_close()


def test_the_fake_stripes_own_signed_webhook_credits_the_top_up(
    customer_client, customer, fake, webhook_catcher
):
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    pay(fake, top_up.provider_payment_id, VISA)
    while True:  # the fake sends every event to every endpoint: wait for this payment's success
        body, signature = webhook_catcher.get(timeout=15)
        sent = json.loads(body)
        if (
            sent["type"] == "payment_intent.succeeded"
            and sent["data"]["object"]["id"] == top_up.provider_payment_id
        ):
            break
    response = customer_client.post(
        NOTIFY, data=body, headers={"Stripe-Signature": signature}, content_type="application/json"
    )
    assert response.status_code == 200
    assert TopUp.get_by_id(top_up.id).state == "succeeded" and balance_of(customer) == 2500
    assert ProviderEvent.get().event_id == sent["id"]


# A worker killed between Stripe's success and the shop's commit ----------------------------------

KILLED_WORKER = """
import os, signal, sys
import models.funds.top_ups as top_ups
from models.base import connection
from shop import create_app
from tests.conftest import app_config
from tests.stripe_fake import ROOT
from tests.stripe_fake import stripe_config
from pathlib import Path

app = create_app(app_config(sys.argv[1], Path(sys.argv[2]), **stripe_config(sys.argv[3])))
real_transfer = top_ups.transfer

def transfer_then_die(*args, **kwargs):
    real_transfer(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # the money is written, the transaction not yet committed

top_ups.transfer = transfer_then_die
with app.app_context(), connection():
    top_ups.refresh_top_up(top_ups.TopUp.get_by_id(int(sys.argv[4])))
"""


def test_a_worker_killed_before_its_commit_leaves_reconciliation_to_credit_once(
    customer_client, customer, fake, database_url, stripe_server, tmp_path
):
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    pay(fake, top_up.provider_payment_id, VISA)
    worker = subprocess.run(
        [
            sys.executable,
            "-c",
            KILLED_WORKER,
            database_url,
            str(tmp_path / "worker"),
            stripe_server,
            str(top_up.id),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
    assert TopUp.get_by_id(top_up.id).state == "pending" and balance_of(customer) == 0
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)
    with customer_client.application.app_context():
        assert reconcile_pending_top_ups(later) == 1
        assert reconcile_pending_top_ups(later) == 0
    assert TopUp.get_by_id(top_up.id).state == "succeeded" and balance_of(customer) == 2500
    assert Journal.select().count() == 1


def test_the_owners_settings_say_which_provider_and_warn_when_its_events_stop(
    app, owner, customer_client, customer, fake
):
    owner_client = app.test_client()
    sign_in(owner_client, owner)
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert "Stripe" in html and "Test mode: no real money moves" in html and "None yet" in html
    start_top_up(customer_client)
    top_up = TopUp.get(TopUp.user == customer)
    TopUp.update(created_at=utcnow() - datetime.timedelta(minutes=30)).where(TopUp.id == top_up.id).execute()
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert "no event has arrived from the provider since then" in html
    assert "http://shop.test/payments/stripe/notifications" in html
    notify(owner_client, event(fake.payment_intents.retrieve(top_up.provider_payment_id), event_id="evt_any"))
    html = owner_client.get("/admin/settings").get_data(as_text=True)
    assert "no event has arrived" not in html and "None yet" not in html


def test_paying_back_credit_by_card_goes_through_stripe(ctx, customer, fake):
    set_credit_limit(customer, 5000)
    transfer(
        "spend-on-credit",
        "order",
        [Leg(account_for(customer), -3000, "spend"), Leg(system_account(SALES), 3000, "spend")],
    )
    repayment = start_top_up_model(customer, 3000, "repay-form-key-0001", purpose=REPAYMENT)
    assert fake.payment_intents.retrieve(repayment.provider_payment_id).amount == 3000
    pay(fake, repayment.provider_payment_id, VISA)
    refresh_top_up(repayment)
    assert balance_of(customer) == 0 and TopUp.get_by_id(repayment.id).state == "succeeded"


def test_what_the_customer_is_told_follows_stripes_real_outcome(ctx, customer, fake):
    """Nothing when the order is placed; a receipt once the card pays; after a decline, that it
    didn't go through and how to pay again (and never a receipt)."""
    paid = placed_order(customer, (make_product(price=3000), 1), method=CARD, key="told-order-paid-0001")
    declined = placed_order(customer, (make_product(price=2000), 1), method=CARD, key="told-order-fail-0001")
    assert kinds_for(customer) == []
    for order, number in ((paid, VISA), (declined, DECLINED)):
        payment = start_card_payment(order, f"pay-{order.id}-0000000001")
        try:
            pay(fake, payment.provider_payment_id, number)
        except stripe.CardError:
            pass
        refresh_card_payment(payment)
        refresh_card_payment(payment)  # the return page and reconciliation both ask: still once
    assert kinds_for(customer) == ["order_card_failed", "order_paid"]
    failed = OutboxMessage.get(OutboxMessage.kind == "order_card_failed")
    assert f"order {declined.number} didn't go through, so nothing was taken" in failed.text_body
    receipt = OutboxMessage.get(OutboxMessage.kind == "order_paid")
    assert f"received your payment for order {paid.number}" in receipt.text_body


def kinds_for(user):
    return sorted(
        message.kind for message in OutboxMessage.select().where(OutboxMessage.to_address == user.email)
    )


def test_a_replayed_webhook_for_an_order_pays_it_once_and_sends_one_receipt(ctx, app, customer, fake):
    order = placed_order(customer, (make_product(price=3000), 1), method=CARD, key="webhook-order-0000001")
    payment = start_card_payment(order, "webhook-order-pay-0001")
    intent = pay(fake, payment.provider_payment_id, VISA)
    client = app.test_client()
    for _ in range(2):
        assert notify(client, event(intent, amount=3000)).status_code == 200
    assert Order.get_by_id(order.id).status == PAID
    assert kinds_for(customer) == ["order_paid"]
