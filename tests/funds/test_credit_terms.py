"""Paying on account over time: the shop's default limits, paying back what is owed (card or
bank transfer), monthly statements, and overdue debt blocking further credit."""

import datetime
import re

import pytest
import time_machine

from models.funds.credit import CreditStatement
from models.funds.credit import overdue_customers
from models.funds.customer_accounts import account_for
from models.funds.ledger import Declined
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.statements import enforce_credit_terms
from models.funds.statements import issue_statements
from models.funds.top_ups import TopUp
from models.groups.group import CustomerGroup
from models.groups.management import update_group
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from payments.sandbox import SandboxPayment
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.shop.test_admin import VALID_SETTINGS

LONDON = datetime.timezone(datetime.timedelta(0))  # November/December: London is at UTC+0


def at(year, month, day, hour=12):
    """A moment in shop time (Europe/London, which is UTC in these winter months)."""
    return datetime.datetime(year, month, day, hour, tzinfo=LONDON)


def naive(moment):
    return moment.astimezone(datetime.UTC).replace(tzinfo=None)


def spend(customer, amount, when, key):
    legs = [Leg(account_for(customer), -amount, "spend"), Leg(system_account(SALES), amount, "spend")]
    return transfer(key, "order", legs, memo="Order", now=naive(when))


@pytest.fixture
def on_account(app, owner):
    """Basic customers may pay on account up to 100.00 (the shop's default limit)."""
    basic = CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712
    with app.app_context():
        update_settings({"default_credit_limit": 10000}, owner)
        update_group(basic, {"pay_on_account": True}, owner)
    return basic


@pytest.fixture
def in_debt(on_account, customer):
    """The customer bought 40.00 on account in October."""
    spend(customer, 4000, at(2026, 10, 15), "october-order")
    return customer


# The shop's default limits ------------------------------------------------------------------


def test_groups_follow_the_shops_default_limits_unless_they_have_their_own(app, owner, customer_client):
    with app.app_context():
        update_settings({"topup_min": 500, "topup_max": 2000}, owner)
    page = customer_client.get("/account/funds").get_data(as_text=True)
    assert "Between €5.00 and €20.00" in page
    basic = CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712
    update_group(basic, {"own_limits": True, "topup_min": 1500, "topup_max": 3000}, owner)
    page = customer_client.get("/account/funds").get_data(as_text=True)
    assert "Between €15.00 and €30.00" in page


def test_changing_the_default_credit_limit_reaches_every_following_account(app, owner, customer, on_account):
    assert account_for(customer).credit_limit == 10000
    with app.app_context():
        update_settings({"default_credit_limit": 25000}, owner)
    assert account_for(customer).credit_limit == 25000


def test_settings_refuse_a_largest_top_up_below_the_smallest(owner_client):

    response = post_form(
        owner_client, "/admin/settings", dict(VALID_SETTINGS, topup_min="50", topup_max="20")
    )
    assert response.status_code == 422
    assert "The largest top-up must be at least the smallest." in response.get_data(as_text=True)
    assert 'value="50"' in response.get_data(as_text=True)


# Paying back ---------------------------------------------------------------------------------


def repay(client, amount, method="card", key="r" * 20):
    return post_form(
        client,
        "/account/credit/repay",
        {"amount": amount, "method": method, "idempotency_key": key},
    )


def test_a_customer_in_debt_sees_what_they_owe_and_a_way_to_pay(client, in_debt):
    sign_in(client, in_debt)
    for path in ("/account/funds", "/account/credit/"):
        page = client.get(path).get_data(as_text=True)
        assert "You owe €40.00" in page
        assert 'href="/account/credit/repay"' in page
    form = client.get("/account/credit/repay").get_data(as_text=True)
    assert 'value="40.00"' in form  # all of it, by default


