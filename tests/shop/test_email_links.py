"""Every link in every kind of message answers for its recipient, and is absolute to the shop.

The list of kinds is checked against the email templates, so a new message
kind without a test here fails.

Every value someone typed here (customers' names and addresses, companies, notes, reasons,
messages) carries a stranger's link, `TYPED`: no message may make a link of it (issue 19, 5).
"""

import datetime
import html
import re
import sys
from pathlib import Path

import pytest

from jobs.accounts import answer_mail_requests
from models.accounts import registration
from models.accounts.addresses import add_address
from models.accounts.administration import create_customer_for_owner
from models.accounts.credentials import change_password
from models.accounts.credentials import confirm_email_change
from models.accounts.credentials import request_email_change
from models.accounts.credentials import request_password_reset
from models.accounts.inbox import request_sign_in_code
from models.funds.adjustments import adjust
from models.funds.credit import record_bank_payment
from models.funds.credit_requests import decide_credit
from models.funds.credit_requests import request_credit
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.statements import issue_statements
from models.funds.top_ups import complete_top_up
from models.funds.top_ups import start_top_up
from models.funds.top_ups import TopUp
from models.groups.applications import apply_for
from models.groups.applications import decide
from models.groups.group import CustomerGroup
from models.groups.management import put_in_group
from models.groups.management import update_group
from models.orders.cancelling import cancel_order
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import refresh_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import receive_bank_transfer
from models.orders.messages import mail_customer
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.owner_emails import send_new_order_digest
from models.orders.placing import cart_fingerprint
from models.orders.placing import place_order
from models.orders.vat import record_order_vat
from models.orders.waiting_email import send_waiting_emails
from models.refunds.orders import cancel_paid_order
from models.refunds.orders import refund_order
from models.refunds.requests import approve_refund_request
from models.refunds.requests import decline_refund_request
from models.refunds.requests import request_refund
from models.refunds.top_ups import refund_to_card
from models.shop.outbox import finish
from models.shop.outbox import OutboxMessage
from models.shop.outbox import SENT
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.sessions import open_session
from models.users.tokens import AccountToken
from models.users.tokens import digest
from models.users.user import CUSTOMER
from models.users.user import User
from models.withdrawals.statements import record_withdrawal
from payments import sandbox
from tests.conftest import TEST_PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"

# What a stranger types where a name or a note goes.
TYPED = "Win 500 EUR: https://evil.example/claim or www.evil.example"


@pytest.fixture
def make_customer(make_user):
    """Customers whose name is `TYPED`."""
    return lambda **fields: make_user(CUSTOMER, **{"first_name": TYPED, "last_name": TYPED, **fields})


def trigger_confirm_email(app, make_customer, owner):
    draft = registration.start_draft()
    draft = registration.save_answers(
        draft,
        {
            "email": "new@example.com",
            "first_name": TYPED,
            "last_name": TYPED,
            "phone": "",
            "billing": {
                "full_name": TYPED,
                "company": TYPED,
                "line1": TYPED,
                "city": "X",
                "postal_code": "X1",
                "country": "GB",
            },
        },
        password_hash="$argon2id$fake",
    )
    registration.complete_registration(draft)
    return "new@example.com"


def trigger_already_registered(app, make_customer, owner):
    customer = make_customer()
    draft = registration.save_answers(
        registration.start_draft(), {"email": customer.email}, password_hash="x"
    )
    registration.complete_registration(draft)
    return customer.email


def trigger_sign_in_code(app, make_customer, owner):
    customer = make_customer()
    request_sign_in_code(customer.email)
    answer_mail_requests(datetime.datetime.now(datetime.UTC))  # the jobs process, seconds later
    return customer.email


def trigger_reset_password(app, make_customer, owner):
    customer = make_customer()
    request_password_reset(customer.email)
    answer_mail_requests(datetime.datetime.now(datetime.UTC))  # the jobs process, seconds later
    return customer.email


def trigger_set_password(app, make_customer, owner):
    create_customer_for_owner("phoned@example.com", TYPED, TYPED, "", owner)
    return "phoned@example.com"


def trigger_password_changed(app, make_customer, owner):
    customer = make_customer()
    change_password(customer, TEST_PASSWORD, "another long password")
    return customer.email


def trigger_confirm_new_email(app, make_customer, owner):
    customer = make_customer()
    request_email_change(customer, TEST_PASSWORD, "moved@example.com")
    return "moved@example.com"


