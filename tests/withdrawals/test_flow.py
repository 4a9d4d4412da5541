"""The withdrawal function end to end over HTTP: the footer's page (order number and email), the
signed link from the emails, the statement, its summary, "Confirm withdrawal", the
acknowledgement, and the owner's refund in Approvals."""

import datetime
import re

import pytest

from models.orders.invoice import invoice_of
from models.orders.order import Order
from models.orders.order import OrderEvent
from models.orders.withdrawal_period import withdrawal_token
from models.refunds.credit_notes import CreditNote
from models.refunds.orders import OrderRefund
from models.shop.outbox import OutboxMessage
from models.shop.settings import load_settings
from models.shop.settings import ShopSettings
from models.withdrawals.statements import REFUNDED
from models.withdrawals.statements import Withdrawal
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import paid_order


@pytest.fixture
def order(app, make_customer, make_product):
    with app.test_request_context():
        buyer = make_customer(first_name="Camille", last_name="Martin")
        return paid_order(buyer, (make_product(price=1000), 2), (make_product(price=500), 1), funds=5000)


def mails(kind):
    return list(OutboxMessage.select().where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))


@pytest.fixture
def url(app, order):
    """The order's statement page, as its signed link and My Account open it."""
    with app.app_context():
        return f"/withdraw/{withdrawal_token(order)}"


def _statement_form(client, url):
    html = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, url)}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if name.startswith(("line-", "quantity-")) or name in ("name", "email", "idempotency_key"):
            data[name] = value
    data["destination"] = "original"
    return data


def _summary_fields(html):
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_the_footer_on_every_page_links_to_the_withdrawal_function(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/withdraw"' in html and "Withdraw from contract here" in html


def test_the_right_order_number_and_email_open_the_statement(client, order, url):
    email = order.user.email
    response = post_form(client, "/withdraw", {"number": order.number, "email": email.upper()})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url)


@pytest.mark.parametrize("wrong", ["number", "email"])
def test_a_wrong_pair_gets_one_neutral_message(client, order, wrong):
    data = {"number": order.number, "email": order.user.email}
    data[wrong] = "2612-99999" if wrong == "number" else "someone@example.com"
    response = post_form(client, "/withdraw", data)
    assert response.status_code == 422
    assert "We can&#39;t find an order with this number and email address" in response.get_data(as_text=True)


def test_wrong_pairs_are_throttled(client, order):
    token = csrf_token(client, "/withdraw")
    codes = [
        client.post(
            "/withdraw", data={"csrf_token": token, "number": "2612-00000", "email": order.user.email}
        ).status_code
        for _ in range(6)
    ]
    assert codes[:3] == [422, 422, 422]
    assert 429 in codes


def test_a_tampered_link_is_not_found(client, url):
    assert client.get(url + "x").status_code == 404


def test_the_receipt_links_to_the_statement_pre_filled_without_signing_in(client, order):
    receipt = mails("order_paid")[-1]
    link = re.search(r"https?://[^/\s]+(/withdraw/[^\s\"<]+)", receipt.text_body)
    assert link, receipt.text_body
    html = client.get(link.group(1)).get_data(as_text=True)
    assert 'value="Camille Martin"' in html
    assert f'value="{order.user.email}"' in html
    assert len(re.findall(r'type="checkbox"[^>]* checked', html)) == 2  # every item, ticked