def test_paying_back_by_card_credits_a_repayment_once_without_bonus(app, client, in_debt):
    CustomerGroup.update(bonus_threshold=1000, bonus_amount=500).execute()
    sign_in(client, in_debt)
    response = repay(client, "25")
    assert response.status_code == 303
    assert repay(client, "25").location == response.location  # a double click: the same payment
    top_up = TopUp.get(TopUp.user == in_debt)
    assert (top_up.purpose, top_up.bonus) == ("repayment", 0)
    payment = SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id)
    page = response.location
    client.post(page, data={"outcome": "approve", "csrf_token": csrf_token(client, page)})
    status = client.get(f"/account/funds/top-ups/{top_up.id}").get_data(as_text=True)
    assert "Thank you: €25.00 paid back" in status
    assert account_for(in_debt).balance == -1500
    categories = [e.category for e in Entry.select().where(Entry.account == account_for(in_debt))]
    assert categories.count("repayment") == 1 and "bonus" not in categories
    assert payment.amount == 2500


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("0", "Enter an amount above zero."),
        ("-5", "digits"),
        ("NaN", "digits"),
        ("1e3", "digits"),
        ("40.001", "at most 2 decimals"),
        ("40.01", "You owe €40.00; enter at most that."),
    ],
)
def test_bad_repayment_amounts_are_refused_and_kept(client, in_debt, typed, message):
    sign_in(client, in_debt)
    response = repay(client, typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{typed}"' in page
    assert TopUp.select().count() == 0


def test_nothing_to_pay_back_when_nothing_is_owed(customer_client):
    response = repay(customer_client, "5")
    assert response.status_code == 422
    assert "You don't owe anything" in response.get_data(as_text=True)


def test_bank_transfer_shows_the_bank_details_and_the_reference(app, owner, client, in_debt):
    with app.app_context():
        update_settings({"bank_account_name": "Test Shop Ltd", "bank_iban": "GB33BUKB20201555555555"}, owner)
    sign_in(client, in_debt)
    response = repay(client, "15", method="bank")
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "€15.00" in page and f"ACCOUNT-{in_debt.id}" in page and "GB33BUKB20201555555555" in page
    assert Journal.select().where(Journal.kind == "repayment").count() == 0  # nothing moves until it arrives


def test_bank_transfer_is_not_offered_before_the_shop_publishes_its_bank_details(app, owner, client, in_debt):
    with app.app_context():
        update_settings({"bank_iban": ""}, owner)
    sign_in(client, in_debt)
    assert "By bank transfer" not in client.get("/account/credit/repay").get_data(as_text=True)
    response = repay(client, "15", method="bank")
    assert response.status_code == 422 and TopUp.select().count() == 0
    assert client.get("/account/credit/repay/bank-transfer").location.endswith("/account/credit/repay")


def test_the_owner_records_a_bank_payment_once_and_at_most_what_is_owed(owner_client, in_debt):
    path = f"/admin/credit/customers/{in_debt.id}/bank-payment"
    assert f"ACCOUNT-{in_debt.id}" in owner_client.get(path).get_data(as_text=True)
    too_much = post_form(
        owner_client, path, {"amount": "40.01", "reference": "X1", "idempotency_key": "b" * 20}
    )
    assert too_much.status_code == 422
    assert "owes €40.00; record at most that" in too_much.get_data(as_text=True)
    for _ in range(2):  # a double click records one payment
        done = post_form(owner_client, path, {"amount": "40", "reference": "X1", "idempotency_key": "c" * 20})
        assert done.status_code == 303
    assert account_for(in_debt).balance == 0
    assert Journal.select().where(Journal.kind == "repayment").count() == 1


def test_staff_cannot_record_bank_payments(client, staff, in_debt):
    sign_in(client, staff)
    assert client.get(f"/admin/credit/customers/{in_debt.id}/bank-payment").status_code == 403


# Statements and overdue debt -------------------------------------------------------------------


def test_the_monthly_statement_is_issued_once_with_the_due_date(app, in_debt):
    with app.app_context():
        assert issue_statements(at(2026, 11, 1, 7)) == 1
        assert issue_statements(at(2026, 11, 1, 8)) == 0  # a later tick, or a second scheduler
    statement = CreditStatement.get(CreditStatement.user == in_debt)
    assert (statement.opening_balance, statement.closing_balance, statement.amount_due) == (0, -4000, 4000)
    assert statement.due_date == datetime.date(2026, 12, 1)  # 30 days after the month's end
    mail = OutboxMessage.get(OutboxMessage.kind == "credit_statement")
    assert "Amount due: €40.00, to be paid by 1 Dec 2026." in mail.text_body
    assert "Order  -€40.00" in mail.text_body
    assert re.search(r"http://shop.test/account/credit/repay", mail.text_body)


def test_customers_who_owed_nothing_get_no_statement(app, customer):
    account_for(customer)
    with app.app_context():
        assert issue_statements(at(2026, 11, 1, 7)) == 0


def test_overdue_debt_blocks_new_credit_until_it_is_paid(app, owner, in_debt):
    with app.app_context():
        issue_statements(at(2026, 11, 1, 7))
        enforce_credit_terms(at(2026, 12, 1, 12))  # due today: not overdue yet
    assert account_for(in_debt).credit_limit == 10000
    with app.app_context():
        enforce_credit_terms(at(2026, 12, 2, 0))
    assert account_for(in_debt).credit_limit == 0
    with pytest.raises(Declined):
        spend(in_debt, 100, at(2026, 12, 2), "blocked-order")
    assert [row.overdue_amount for row in overdue_customers(datetime.date(2026, 12, 2))] == [4000]
    with time_machine.travel(at(2026, 12, 2, 9), tick=False):
        # Signed in on that day: a session from a later real date would not be accepted then.
        sign_in(owner_browser := app.test_client(), owner)
        assert "€40.00 past due" in owner_browser.get("/admin/").get_data(as_text=True)
        assert f"/admin/funds/customers/{in_debt.id}" in owner_browser.get("/admin/credit/overdue").get_data(
            as_text=True
        )
        sign_in(customer_browser := app.test_client(), in_debt)
        assert "Payment was due on 1 Dec 2026." in customer_browser.get("/account/funds").get_data(
            as_text=True
        )
        # Paid back by bank transfer: the block lifts at once.
        paid = post_form(
            owner_browser,
            f"/admin/credit/customers/{in_debt.id}/bank-payment",
            {"amount": "40", "reference": "Paid", "idempotency_key": "d" * 20},
        )
        assert paid.status_code == 303
    assert account_for(in_debt).credit_limit == 10000
    assert CreditStatement.get(CreditStatement.user == in_debt).settled_at is not None


def test_money_paid_before_the_statement_settles_it_at_once(app, in_debt):
    legs = [
        Leg(account_for(in_debt), 4000, "repayment"),
        Leg(system_account("bank_transfers"), -4000, "repayment"),
    ]
    transfer("paid-early", "repayment", legs, now=naive(at(2026, 11, 1, 1)))
    with app.app_context():
        issue_statements(at(2026, 11, 1, 7))
    statement = CreditStatement.get(CreditStatement.user == in_debt)
    assert statement.amount_due == 4000 and statement.settled_at is not None
