"""The customer's order pages beyond checkout: the signed pay link (signed out too), paying by card or
bank transfer and switching between them, "Order again", the printable invoice, the late-payment
email for each case, and the address form returning to checkout."""

import datetime
import re
from html import unescape

import pytest
from itsdangerous import URLSafeSerializer

from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.groups.group import CustomerGroup
from models.orders.cancelling import cancel_order
from models.orders.card_payments import card_payment_in_progress
from models.orders.card_payments import CardPaymentPending
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.card_payments import switch_to_bank
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderEvent
from models.orders.order import OrderPayment
from models.orders.paid import mark_paid
from models.orders.pay_link import order_for_pay_link
from models.orders.pay_link import pay_link
from models.orders.pay_link import PAY_LINK_SALT
from models.orders.pay_link import pay_link_token
from models.orders.reorder import order_again
from models.orders.waiting_email import send_waiting_emails
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.storefront.cart import add_to_cart
from models.storefront.cart import CartLine
from models.storefront.cart import find_cart
from models.storefront.catalog import Product
from payments import PaymentError
from payments import sandbox
from payments.sandbox import SandboxPayment
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import placed_order

SECRET = "test-secret"  # tests/conftest.py app_config
_keys = iter(range(1, 1_000_000))


def new_key():
    return f"order-pages-key-{next(_keys):08d}"


def make_order(app, user, lines, method=CARD, funds=0):
    """An order placed through models/orders/, as checkout places it (in a request context for its links)."""
    with app.test_request_context():
        return placed_order(user, *lines, key=new_key(), funds=funds, method=method)


def cancel(app, order, note=""):
    with app.app_context():  # the email's links and money need the app
        assert cancel_order(order, None, note)


def start_card(app, order):
    with app.test_request_context():
        return start_card_payment(order, new_key())


def link_path(app, order):
    with app.app_context():
        return pay_link(order).removeprefix("http://shop.test")


def fresh(order):
    return Order.get_by_id(order.id)


def text_of(response):
    return unescape(response.get_data(as_text=True))