def trigger_email_change_taken(app, make_customer, owner):
    customer, other = make_customer(), make_customer()
    request_email_change(customer, TEST_PASSWORD, other.email)
    return other.email


def trigger_email_changed_notice(app, make_customer, owner):
    customer = make_customer()
    request_email_change(customer, TEST_PASSWORD, "moved@example.com")
    body = OutboxMessage.get(OutboxMessage.to_address == "moved@example.com").text_body
    secret = re.search(r"/account/email/confirm/(\S+)", body).group(1)
    confirm_email_change(secret)
    return customer.email


def _decided(approve):
    def trigger(app, make_customer, owner):
        customer = make_customer()
        vip = CustomerGroup.get(CustomerGroup.name == "VIP")
        CustomerGroup.update(name=f"VIP {TYPED}", perks=TYPED).where(CustomerGroup.id == vip.id).execute()
        application = apply_for(customer, vip.id)
        decide(application.id, approve, owner, "" if approve else f"Not this time. {TYPED}")
        return customer.email

    return trigger


def trigger_group_changed(app, make_customer, owner):
    customer = make_customer()
    vip = CustomerGroup.get(CustomerGroup.name == "VIP")
    CustomerGroup.update(name=f"VIP {TYPED}", perks=TYPED).where(CustomerGroup.id == vip.id).execute()
    put_in_group(customer, CustomerGroup.get_by_id(vip.id), owner, f"Note {TYPED}")
    return customer.email


def trigger_balance_adjusted(app, make_customer, owner):

    customer = make_customer()
    adjust(customer, 500, "goodwill", TYPED, f"Sorry about the delay. {TYPED}", owner, "k")
    return customer.email


def _credit_decided(approve):
    def trigger(app, make_customer, owner):

        update_group(CustomerGroup.get(CustomerGroup.is_default == True), {"pay_on_account": True}, owner)  # noqa: E712
        customer = make_customer()
        request_row = request_credit(customer, 20000, f"Monthly orders {TYPED}")
        decide_credit(
            request_row.id, approve, owner, note=f"Noted. {TYPED}" if approve else f"Not yet. {TYPED}"
        )
        return customer.email

    return trigger


def trigger_funds_refunded(app, make_customer, owner):

    customer = make_customer()
    with app.test_request_context():
        top_up = start_top_up(customer, 5000, "refund-mail-top-up")
    sandbox.choose(
        sandbox.SandboxPayment.get(sandbox.SandboxPayment.public_id == top_up.provider_payment_id), "approve"
    )
    TopUp.update(bonus=500).where(TopUp.id == top_up.id).execute()
    complete_top_up(top_up)
    refund_to_card(customer, top_up.id, 2000, TYPED, owner, "refund-mail-form")
    return customer.email


def _refund_decided(approve):
    def trigger(app, make_customer, owner):
        customer = make_customer()
        with app.test_request_context():
            top_up = start_top_up(customer, 5000, "refund-request-mail-top-up")
        sandbox.choose(
            sandbox.SandboxPayment.get(sandbox.SandboxPayment.public_id == top_up.provider_payment_id),
            "approve",
        )
        complete_top_up(top_up)
        request_row = request_refund(customer, 3000)
        if approve:
            approve_refund_request(request_row.id, owner)
        else:
            decline_refund_request(request_row.id, owner, f"You have an order on its way. {TYPED}")
        return customer.email

    return trigger


def trigger_credit_statement(app, make_customer, owner):

    customer = make_customer()
    basic = CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712
    update_group(basic, {"pay_on_account": True, "own_limits": True, "default_credit_limit": 5000}, owner)
    legs = [Leg(account_for(customer), -3000, "spend"), Leg(system_account(SALES), 3000, "spend")]
    transfer("statement-mail-order", "order", legs, memo="Order", now=datetime.datetime(2026, 10, 10, 12))
    issue_statements(datetime.datetime(2026, 11, 1, 8, tzinfo=datetime.UTC))
    return customer.email


def trigger_bank_payment_received(app, make_customer, owner):

    to = trigger_credit_statement(app, make_customer, owner)
    record_bank_payment(User.by_email(to), 1000, TYPED, owner, "bank-payment-mail")
    return to


