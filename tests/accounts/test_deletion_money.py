"""Deleting an account that still holds money (issue 20, 4): bonus money alone doesn't stop it, as
it can't be refunded; the page says how much is given up and deleting moves exactly that out
through the ledger, in the deletion's transaction. Money that can go back to a card, money owed,
the customer's own money and an order awaiting payment still stop it, each saying what to do."""

import secrets

import pytest

from models.accounts.profile import delete_account
from models.funds.customer_accounts import account_for
from models.funds.ledger import check_ledger
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerError
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.signup_bonus import credit_signup_bonus
from models.funds.top_ups import complete_top_up
from models.funds.top_ups import start_top_up
from models.funds.top_ups import TopUp
from models.orders.order import BANK
from models.shop.settings import update_settings
from models.users.user import User
from payments import sandbox
from payments.sandbox import SandboxPayment
from tests.conftest import post_form
from tests.conftest import TEST_PASSWORD
from tests.factories import placed_order

DELETE = "/account/delete"


@pytest.fixture
def bonus_only(app, customer, owner):
    """The customer's balance is their 5.00 welcome bonus and nothing else."""
    with app.app_context():
        update_settings({"signup_bonus": 500}, owner)
    credit_signup_bonus(customer)
    assert account_for(customer).balance == 500
    return customer


def delete(client, bonus_told):
    return post_form(client, DELETE, {"password": TEST_PASSWORD, "bonus_given_up": str(bonus_told)})


def text(response):
    return response.get_data(as_text=True)


def forfeits():
    return list(Journal.select().where(Journal.kind == "bonus_forfeited"))


def test_a_bonus_only_balance_is_given_up_through_the_ledger_when_the_account_is_deleted(
    customer_client, bonus_only
):
    page = text(customer_client.get(DELETE))
    assert "You give up €5.00 of bonus money." in page
    assert "can't be refunded or paid out" in page
    assert 'name="bonus_given_up" value="500"' in page
    response = delete(customer_client, 500)
    assert response.status_code == 303
    assert User.get_by_id(bonus_only.id).deleted_at is not None
    (journal,) = forfeits()
    assert journal.idempotency_key == f"bonus-forfeited:{bonus_only.id}"
    assert journal.memo == "Bonus given up when the account was deleted"
    legs = {(entry.account_id, entry.amount, entry.category) for entry in journal.entries}
    assert legs == {
        (account_for(bonus_only).id, -500, "bonus_reversal"),
        (system_account(PROMOTIONS).id, 500, "bonus_reversal"),
    }
    assert account_for(bonus_only).balance == 0
    assert check_ledger() == []


def test_when_the_bonus_changed_since_the_page_was_shown_nothing_is_deleted_and_the_page_says_so(
    customer_client, bonus_only
):
    customer_client.get(DELETE)  # the page says 5.00
    transfer(  # a referral reward arrives meanwhile
        "late-reward",
        "affiliate_reward",
        [Leg(system_account(PROMOTIONS), -300, "reward"), Leg(account_for(bonus_only), 300, "reward")],
    )
    response = delete(customer_client, 500)
    assert response.status_code == 422
    page = text(response)
    assert "Your balance has just changed: deleting your account now gives up €8.00 of bonus money." in page
    assert 'name="bonus_given_up" value="800"' in page
    assert User.get_by_id(bonus_only.id).deleted_at is None and forfeits() == []
    assert delete(customer_client, 800).status_code == 303
    assert account_for(bonus_only).balance == 0


def test_a_told_amount_that_is_not_a_number_deletes_nothing(customer_client, bonus_only):
    assert delete(customer_client, "5.00").status_code == 422
    assert User.get_by_id(bonus_only.id).deleted_at is None and forfeits() == []


def test_money_that_can_go_back_to_the_card_still_stops_deletion_and_says_how_to_ask(
    app, customer_client, bonus_only
):
    with app.test_request_context():
        top_up = start_top_up(bonus_only, 2000, secrets.token_urlsafe(18))
    sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id), "approve")
    complete_top_up(TopUp.get_by_id(top_up.id))
    page = text(customer_client.get(DELETE))
    assert (
        "€20.00 of your balance can go back to your card. Ask for a refund on your funds page first" in page
    )
    assert 'href="/account/funds#refunds">Ask for a refund</a>' in page
    assert 'name="password"' not in page
    response = delete(customer_client, 500)
    assert response.status_code == 422
    assert User.get_by_id(bonus_only.id).deleted_at is None and forfeits() == []
    with pytest.raises(LedgerError, match="can go back to your card"):
        delete_account(bonus_only, TEST_PASSWORD, 500)


def test_an_order_awaiting_payment_stops_deletion(customer_client, customer, make_product, app):
    with app.test_request_context():
        placed_order(customer, (make_product(price=1500), 1), funds=500, method=BANK)
    page = text(customer_client.get(DELETE))
    assert "You have an order waiting for payment. Pay for it or cancel it first" in page
    assert delete(customer_client, 0).status_code == 422
    assert User.get_by_id(customer.id).deleted_at is None


def test_an_empty_account_is_deleted_without_any_movement(customer_client, customer):
    account_for(customer)
    assert "bonus money" not in text(customer_client.get(DELETE))
    assert delete(customer_client, 0).status_code == 303
    assert User.get_by_id(customer.id).deleted_at is not None
    assert Entry.select().count() == 0