def heading_of(html):
    """The page's h1 as a reader sees it: no tags, single spaces."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", h1).split())


@pytest.fixture
def buyer(make_customer):
    return make_customer(first_name="Ann")


@pytest.fixture
def tea(make_product):
    return make_product(price=3000, stock=5, name="Green tea")


@pytest.fixture
def unpaid(app, buyer, tea):
    """1 × 30.00, 10.00 from funds (held), 20.00 to pay by card."""
    return make_order(app, buyer, [(tea, 1)], funds=1000)


# The signed link -----------------------------------------------------------------------------


def test_pay_link_is_absolute_signed_and_names_one_order(app, unpaid):
    with app.app_context():
        url = pay_link(unpaid)
        token = pay_link_token(unpaid)
    assert url == f"http://shop.test/account/orders/link/{token}"
    with app.app_context():
        assert order_for_pay_link(token).id == unpaid.id


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: "X" + token[1:],  # payload changed
        lambda token: token.split(".")[0],  # no signature
        lambda token: "not-a-token",
        lambda token: "x" * 300,
    ],
)
def test_a_tampered_or_garbage_token_is_not_found(app, client, unpaid, mangle):
    with app.app_context():
        token = pay_link_token(unpaid)
    response = client.get(f"/account/orders/link/{mangle(token)}")
    assert response.status_code == 404
    assert client.get(f"/account/orders/{unpaid.id}/pay").status_code == 302  # no access was granted


def test_tokens_signed_for_something_else_or_naming_another_customer_are_refused(
    app, client, unpaid, make_customer
):
    other_salt = URLSafeSerializer(SECRET, salt="something-else").dumps([unpaid.id, unpaid.user_id])
    wrong_user = URLSafeSerializer(SECRET, salt=PAY_LINK_SALT).dumps([unpaid.id, make_customer().id])
    not_numbers = URLSafeSerializer(SECRET, salt=PAY_LINK_SALT).dumps(["1", True])
    for token in (other_salt, wrong_user, not_numbers):
        assert client.get(f"/account/orders/link/{token}").status_code == 404


def test_unpaid_link_opens_the_payment_page_signed_out(app, client, unpaid):
    response = client.get(link_path(app, unpaid))
    assert response.status_code == 302
    assert response.location.endswith(f"/account/orders/{unpaid.id}/pay")
    page = client.get(response.location)
    html = text_of(page)
    assert page.status_code == 200
    assert heading_of(html) == f"Pay order {unpaid.number}" and "Still to pay" in html and "€20.00" in html
    assert "Pay €20.00 by card" in html and "Pay by bank transfer instead" in html
    assert page.headers["Cache-Control"] == "no-store"
    # nothing else of the account: no addresses, no history, no link to the order page
    assert "1 High St" not in html and "Ann Buyer" not in html and "History" not in html
    assert f'href="/account/orders/{unpaid.id}"' not in html


def test_paid_link_says_already_paid(app, client, make_product, buyer):
    order = make_order(app, buyer, [(make_product(price=500), 1)], funds=1000)
    assert order.status == "paid"
    html = text_of(client.get(link_path(app, order), follow_redirects=True))
    assert heading_of(html) == f"Order {order.number} is paid" and "nothing more to pay" in html
    assert "Sign in to see the order" in html and "Order again" in html


@pytest.mark.parametrize("status, words", [("dispatched", "on its way"), ("completed", "delivered")])
def test_dispatched_and_completed_links_say_so(app, client, make_product, buyer, status, words):
    order = make_order(app, buyer, [(make_product(price=500), 1)], funds=1000)
    Order.update(status=status).where(Order.id == order.id).execute()
    html = text_of(client.get(link_path(app, order), follow_redirects=True))
    assert heading_of(html) == f"Order {order.number} is paid" and words in html
    assert status.capitalize() in html


def test_cancelled_link_says_why_and_what_happened_to_the_funds(app, client, unpaid):
    cancel(app, unpaid, "Not paid within 72 hours")
    response = client.get(link_path(app, unpaid), follow_redirects=True)
    html = text_of(response)
    assert response.status_code == 200
    assert heading_of(html) == f"Order {unpaid.number} was cancelled"
    assert "Why: Not paid within 72 hours." in html
    assert "The €10.00 it held from your account was released" in html
    assert "Order again" in html and 'href="/"' in html
    assert "Pay €" not in html


def test_paying_from_the_link_without_signing_in(app, client, unpaid):
    client.get(link_path(app, unpaid))
    pay_page = f"/account/orders/{unpaid.id}/pay"
    to_provider = post_form(client, pay_page, {"idempotency_key": new_key()}, page=pay_page)
    assert to_provider.status_code == 303 and "/sandbox/pay/" in to_provider.location
    back = client.post(
        to_provider.location,
        data={"outcome": "approve", "csrf_token": csrf_token(client, to_provider.location)},
    )
    assert "/account/orders/link/" in back.location  # back through the link: works in any browser
    html = text_of(app.test_client().get(back.location, follow_redirects=True))  # a fresh browser
    assert f"order {unpaid.number} is paid" in html
    assert fresh(unpaid).status == "paid"


def test_the_link_opens_nothing_else_of_the_account(app, client, unpaid, buyer, make_product):
    other = make_order(app, buyer, [(make_product(), 1)], method=BANK)
    client.get(link_path(app, unpaid))
    for path in (
        f"/account/orders/{unpaid.id}",
        f"/account/orders/{unpaid.id}/invoice",
        "/account/orders",
        "/account/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 302)
        assert other.number not in response.get_data(as_text=True)
        if path != "/account/":
            assert response.status_code == 302 and "/sign-in" in response.location
    # another order of the same customer is not opened by this order's link
    assert client.get(f"/account/orders/{other.id}/pay").status_code == 302
    token = csrf_token(client, f"/account/orders/{unpaid.id}/pay")
    assert client.post(f"/account/orders/{other.id}/pay/bank", data={"csrf_token": token}).status_code == 302
    assert fresh(other).payment_method == BANK


def test_another_signed_in_customer_with_the_link_sees_only_the_payment_page(
    app, client, unpaid, make_customer
):
    sign_in(client, make_customer())
    assert client.get(f"/account/orders/{unpaid.id}/pay").status_code == 404  # not without the link
    assert client.get(link_path(app, unpaid), follow_redirects=True).status_code == 200
    assert client.get(f"/account/orders/{unpaid.id}").status_code == 404
    assert client.get(f"/account/orders/{unpaid.id}/invoice").status_code == 404
    token = csrf_token(client, "/account/orders")
    assert client.post(f"/account/orders/{unpaid.id}/cancel", data={"csrf_token": token}).status_code == 404
    assert fresh(unpaid).status == "pending_payment"


def test_signing_in_forgets_the_links_opened_before(app, client, unpaid, make_customer):
    client.get(link_path(app, unpaid))
    sign_in(client, make_customer())
    assert client.get(f"/account/orders/{unpaid.id}/pay").status_code == 404


def test_polling_gets_the_fragment(app, client, unpaid):
    client.get(link_path(app, unpaid))
    response = client.get(f"/account/orders/{unpaid.id}/pay", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert 'id="pay-body"' in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


# Switching how to pay ------------------------------------------------------------------------------


def test_switch_card_to_bank_and_back(app, client, unpaid):
    client.get(link_path(app, unpaid))
    pay_page = f"/account/orders/{unpaid.id}/pay"
    response = post_form(client, f"/account/orders/{unpaid.id}/pay/bank", page=pay_page)
    assert response.status_code == 303 and response.location.endswith(pay_page)
    order = fresh(unpaid)
    assert (order.payment_method, order.bank_amount, order.card_amount, order.due) == (BANK, 2000, 0, 2000)
    html = text_of(client.get(pay_page))
    assert "Pay by bank transfer" in html and "Reference" in html and order.number in html
    assert "Rather pay by card?" in html and "Pay €20.00 by card" in html
    post_form(client, f"/account/orders/{unpaid.id}/pay/bank", page=pay_page)  # again: nothing changes
    notes = [e.note for e in OrderEvent.select().where(OrderEvent.order == unpaid.id)]
    assert notes.count("Payment method changed to bank transfer") == 1
    assert (
        OrderEvent.get(OrderEvent.note == "Payment method changed to bank transfer").actor_label == "customer"
    )

    to_provider = post_form(client, pay_page, {"idempotency_key": new_key()}, page=pay_page)
    assert "/sandbox/pay/" in to_provider.location
    order = fresh(unpaid)
    assert (order.payment_method, order.card_amount, order.bank_amount) == (CARD, 2000, 0)
    assert "Payment method changed to card" in [e.note for e in OrderEvent.select()]


def test_no_switch_to_bank_while_a_card_payment_is_being_confirmed(app, client, unpaid):
    payment = start_card(app, unpaid)
    client.get(link_path(app, unpaid))
    pay_page = f"/account/orders/{unpaid.id}/pay"
    html = text_of(client.get(pay_page))
    assert "A card payment is being confirmed" in html and "Check again" in html
    assert "Pay by bank transfer instead" not in html
    assert "Go back to the card payment" in html
    token = csrf_token(client, pay_page)
    response = client.post(f"/account/orders/{unpaid.id}/pay/bank", data={"csrf_token": token})
    assert response.status_code == 303
    assert "is being confirmed" in text_of(client.get(response.location))
    assert fresh(unpaid).payment_method == CARD
    # the payer declines at the provider: now bank transfer is fine
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "decline")
    client.post(f"/account/orders/{unpaid.id}/pay/bank", data={"csrf_token": token})
    assert fresh(unpaid).payment_method == BANK
    assert OrderPayment.get_by_id(payment.id).state == "failed"


def test_a_card_payment_that_succeeded_meanwhile_pays_and_no_switch(app, unpaid):
    payment = start_card(app, unpaid)
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
    with app.test_request_context(), pytest.raises(OrderError, match="nothing left to pay"):
        switch_to_bank(unpaid)
    order = fresh(unpaid)
    assert (order.status, order.payment_method, order.bank_amount) == ("paid", CARD, 0)


def test_unknown_provider_answer_counts_as_being_confirmed(app, unpaid, monkeypatch):
    payment = start_card(app, unpaid)

    def unreachable(self, provider_payment_id, now=None):
        raise PaymentError("timeout")

    monkeypatch.setattr(sandbox.SandboxProvider, "get_status", unreachable)
    with app.test_request_context():
        assert card_payment_in_progress(unpaid).id == payment.id
        with pytest.raises(CardPaymentPending):
            switch_to_bank(unpaid)
    assert fresh(unpaid).payment_method == CARD


def test_a_start_that_never_reached_the_provider_does_not_block_for_ever(app, unpaid):

    with app.test_request_context():
        stuck = OrderPayment.create(
            order=unpaid,
            user=unpaid.user_id,
            amount=unpaid.due,
            currency=unpaid.currency,
            idempotency_key="stuck-start",
            created_at=datetime.datetime(2020, 1, 1),
        )
        assert card_payment_in_progress(unpaid) is None
        assert switch_to_bank(unpaid).payment_method == BANK
        OrderPayment.update(created_at=datetime.datetime.utcnow()).where(
            OrderPayment.id == stuck.id
        ).execute()
        Order.update(payment_method=CARD, card_amount=2000, bank_amount=0).where(
            Order.id == unpaid.id
        ).execute()
        with pytest.raises(CardPaymentPending):  # a start on its way to the provider right now
            switch_to_bank(unpaid)


# Order again ------------------------------------------------------------------------------------


def test_order_again_with_sold_out_changed_price_retired_and_short_stock(
    app, customer_client, customer, make_product
):
    sold_out = make_product(price=500, stock=5, name="Sold-out tea")
    dearer = make_product(price=700, stock=5, name="Dearer tea")
    retired = make_product(price=300, stock=5, name="Retired tea")
    short = make_product(price=200, stock=5, name="Short tea")
    same = make_product(price=100, stock=5, name="Same tea")
    order = make_order(
        app, customer, [(sold_out, 1), (dearer, 2), (retired, 1), (short, 4), (same, 1)], method=BANK
    )
    cancel(app, order, "Not paid")
    Product.update(stock=0).where(Product.id == sold_out.id).execute()
    Product.update(price=900).where(Product.id == dearer.id).execute()
    Product.update(active=False).where(Product.id == retired.id).execute()
    Product.update(stock=3).where(Product.id == short.id).execute()
    response = post_form(
        customer_client, f"/account/orders/{order.id}/order-again", page=f"/account/orders/{order.id}"
    )
    assert response.status_code == 303 and response.location.endswith("/cart")
    cart = {line.product_id: line.quantity for line in CartLine.select()}
    assert cart == {dearer.id: 2, short.id: 3, same.id: 1}
    html = text_of(customer_client.get("/cart"))
    assert (
        f"Added to your cart from order {order.number}: 2 × Dearer tea, 3 × Short tea, 1 × Same tea." in html
    )
    assert "Sold-out tea is sold out, so it wasn't added." in html
    assert "Retired tea is no longer sold, so it wasn't added." in html
    assert "Dearer tea now costs €9.00 (it was €7.00" in html
    assert "Only 3 of Short tea in stock" in html


def test_order_again_from_the_link_signed_out_fills_the_visitors_cart(app, client, unpaid, tea):
    cancel(app, unpaid, "Cancelled by you")
    client.get(link_path(app, unpaid))
    page = f"/account/orders/{unpaid.id}/pay"
    response = post_form(client, f"/account/orders/{unpaid.id}/order-again", page=page)
    assert response.status_code == 303
    assert "1 × Green tea" in text_of(client.get("/cart"))
    visitor_cart = find_cart(visitor_key=CartLine.select().get().cart.visitor_key)
    assert visitor_cart.user_id is None


def test_order_again_model_when_nothing_can_be_added(app, buyer, tea):
    order = make_order(app, buyer, [(tea, 1)], method=BANK)
    Product.update(active=False).where(Product.id == tea.id).execute()
    with app.test_request_context():
        result = order_again(order, user=buyer)
    assert result.added == [] and result.notes == ["Green tea is no longer sold, so it wasn't added."]


# The invoice -----------------------------------------------------------------------------------


def shop_with_bank_details():
    update_settings(
        {"bank_account_name": "Test Shop Ltd", "bank_iban": "GB33BUKB20201555555555", "contact_phone": ""}
    )


def test_invoice_of_a_paid_order(app, customer_client, customer, make_product):
    shop_with_bank_details()
    CustomerGroup.update(funds_discount_bp=250).where(CustomerGroup.is_default == True).execute()  # noqa: E712
    product = make_product(price=1060, stock=3, name="Oolong")
    order = make_order(app, customer, [(product, 2)], funds=1000)
    with app.test_request_context():
        payment = start_card_payment(order, new_key())
        complete_card_payment(payment)
    order = fresh(order)
    assert order.status == "paid" and order.funds_discount
    response = customer_client.get(f"/account/orders/{order.id}/invoice")
    html = text_of(response)
    assert response.status_code == 200
    assert '<h1 id="invoice-title">Invoice</h1>' in html and "Pro forma" not in html
    # Its own number from the year's sequence (tests/invoices/ check every field of the document).
    assert re.search(r"Invoice number</dt><dd>\d{4}-\d{6}</dd>", html)
    for text in (
        "Test Shop",
        f"Order</dt><dd>{order.number}",
        "Date of issue",
        "Billed to",
        "Delivered to",
        "1 High St",
        "United Kingdom",
        "Oolong",
        "€8.83",  # €10.60 without its 20 % VAT
        "€21.20",
        "Discount for paying with funds (2.5 %)",
        f"−€{order.funds_discount / 100:.2f}",
        f"€{order.total / 100:.2f}",
        "Account funds",
        "Card",
        "How it was paid",
    ):
        assert text in html, text
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (CSP)
    assert f'href="/account/orders/{order.id}/invoice"' in customer_client.get(
        f"/account/orders/{order.id}"
    ).get_data(as_text=True)


def test_pro_forma_invoice_of_an_unpaid_order(app, customer_client, customer, tea):
    shop_with_bank_details()
    order = make_order(app, customer, [(tea, 1)], method=BANK, funds=500)
    html = text_of(customer_client.get(f"/account/orders/{order.id}/invoice"))
    assert "Pro forma invoice" in html and "Invoice number" not in html
    assert "Amount due by bank transfer" in html and "€25.00" in html
    assert "Account funds (held for this order)" in html
    assert f"with the reference <strong>{order.number}</strong>" in html
    assert "Pro forma invoice" in customer_client.get(f"/account/orders/{order.id}").get_data(as_text=True)


def test_no_invoice_for_a_cancelled_unpaid_order(app, customer_client, customer, tea):
    order = make_order(app, customer, [(tea, 1)], method=BANK)
    cancel(app, order)
    response = customer_client.get(f"/account/orders/{order.id}/invoice")
    assert response.status_code == 200 and "No invoice for order" in text_of(response)
    assert "/invoice" not in customer_client.get(f"/account/orders/{order.id}").get_data(as_text=True)


# The late-payment email -------------------------------------------------------------------------


def late_mail(buyer):
    return OutboxMessage.get(
        (OutboxMessage.kind == "order_late_payment") & (OutboxMessage.to_address == buyer.email)
    )


def owner_mail():
    return OutboxMessage.get(OutboxMessage.kind == "order_late_payment_owner")


def test_late_payment_reinstated(app, buyer, unpaid):
    payment = start_card(app, unpaid)
    cancel_order(unpaid, None, "Not paid within 72 hours", notify=False)
    with app.test_request_context():
        complete_card_payment(payment)
    mail = late_mail(buyer)
    assert mail.subject.startswith(f"Order {unpaid.number} is reinstated and paid")
    assert "arrived after the order had been cancelled (Not paid within 72 hours)" in mail.text_body
    assert "we could reinstate the order, and it is now paid" in mail.text_body
    assert "account funds" not in mail.text_body
    assert "was reinstated" in owner_mail().text_body


def test_late_payment_cancelled_for_good(app, buyer, unpaid, tea):
    payment = start_card(app, unpaid)
    cancel_order(unpaid, None, "Cancelled by you", notify=False)
    Product.update(stock=0).where(Product.id == tea.id).execute()
    with app.test_request_context():
        complete_card_payment(payment)
    body = late_mail(buyer).text_body
    assert "arrived after the order had been cancelled (Cancelled by you)" in body
    assert "We couldn't reinstate the order" in body and "€20.00 is in your account funds" in body
    assert "http://shop.test/account/funds" in body and "/account/orders/link/" in body
    assert "could not be reinstated" in owner_mail().text_body


def test_late_payment_when_the_order_was_already_paid_another_way(app, buyer, unpaid):
    payment = start_card(app, unpaid)
    with app.test_request_context(), write_transaction():  # as if the bank transfer was recorded meanwhile
        Order.update(payment_method=BANK, bank_amount=2000, card_amount=0).where(
            Order.id == unpaid.id
        ).execute()
        mark_paid(fresh(unpaid), None, None, "Bank transfer received")
    with app.test_request_context():
        complete_card_payment(payment)
    mail = late_mail(buyer)
    assert "cancelled" not in mail.text_body
    assert "arrived when the order was already paid by bank transfer" in mail.text_body
    assert "We never charge an order twice: your €20.00 is in your account funds" in mail.text_body
    assert "second payment" in mail.subject
    assert "already paid by bank transfer" in owner_mail().text_body
    assert "cancelled" not in owner_mail().text_body
    assert account_for(buyer).balance == 2000  # the hold was captured, the card money credited


def test_late_payment_that_does_not_match_the_amount_due(app, buyer, unpaid):
    payment = start_card(app, unpaid)
    Order.update(card_amount=2500, total=3500).where(Order.id == unpaid.id).execute()
    with app.test_request_context():
        complete_card_payment(payment)
    body = late_mail(buyer).text_body
    assert "cancelled" not in body
    assert "didn't match what the order still needs (€25.00)" in body
    assert "The order is still waiting for payment:" in body and "/account/orders/link/" in body
    Order.update(card_amount=2000, total=3000).where(Order.id == unpaid.id).execute()  # the ledger check


# The emails carry the link -----------------------------------------------------------------------


def test_order_emails_carry_the_pay_link(app, buyer, unpaid, make_product):
    # a card order's first email waits for the payment's outcome (tests/orders/test_order_emails.py);
    # with none after 15 minutes it is "waiting for payment", with the link
    assert not OutboxMessage.select().where(OutboxMessage.kind == "order_placed").exists()
    with app.test_request_context():
        send_waiting_emails(unpaid.created_at.replace(tzinfo=datetime.UTC) + datetime.timedelta(minutes=15))
        link = pay_link(unpaid)
    placed = OutboxMessage.get(OutboxMessage.kind == "order_awaiting_payment")
    assert link in placed.text_body and "no need to sign in" in placed.text_body
    bank = make_order(app, buyer, [(make_product(price=100), 1)], method=BANK)
    bank_mail = OutboxMessage.get(OutboxMessage.kind == "order_placed")
    with app.app_context():
        assert pay_link(bank) in bank_mail.text_body and "no need to sign in" in bank_mail.text_body
    paid = make_order(app, buyer, [(make_product(price=100), 1)], funds=500)
    assert paid.status == "paid"
    paid_mail = OutboxMessage.get(OutboxMessage.kind == "order_paid")
    assert "/account/orders/link/" not in paid_mail.text_body
    cancel(app, unpaid, "Not paid")
    assert link in OutboxMessage.get(OutboxMessage.kind == "order_cancelled").text_body


# Adding an address from checkout ---------------------------------------------------------------------


def address_data(**extra):
    data = {
        "full_name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "sw1a 1aa",
        "country": "GB",
    }
    return {f"new-address-{name}": value for name, value in data.items()} | extra


def test_adding_an_address_from_checkout_returns_to_checkout(customer_client, customer, tea):
    add_to_cart(tea.id, 1, user=customer)
    checkout = customer_client.get("/checkout").get_data(as_text=True)
    assert 'href="/account/addresses/new?next=/checkout"' in checkout
    form = customer_client.get("/account/addresses/new?next=/checkout").get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/checkout">' in form
    response = post_form(customer_client, "/account/addresses/new", address_data(next="/checkout"))
    assert response.status_code == 303 and response.location == "/checkout"
    assert "12 Analytical Row" in customer_client.get("/checkout").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_the_address_form_never_returns_off_site(customer_client, target):
    response = post_form(customer_client, "/account/addresses/new", address_data(next=target))
    assert response.status_code == 303 and response.location.startswith("/account/addresses")


def test_bank_transfer_is_not_offered_before_the_shop_publishes_its_bank_details(app, client, unpaid):
    with app.app_context():
        update_settings({"bank_iban": "  "})
    client.get(link_path(app, unpaid))
    html = text_of(client.get(f"/account/orders/{unpaid.id}/pay"))
    assert "Pay by card" in html
    assert "bank transfer" not in html
    with app.app_context(), pytest.raises(OrderError, match="doesn't take bank transfers"):
        switch_to_bank(unpaid)
    assert fresh(unpaid).payment_method == CARD