def test_statement_summary_confirm_acknowledgement(client, order, url):
    data = _statement_form(client, url)
    data["quantity-" + str(order.lines[0].id)] = "1"
    summary = client.post(url, data=data)
    assert summary.status_code == 200
    page = summary.get_data(as_text=True)
    assert "Confirm withdrawal" in page
    assert Withdrawal.select().count() == 0  # nothing is saved before the second button

    done = client.post(f"{url}/confirm", data=_summary_fields(page))
    assert done.status_code == 303
    again = client.post(f"{url}/confirm", data=_summary_fields(page))  # a double click
    assert again.headers["Location"] == done.headers["Location"]
    withdrawal = Withdrawal.get()
    assert withdrawal.name == "Camille Martin" and withdrawal.destination == "original"
    assert sorted((line.order_line.name, line.quantity) for line in withdrawal.lines) == [
        ("Tea 1", 1),
        ("Tea 2", 1),
    ]
    assert OrderEvent.select().where(OrderEvent.note == "Withdrawal received").count() == 1

    acknowledgement = mails("order_withdrawal")[-1]
    assert acknowledgement.to_address == order.user.email
    text = acknowledgement.text_body
    assert f"We received your withdrawal from order {order.number}" in text
    assert "Name: Camille Martin" in text and "1 × Tea 1" in text and "1 × Tea 2" in text
    assert "We refund you within 14 days of your statement" in text
    owner_mail = mails("order_withdrawal_owner")[-1]
    assert owner_mail.to_address == load_settings().contact_email

    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Withdrawal received" in shown and "1 × Tea 1" in shown


def test_the_acknowledgement_gives_the_sellers_address_for_the_goods(client, url):
    ShopSettings.update(legal_name="Thé & Co SAS", legal_address="12 rue des Lilas\n75011 Paris").execute()
    _withdraw(client, url)
    text = mails("order_withdrawal")[-1].text_body
    assert (
        "Please send the goods back within 14 days to:\nThé & Co SAS\n12 rue des Lilas\n75011 Paris" in text
    )
    assert "if you need the return address" not in text


def test_no_item_ticked_is_refused_with_the_values_kept(client, url):
    data = {k: v for k, v in _statement_form(client, url).items() if not k.startswith("line-")}
    data["name"] = "C. Martin"
    response = client.post(url, data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tick at least one item to withdraw from." in page and 'value="C. Martin"' in page


def _withdraw(client, url, **changes):
    data = {**_statement_form(client, url), **changes}
    page = client.post(url, data=data).get_data(as_text=True)
    assert client.post(f"{url}/confirm", data=_summary_fields(page)).status_code == 303
    return Withdrawal.select().order_by(Withdrawal.id.desc()).get()


def test_the_owner_refunds_a_partial_withdrawal_from_approvals(client, order, url, owner):
    first, *others = sorted(order.lines, key=lambda line: line.id)
    unticked = {f"line-{line.id}": "" for line in others}
    withdrawal = _withdraw(client, url, **unticked, **{f"quantity-{first.id}": "1"})
    client.post("/sign-out", data={"csrf_token": csrf_token(client)})
    sign_in(client, owner)
    page = client.get("/admin/approvals").get_data(as_text=True)
    assert f"withdrew from order {order.number}" in page and "Waiting for the goods" in page
    response = post_form(
        client, f"/admin/approvals/withdrawals/{withdrawal.id}/refund", page="/admin/approvals"
    )
    assert response.status_code == 303
    refund = OrderRefund.get()
    assert refund.amount == 1000  # one of two at 10.00, no funds discount, no delivery
    assert Withdrawal.get_by_id(withdrawal.id).state == REFUNDED
    assert mails("order_refunded")
    credit_note = CreditNote.get(CreditNote.order_refund_id == refund.id)  # with its credit note
    assert credit_note.amount == 1000 and credit_note.invoice == invoice_of(order)
    assert credit_note.invoice_number == invoice_of(order).number
    post_form(client, f"/admin/approvals/withdrawals/{withdrawal.id}/refund", page="/admin/approvals")
    assert OrderRefund.select().count() == 1


def test_after_the_period_the_link_says_so_with_the_day_it_ended(client, order, url):
    Order.update(
        status="completed",
        dispatched_at=datetime.datetime(2026, 1, 2),
        delivered_at=datetime.datetime(2026, 1, 5, 10),
    ).where(Order.id == order.id).execute()
    page = client.get(url).get_data(as_text=True)
    assert "The time to withdraw from this order ended with 19 Jan 2026, 14 days after delivery." in page
    assert "Confirm withdrawal" not in page and 'name="name"' not in page
    assert "Write to us at" in page
