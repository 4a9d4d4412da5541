"""My Account's Credit card (the limit and what is owed by when, or "Ask for credit") and the
groups suggested to a customer who asks for credit: only open groups that offer paying on account."""

import re
from html import unescape

import pytest
import time_machine

from models.funds.statements import issue_statements
from models.groups.applications import GroupApplication
from models.groups.group import CustomerGroup
from models.groups.management import create_group
from models.groups.management import update_group
from models.shop.settings import update_settings
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.funds.test_credit_terms import at
from tests.funds.test_credit_terms import spend


def dashboard(client):
    return unescape(client.get("/account/").get_data(as_text=True))


def credit_card(html):
    """The text of My Account's Credit card, or None."""
    match = re.search(r"<h2>Credit</h2>(.*?)</article>", html, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else None


@pytest.fixture
def trade(owner):
    """An open group whose members pay on account up to 500.00."""
    return create_group(
        {
            "name": "Trade",
            "open_to_applications": True,
            "pay_on_account": True,
            "own_limits": True,
            "default_credit_limit": 50000,
            "perks": "Pay on account for trade customers.",
        },
        owner,
    )


@pytest.fixture
def on_account(app, owner):
    """Basic customers may pay on account up to 100.00."""
    basic = CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712
    with app.app_context():
        update_settings({"default_credit_limit": 10000}, owner)
        update_group(basic, {"pay_on_account": True}, owner)
    return basic


def test_no_credit_anywhere_means_no_credit_card_and_a_plain_word(customer_client):
    assert credit_card(dashboard(customer_client)) is None
    page = unescape(customer_client.get("/account/credit/").get_data(as_text=True))
    assert "Your group, Basic, doesn't offer paying on account." in page
    assert "The shop doesn't offer credit to apply for at the moment." in page
    # VIP and Affiliate are open to applications but offer no credit: not suggested.
    assert "VIP" not in page and "Affiliate" not in page
    assert "See the groups you can apply for" not in page


def test_a_group_that_offers_credit_is_suggested_and_only_it(customer_client, trade):
    card = credit_card(dashboard(customer_client))
    assert card == "Pay for your orders later, on account. Ask for credit"
    assert 'href="/account/credit/">Ask for credit</a>' in dashboard(customer_client)
    page = unescape(customer_client.get("/account/credit/").get_data(as_text=True))
    assert "This group offers it" in page
    assert "Trade" in page and "Pay later up to <strong>€500.00</strong>" in page
    assert "Apply for Trade" in page
    assert "Apply for VIP" not in page and "Apply for Affiliate" not in page
    assert "doesn't offer credit to apply for" not in page


def test_applying_from_the_credit_page_comes_back_to_it(customer_client, customer, trade):
    response = post_form(
        customer_client,
        "/account/membership/apply",
        {"group_id": str(trade.id), "next": "/account/credit/"},
        page="/account/credit/",
    )
    assert response.status_code == 303 and response.location == "/account/credit/"
    assert GroupApplication.get().group_id == trade.id
    page = unescape(customer_client.get("/account/credit/").get_data(as_text=True))
    assert "Your application for Trade is with the shop" in page
    assert "You've applied for Trade, which does; we'll email you the shop's decision." in page
    assert "Apply for Trade" not in page
    assert "doesn't offer credit to apply for" not in page


def test_applying_never_goes_back_to_another_site(customer_client, trade):
    response = post_form(
        customer_client,
        "/account/membership/apply",
        {"group_id": str(trade.id), "next": "//evil.example/"},
        page="/account/credit/",
    )
    assert response.location == "/account/membership"


def test_a_closed_or_retired_credit_group_is_not_suggested(customer_client, owner, trade):
    update_group(trade, {"open_to_applications": False}, owner)
    assert credit_card(dashboard(customer_client)) is None
    assert "Apply for Trade" not in customer_client.get("/account/credit/").get_data(as_text=True)


def test_a_group_with_credit_but_no_limit_yet_says_to_ask(customer_client, owner, trade):
    update_group(trade, {"default_credit_limit": 0}, owner)
    page = unescape(customer_client.get("/account/credit/").get_data(as_text=True))
    assert "Pay later: ask the shop for a limit once you're in" in page


def test_a_member_with_credit_but_no_limit_is_offered_to_ask(app, owner, customer_client):
    basic = CustomerGroup.get(CustomerGroup.is_default == True)  # noqa: E712
    update_group(basic, {"pay_on_account": True}, owner)  # the shop's default limit is 0
    assert credit_card(dashboard(customer_client)) == "Pay for your orders later, on account. Ask for credit"
    assert "Ask for a higher limit" in customer_client.get("/account/credit/").get_data(as_text=True)


def test_the_card_shows_the_limit_and_nothing_owed(customer_client, on_account):
    card = credit_card(dashboard(customer_client))
    assert card == "Limit €100.00 · you owe nothing Credit, statements and paying back"
    assert 'href="/account/credit/">Credit, statements and paying back</a>' in dashboard(customer_client)


def test_the_card_shows_what_is_owed_and_by_when(app, customer, on_account):
    spend(customer, 4000, at(2026, 10, 15), "october-order")
    with time_machine.travel(at(2026, 10, 20), tick=False):
        sign_in(client := app.test_client(), customer)
        assert credit_card(dashboard(client)).startswith(
            "Limit €100.00 · you owe €40.00 , due 30 days after your next monthly statement"
        )
    with app.app_context():
        issue_statements(at(2026, 11, 1, 7))
    spend(customer, 1000, at(2026, 11, 5), "november-order")
    with time_machine.travel(at(2026, 11, 6), tick=False):
        sign_in(client := app.test_client(), customer)
        assert credit_card(dashboard(client)).startswith(
            "Limit €100.00 · you owe €50.00 , €40.00 of it due by 1 Dec 2026"
        )
    with time_machine.travel(at(2026, 12, 3), tick=False):
        sign_in(client := app.test_client(), customer)
        assert credit_card(dashboard(client)).startswith(
            "Limit €100.00 · you owe €50.00 ; €40.00 was due on 1 Dec 2026"
        )
