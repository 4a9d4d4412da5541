"""Money held for orders as the customer reads it (issue 20, 3): a hold reads "held", "paid" or
"released" by what became of its order, in the history, its CSV and the monthly statement (never
"on hold" once the order is paid); what is owed leaves out holds of orders awaiting payment, and
the pages say so."""

import csv
import datetime
import io
import re

import pytest

from models.funds.credit import owed_by
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.holds import on_hold
from models.funds.ledger import check_ledger
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.statements import issue_statements
from models.funds.top_ups import TopUp
from models.orders.cancelling import cancel_order
from models.orders.fulfilment import receive_bank_transfer
from models.orders.fulfilment import REINSTATED
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.shop.outbox import OutboxMessage
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import change_default_group
from tests.factories import placed_order

LONDON = datetime.timezone(datetime.timedelta(0))  # October and November: London is at UTC+0


@pytest.fixture
def buyer(make_customer):
    """A customer who may pay on account up to 100.00."""
    change_default_group(pay_on_account=True)
    customer = make_customer()
    set_credit_limit(customer, 10000)
    return customer


@pytest.fixture
def shop_does(app):
    """shop_does(operation, *args, **kwargs): an order operation in a request context of its own
    (for the links in its emails), left before the test's client makes its requests."""

    def run(operation, *args, **kwargs):
        with app.test_request_context():
            return operation(*args, **kwargs)

    return run


def descriptions(client, query=""):
    html = client.get(f"/account/funds/history{query}").get_data(as_text=True)
    return html, re.findall(r'class="stack-table__title">([^<]+)<', html)


def csv_descriptions(client):
    text = client.get("/account/funds/history.csv").get_data(as_text=True)
    return text, [row[1] for row in list(csv.reader(io.StringIO(text)))[1:]]


def test_a_paid_orders_hold_reads_paid_in_the_history_and_its_csv(client, buyer, make_product, shop_does):
    order = shop_does(placed_order, buyer, (make_product(price=2500), 1), funds=5000)
    assert order.status == PAID
    sign_in(client, buyer)
    html, shown = descriptions(client)
    assert shown[0] == f"Paid for order {order.number}"
    assert "on hold" not in html.lower()
    text, rows = csv_descriptions(client)
    assert rows[0] == f"Paid for order {order.number}"
    assert "on hold" not in text.lower()
    _, filtered = descriptions(client, "?category=hold")  # the filter's "Orders"
    assert filtered == [f"Paid for order {order.number}"]


def test_a_hold_reads_held_then_released_when_the_order_is_cancelled(client, buyer, make_product, shop_does):
    order = shop_does(placed_order, buyer, (make_product(price=2500), 1), funds=1000, method=BANK)
    assert order.status == PENDING_PAYMENT and order.held == 1000
    sign_in(client, buyer)
    assert descriptions(client)[1][0] == f"Held for order {order.number}"
    shop_does(cancel_order, order)
    assert descriptions(client)[1][:2] == [
        f"Released: order {order.number} was cancelled",
        f"Held for order {order.number}, released later",
    ]
    assert csv_descriptions(client)[1][:2] == descriptions(client)[1][:2]


def test_an_order_taken_up_again_reads_released_then_paid(client, buyer, owner, make_product, shop_does):
    """Cancelled, then its bank transfer arrived: the second hold (key …:2) was captured."""
    order = shop_does(placed_order, buyer, (make_product(price=2500), 1), funds=1000, method=BANK)
    shop_does(cancel_order, order)
    assert owed_by(buyer).on_hold == 0
    assert shop_does(receive_bank_transfer, order, owner) == REINSTATED
    assert Order.get_by_id(order.id).status == PAID
    sign_in(client, buyer)
    assert descriptions(client)[1][:3] == [
        f"Paid for order {order.number}",
        f"Released: order {order.number} was cancelled",
        f"Held for order {order.number}, released later",
    ]
    assert owed_by(buyer).on_hold == 0


def test_a_later_hold_of_the_same_round_shares_its_fate(client, buyer, owner, make_product, shop_does):
    """Paying more of an unpaid order from the account later holds again under the round's key
    and "/<form key>"; the order's one capture covers it."""
    order = shop_does(placed_order, buyer, (make_product(price=2500), 1), funds=1000, method=BANK)
    transfer(
        f"order-hold:{order.id}/form-key-0001",
        "order_hold",
        [Leg(account_for(buyer), -500, "hold"), Leg(system_account(FUNDS_ON_HOLD), 500, "hold")],
        memo=f"Order {order.number} (on hold)",
    )
    sign_in(client, buyer)
    assert descriptions(client)[1][:2] == [f"Held for order {order.number}"] * 2
    assert (owed_by(buyer).amount, owed_by(buyer).on_hold) == (0, 1500)  # the 5.00 on credit is held
    shop_does(receive_bank_transfer, order, owner)
    assert descriptions(client)[1][:2] == [f"Paid for order {order.number}"] * 2
    assert (owed_by(buyer).amount, on_hold(account_for(buyer))) == (500, 0)