def _order(app, make_customer, method="bank", price=3000, stock=5):
    """A customer's order placed through models/orders/ (inside a request context for its links)."""

    customer = make_customer()
    category = Category.get_or_none(Category.slug == "mail-tea") or Category.create(
        name="Mail tea", slug="mail-tea"
    )
    product = Product.create(
        name="Mail tea", slug=f"mail-tea-{customer.id}", price=price, stock=stock, category=category
    )
    where = add_address(
        customer,
        {
            "full_name": TYPED,
            "company": TYPED,
            "line1": TYPED,
            "city": "X",
            "postal_code": "X1",
            "country": "GB",
        },
    )
    with app.test_request_context():
        add_to_cart(product.id, 1, user=customer)
        seen = cart_fingerprint(cart_summary(find_cart(customer)))
        order = place_order(
            customer, "mail-order-key-00001", seen, where, where, method=method, terms_accepted=True
        )
    return customer, order, product


def trigger_order_placed(app, make_customer, owner):
    customer, _, _ = _order(app, make_customer)  # by bank transfer: the bank details
    return customer.email


def _card_payment(app, make_customer, outcome):
    """A card order whose payment the payer decided at the sandbox provider (acted on at once)."""
    customer, order, _ = _order(app, make_customer, method="card")
    with app.test_request_context():
        payment = start_card_payment(order, "mail-pay-key-000002")
        sandbox.choose(
            sandbox.SandboxPayment.get(sandbox.SandboxPayment.public_id == payment.provider_payment_id),
            outcome,
        )
        refresh_card_payment(payment)
    return customer


def trigger_order_paid(app, make_customer, owner):
    return _card_payment(app, make_customer, "approve").email


def trigger_order_card_failed(app, make_customer, owner):
    return _card_payment(app, make_customer, "decline").email


def trigger_order_awaiting_payment(app, make_customer, owner):
    customer, order, _ = _order(app, make_customer, method="card")
    with app.test_request_context():
        send_waiting_emails(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16))
    return customer.email


def trigger_new_order_owner(app, make_customer, owner):
    _order(app, make_customer)
    return load_settings().contact_email


def trigger_new_orders_digest_owner(app, make_customer, owner):
    update_settings({"new_order_emails": "daily"})
    _, order, _ = _order(app, make_customer)
    next_morning = datetime.datetime.combine(
        order.local_date + datetime.timedelta(days=1), datetime.time(8), tzinfo=load_settings().tz
    )
    with app.test_request_context():
        assert send_new_order_digest(next_morning) is not None
    return load_settings().contact_email


def trigger_order_cancelled(app, make_customer, owner):

    customer, order, _ = _order(app, make_customer)
    cancel_order(order, None, f"Not paid in time {TYPED}")
    return customer.email


def _late_payment(app, make_customer):

    customer, order, _ = _order(app, make_customer, method="card")
    with app.test_request_context():
        payment = start_card_payment(order, "mail-pay-key-000001")
    cancel_order(order, notify=False)
    complete_card_payment(payment)
    return customer


def trigger_order_late_payment(app, make_customer, owner):
    return _late_payment(app, make_customer).email


def trigger_order_late_payment_owner(app, make_customer, owner):

    _late_payment(app, make_customer)
    return load_settings().contact_email


def _paid_order(app, make_customer, owner):
    """A bank-transfer order the owner marked paid (which emails order_bank_received)."""

    customer, order, _ = _order(app, make_customer, method="bank")
    receive_bank_transfer(order, owner)
    return customer, order


def trigger_order_bank_received(app, make_customer, owner):
    customer, _ = _paid_order(app, make_customer, owner)
    return customer.email


def trigger_order_dispatched(app, make_customer, owner):

    customer, order = _paid_order(app, make_customer, owner)
    dispatch([order], owner, f"Tracking number JD0001 {TYPED}")
    return customer.email


def trigger_order_refunded(app, make_customer, owner):

    customer, order = _paid_order(app, make_customer, owner)
    refund_order(order, 1000, "funds", f"Damaged box {TYPED}", owner, "mail-refund-key-0001")
    return customer.email


def _withdrawn(app, make_customer, owner):
    """A withdrawal statement from part of a paid order (its acknowledgement and the owner's email)."""
    customer, order = _paid_order(app, make_customer, owner)
    line = order.lines.where(OrderLine.kind == "product").get()
    with app.test_request_context():
        record_withdrawal(
            order, f"Camille {TYPED}", customer.email, {line.id: 1}, "original", "mail-wd-key-01"
        )
    return customer


def trigger_order_withdrawal(app, make_customer, owner):
    return _withdrawn(app, make_customer, owner).email


def trigger_order_withdrawal_owner(app, make_customer, owner):
    _withdrawn(app, make_customer, owner)
    return load_settings().contact_email


def trigger_affiliate_reward_taken_back(app, make_customer, owner):

    affiliate = make_customer(group=CustomerGroup.get(CustomerGroup.name == "Affiliate"))
    customer, order, _ = _order(app, make_customer, method="bank")
    User.update(referred_by=affiliate).where(User.id == customer.id).execute()
    receive_bank_transfer(order, owner)  # the first paid order: the affiliate's reward
    with app.test_request_context():
        cancel_paid_order(order, "funds", TYPED, owner, "mail-cancel-key-0001")
    return affiliate.email


KINDS = {
    "affiliate_reward_taken_back": trigger_affiliate_reward_taken_back,
    "balance_adjusted": trigger_balance_adjusted,
    "bank_payment_received": trigger_bank_payment_received,
    "credit_statement": trigger_credit_statement,
    "funds_refunded": trigger_funds_refunded,
    "refund_request_approved": _refund_decided(True),
    "refund_request_declined": _refund_decided(False),
    "credit_approved": _credit_decided(True),
    "credit_declined": _credit_decided(False),
    "confirm_email": trigger_confirm_email,
    "already_registered": trigger_already_registered,
    "sign_in_code": trigger_sign_in_code,
    "reset_password": trigger_reset_password,
    "set_password": trigger_set_password,
    "password_changed": trigger_password_changed,
    "confirm_new_email": trigger_confirm_new_email,
    "email_change_taken": trigger_email_change_taken,
    "email_changed_notice": trigger_email_changed_notice,
    "application_approved": _decided(True),
    "application_rejected": _decided(False),
    "group_changed": trigger_group_changed,
    "order_placed": trigger_order_placed,
    "order_paid": trigger_order_paid,
    "order_card_failed": trigger_order_card_failed,
    "order_awaiting_payment": trigger_order_awaiting_payment,
    "new_order_owner": trigger_new_order_owner,
    "new_orders_digest_owner": trigger_new_orders_digest_owner,
    "order_cancelled": trigger_order_cancelled,
    "order_late_payment": trigger_order_late_payment,
    "order_late_payment_owner": trigger_order_late_payment_owner,
    "order_bank_received": trigger_order_bank_received,
    "order_dispatched": trigger_order_dispatched,
    "order_refunded": trigger_order_refunded,
    "order_withdrawal": trigger_order_withdrawal,
    "order_withdrawal_owner": trigger_order_withdrawal_owner,
}


# The old address after an email change only hears "contact us": a reset link
# there would go to the new address, which may be the attacker's.
NOTICES_WITHOUT_LINKS = {"email_changed_notice"}

# Kinds that show nothing anyone typed (so the test above can't be passed by showing nothing).
WITHOUT_TYPED_TEXT = {"email_change_taken", "order_late_payment_owner"}


def test_every_message_kind_is_covered():
    kinds = {path.stem for path in TEMPLATES.glob("*.txt") if not path.stem.startswith("_")}
    assert kinds == set(KINDS)


def recipient_client(app, to):
    """A browser signed in as the recipient if they have an account (links must work either way)."""
    client = app.test_client()
    user = User.by_email(to)
    if user is not None and user.password_hash and user.is_confirmed and user.is_active:
        signed_in(client, user)
    return client


def signed_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = open_session(user)
        session["_fresh"] = True
    return client