def test_the_monthly_statement_says_paid_for_a_paid_order(app, buyer, make_product, shop_does):
    october = datetime.datetime(2026, 10, 15, 12)  # naive UTC
    order = shop_does(placed_order, buyer, (make_product(price=4000), 1), use_credit=True, now=october)
    assert order.status == PAID and order.credit_used == 4000
    with app.app_context():
        assert issue_statements(datetime.datetime(2026, 11, 1, 7, tzinfo=LONDON)) == 1
    mail = OutboxMessage.get(OutboxMessage.kind == "credit_statement")
    assert f"Paid for order {order.number}  -€40.00" in mail.text_body
    assert "on hold" not in mail.text_body.lower()


@pytest.fixture
def owing_with_a_hold(buyer, make_product, shop_does):
    """40.00 spent on account (paid), and an order of 100.00 awaiting its bank transfer: 60.00 of
    it held on credit, 40.00 to come by bank. The balance is -100.00; 40.00 is owed."""
    paid = shop_does(
        placed_order, buyer, (make_product(price=4000), 1), key="order-key-paid-00001", use_credit=True
    )
    waiting = shop_does(
        placed_order,
        buyer,
        (make_product(price=10000), 1),
        key="order-key-wait-00001",
        use_credit=True,
        method=BANK,
    )
    assert paid.status == PAID and waiting.status == PENDING_PAYMENT and waiting.held == 6000
    return waiting


def test_what_is_owed_leaves_out_holds_of_unpaid_orders_and_says_so(
    client, buyer, owner, owing_with_a_hold, shop_does
):
    owed = owed_by(buyer)
    assert (owed.amount, owed.on_hold) == (4000, 6000)
    sign_in(client, buyer)
    for path in ("/account/funds", "/account/credit/", "/account/credit/repay"):
        page = client.get(path).get_data(as_text=True)
        assert "You owe €40.00" in page or "You owe <strong>€40.00</strong>" in page, path
        assert "You owe €100.00" not in page and "owe <strong>€100.00" not in page, path
        assert "€60.00 on hold for" in page and "is not included" in page, path
    assert 'value="40.00"' in client.get("/account/credit/repay").get_data(as_text=True)
    too_much = post_form(
        client, "/account/credit/repay", {"amount": "41", "method": "card", "idempotency_key": "r" * 20}
    )
    assert too_much.status_code == 422
    assert "You owe €40.00; enter at most that." in too_much.get_data(as_text=True)
    # Paid: the credit the order took is owed now.
    shop_does(receive_bank_transfer, owing_with_a_hold, owner)
    assert (owed_by(buyer).amount, owed_by(buyer).on_hold) == (10000, 0)
    assert "You owe €100.00" in client.get("/account/funds").get_data(as_text=True)
    assert check_ledger() == []


def test_a_cancelled_order_gives_its_hold_back_and_what_is_owed_stays(buyer, owing_with_a_hold, shop_does):
    shop_does(cancel_order, owing_with_a_hold)
    assert (owed_by(buyer).amount, owed_by(buyer).on_hold) == (4000, 0)


def test_below_zero_only_through_a_hold_nothing_is_owed_yet(client, buyer, make_product, shop_does):
    """All 100.00 of credit held for an order of 120.00 whose other 20.00 comes by bank."""
    shop_does(placed_order, buyer, (make_product(price=12000), 1), use_credit=True, method=BANK)
    assert (owed_by(buyer).amount, owed_by(buyer).on_hold) == (0, 10000)
    sign_in(client, buyer)
    page = client.get("/account/funds").get_data(as_text=True)
    assert "You owe nothing yet" in page and "€100.00 on hold for" in page
    assert "Pay what you owe" not in page
    assert "You don't owe anything" in client.get("/account/credit/repay").get_data(as_text=True)
    refused = post_form(
        client, "/account/credit/repay", {"amount": "10", "method": "card", "idempotency_key": "r" * 20}
    )
    assert refused.status_code == 422 and "You don't owe anything" in refused.get_data(as_text=True)
    assert TopUp.select().count() == 0