def latest_message(to, kind):
    return (
        OutboxMessage.select()
        .where((OutboxMessage.to_address == to) & (OutboxMessage.kind == kind))
        .order_by(OutboxMessage.id.desc())
        .get()
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_link_answers_for_its_recipient_and_only_the_shops_are_links(app, make_customer, owner, kind):
    with app.app_context():
        to = KINDS[kind](app, make_customer, owner)
    message = latest_message(to, kind)
    for part in (message.subject, message.text_body, message.html_body):
        assert "evil.example" not in part, f"{kind}: someone's typing would be a link"
    assert "evil[.]example" in message.text_body or kind in WITHOUT_TYPED_TEXT, f"{kind}: TYPED not shown"
    links = re.findall(r"https?://\S+", message.text_body)
    assert links or kind in NOTICES_WITHOUT_LINKS, f"{kind} has no link"
    html_links = [html.unescape(link) for link in re.findall(r'href="(https?://[^"]+)"', message.html_body)]
    for link in links + html_links:
        assert link.startswith("http://shop.test/"), link
        response = recipient_client(app, to).get(link.removeprefix("http://shop.test"), follow_redirects=True)
        assert response.status_code == 200, f"{kind}: {link} answered {response.status_code}"
    assert set(links) <= set(html_links) | {f"mailto:{to}"}


# The kinds whose message holds a link or code that lets its reader act as the recipient.
KINDS_WITH_SECRETS = {
    "confirm_email",
    "already_registered",
    "sign_in_code",
    "reset_password",
    "set_password",
    "confirm_new_email",
}


def live_secrets(message):
    """Every piece of the message (a link's path segment, a 6-digit number) an account token answers to."""
    text = message.subject + "\n" + message.text_body
    pieces = set(re.findall(r"\b\d{6}\b", text))
    for link in re.findall(r"https?://\S+", text):
        pieces.update(link.split("/"))
    hashes = {hash_ for row in AccountToken.select() for hash_ in (row.link_hash, row.code_hash) if hash_}
    return {piece for piece in pieces if piece and digest(piece) in hashes}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_secret_is_hidden_from_the_owner_and_erased_once_sent(app, make_customer, owner, kind):
    """Issue 19, 2: the outbox must not hand the owner (or a backup) a customer's way in."""
    with app.app_context():
        to = KINDS[kind](app, make_customer, owner)
    message = latest_message(to, kind)
    secrets = live_secrets(message)
    assert bool(secrets) == (kind in KINDS_WITH_SECRETS), f"{kind}: {secrets}"
    assert secrets <= set(message.secret_values), f"{kind} does not name all its secrets"
    app.config["SMTP_HOST"] = "mail.test"  # with a mail server the owner's pages hide them
    owner_browser = signed_in(app.test_client(), owner)
    for path in ("/admin/outbox", f"/admin/outbox/{message.id}"):
        page = owner_browser.get(path).get_data(as_text=True)
        assert not [secret for secret in secrets if secret in page], f"{kind}: {path} shows a secret"
    finish(message, SENT, datetime.datetime.now(datetime.UTC))
    row = OutboxMessage.get_by_id(message.id)
    stored = row.subject + row.text_body + row.html_body + row.secrets
    assert not [secret for secret in secrets if secret in stored], f"{kind} kept a secret after sending"


# --- the HTML part reads well on a phone (issue 21) -------------------------------------------

# The kinds about an order: they list its items in both parts.
ORDER_KINDS = {
    "order_placed",
    "order_paid",
    "order_card_failed",
    "order_awaiting_payment",
    "order_cancelled",
    "order_late_payment",
    "order_bank_received",
    "order_dispatched",
    "order_refunded",
    "new_order_owner",
}
CODE_KINDS = {"confirm_email", "sign_in_code"}


def visible_html(part):
    """The HTML part without its links' addresses (href) and its comments: what can show as text."""
    part = re.sub(r'\shref="[^"]*"', "", part)
    return re.sub(r"<!--.*?-->", "", part, flags=re.S)


def assert_reads_well_on_a_phone(kind, message):
    part = message.html_body
    assert "max-width:600px" in part
    widths = [int(w) for w in re.findall(r'\bwidth="(\d+)"', part) + re.findall(r"width:\s*(\d+)px", part)]
    assert all(width <= 600 for width in widths), f"{kind}: something wider than 600 px: {widths}"
    assert "font-size:16px" in part
    shown = visible_html(part)
    assert "http" not in shown and "www." not in shown, f"{kind}: an address shown as text in the HTML part"
    assert "Open the page" not in part, f"{kind}: a link without its own words"
    text_links = set(re.findall(r"https?://\S+", message.text_body))
    html_links = {html.unescape(link) for link in re.findall(r'href="(https?://[^"]+)"', part)}
    assert html_links == text_links, f"{kind}: the two parts link to different places"
    for link in re.findall(r'<a href="https?://[^"]+"[^>]*>([^<]*)</a>', part):
        assert link.strip(), f"{kind}: a link with no words"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_html_part_reads_well_on_a_phone(app, make_customer, owner, monkeypatch, kind):
    """At most 600 px wide, 16 px text, buttons with words instead of addresses (the text part keeps
    them all), the items of an order in both parts, a code set large."""
    monkeypatch.setattr(sys.modules[__name__], "TYPED", "Ada Lovelace")  # nobody typing a link here
    with app.app_context():
        to = KINDS[kind](app, make_customer, owner)
    message = latest_message(to, kind)
    assert_reads_well_on_a_phone(kind, message)
    if kind in ORDER_KINDS:
        order = Order.select().order_by(Order.id.desc()).get()
        lines = list(order.lines)
        assert lines
        for part in (message.text_body, message.html_body):
            for line in lines:
                assert html.escape(line.name, quote=False) in part, f"{kind}: {line.name} not listed"
            assert "Total" in part
    if kind in CODE_KINDS:
        code = re.search(r'class="code"[^>]*>(\d{6})</span>', message.html_body)
        assert code and code.group(1) in message.text_body, f"{kind}: no code set large"


THREE_ITEMS = ((2, "Assam breakfast tea, loose leaf, 250 g", 900), (3, "Tea towel", 450))


def order_with_three_items(app, make_customer, items=THREE_ITEMS):
    """A bank-transfer order of three products, a discount and a delivery line, emailed again as
    `order_placed` (the list: every line's name and amount, then the total)."""
    customer, order, product = _order(app, make_customer, price=1250)
    rows = [(quantity, name, price, "product") for quantity, name, price in items]
    rows += [(1, "Funds discount", -150, "discount"), (1, "Tracked parcel", 495, "delivery")]
    for quantity, name, price, kind in rows:
        OrderLine.create(
            order=order, product_id=product.id, name=name, unit_price=price, quantity=quantity,
            line_total=quantity * price, kind=kind, vat_rate_bp=2000 if kind == "product" else None,
        )  # fmt: skip
    total = sum(line.line_total for line in OrderLine.select().where(OrderLine.order == order.id))
    Order.update(total=total, bank_amount=total).where(Order.id == order.id).execute()
    record_order_vat(order)  # its VAT as placing it would have: 20 % on 47.45
    order = Order.get_by_id(order.id)
    with app.test_request_context():
        mail_customer(order, "order_placed", f"Order {order.number}: thank you, here is how to pay")
    return customer, order


def test_an_order_email_lists_every_line_products_first_then_discount_and_delivery(
    app, make_customer, owner, monkeypatch
):
    monkeypatch.setattr(sys.modules[__name__], "TYPED", "Ada Lovelace")
    with app.app_context():
        customer, order = order_with_three_items(app, make_customer)
    message = latest_message(customer.email, "order_placed")
    text = message.text_body
    listed = text[text.index("What you ordered:") :].split("\n\n")[0]
    assert listed.splitlines()[1:] == [
        "1 × Mail tea: €12.50",
        "2 × Assam breakfast tea, loose leaf, 250 g: €18.00",
        "3 × Tea towel: €13.50",
        "Funds discount: -€1.50",
        "Tracked parcel: €4.95",
        "Total: €47.45",
        "of which VAT 20%: €7.91",
    ]
    items = re.search(r'class="items".*?</table>', message.html_body, flags=re.S).group(0)
    rows = [
        " ".join(re.sub(r"<[^>]+>", "", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", items, re.S)
    ]
    assert rows == [
        "1 × Mail tea €12.50",
        "2 × Assam breakfast tea, loose leaf, 250 g €18.00",
        "3 × Tea towel €13.50",
        "Funds discount -€1.50",
        "Tracked parcel €4.95",
        "Total €47.45",
        "of which VAT 20% €7.91",
    ]
    assert_reads_well_on_a_phone("order_placed", message)


def test_a_free_delivery_line_says_free(app, make_customer, owner):
    with app.app_context():
        customer, order, _ = _order(app, make_customer)
        OrderLine.create(
            order=order, product_id=0, name="Pickup at the shop", unit_price=0, quantity=1, line_total=0,
            kind="delivery",
        )  # fmt: skip
        with app.test_request_context():
            mail_customer(Order.get_by_id(order.id), "order_cancelled", "Cancelled")
    message = latest_message(customer.email, "order_cancelled")
    assert "Pickup at the shop: Free" in message.text_body
