"""Credit limits derived from groups, credit requests through Approvals, and owner adjustments."""

import datetime
import re

import pytest

from models.accounts.administration import create_user
from models.accounts.registration import purge_unconfirmed_accounts
from models.base import utcnow
from models.funds.adjustments import adjust
from models.funds.adjustments import PendingAdjustment
from models.funds.credit_requests import CreditRequest
from models.funds.credit_requests import request_credit
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import effective_credit_limit
from models.funds.ledger import Entry
from models.groups.group import CustomerGroup
from models.groups.management import update_group
from models.shop.audit import AuditEntry
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from models.users.user import User
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_PASSWORD


def group(name):
    return CustomerGroup.get(CustomerGroup.name == name)


@pytest.fixture
def on_account(owner):
    """Basic customers may pay on account, up to 100.00 by default."""
    basic = group("Basic")
    update_group(basic, {"pay_on_account": True, "own_limits": True, "default_credit_limit": 10000}, owner)
    return basic


def test_limit_is_zero_where_the_group_does_not_allow_paying_on_account(customer):
    assert effective_credit_limit(customer) == 0
    assert account_for(customer).credit_limit == 0


def test_group_default_then_personal_limit(customer, on_account):
    assert account_for(customer).credit_limit == 10000  # set-based refresh after the group change
    User.update(personal_credit_limit=25000).where(User.id == customer.id).execute()
    assert effective_credit_limit(customer) == 25000


def test_credit_request_through_the_queue(app, customer, owner, on_account):
    browser = app.test_client()
    sign_in(browser, customer)
    page = browser.get("/account/credit/").get_data(as_text=True)
    assert "€100.00" in page
    response = post_form(
        browser,
        "/account/credit/request",
        {"amount": "300", "reason": "Monthly orders"},
        page="/account/credit/",
    )
    assert response.status_code == 303
    again = post_form(
        browser, "/account/credit/request", {"amount": "400", "reason": "More"}, page="/account/credit/"
    )
    assert again.status_code == 422 and "already have a request" in again.get_data(as_text=True)

    owner_browser = app.test_client()
    sign_in(owner_browser, owner)
    queue = owner_browser.get("/admin/approvals").get_data(as_text=True)
    assert "Monthly orders" in queue
    request_row = CreditRequest.get()
    decided = post_form(
        owner_browser,
        f"/admin/approvals/credit/{request_row.id}/approve",
        {"amount": "250", "note": ""},
        page="/admin/approvals",
    )
    assert decided.status_code == 303
    assert account_for(customer).credit_limit == 25000
    assert "€250.00" in browser.get("/account/credit/").get_data(as_text=True)  # no sign-out needed
    message = OutboxMessage.select().where(OutboxMessage.kind == "credit_approved").get()
    assert "you asked for €300.00" in message.text_body
    for path in re.findall(r"http://shop\.test(/\S*)", message.text_body):
        assert browser.get(path, follow_redirects=True).status_code == 200
    twice = post_form(
        owner_browser,
        f"/admin/approvals/credit/{request_row.id}/decline",
        {"note": "no"},
        page="/admin/approvals",
    )
    assert twice.status_code == 422
    assert account_for(customer).credit_limit == 25000


def test_declining_needs_a_note(app, customer, owner_client, on_account):
    with app.app_context():
        request_row = request_credit(customer, 50000, "please")
    response = post_form(
        owner_client,
        f"/admin/approvals/credit/{request_row.id}/decline",
        {"note": ""},
        page="/admin/approvals",
    )
    assert response.status_code == 422
    assert CreditRequest.get_by_id(request_row.id).state == "pending"


def test_no_credit_requests_where_the_group_offers_none(customer_client):
    response = post_form(
        customer_client, "/account/credit/request", {"amount": "300", "reason": "x"}, page="/account/credit/"
    )
    assert response.status_code == 422 and "doesn" in response.get_data(as_text=True)


def test_owner_adjusts_up_and_down_with_reason_and_message(owner_client, customer, owner):
    page = f"/admin/funds/customers/{customer.id}"
    form = {
        "direction": "up",
        "amount": "12.50",
        "reason_code": "goodwill",
        "note": "late parcel",
        "message": "Sorry!",
        "idempotency_key": "k1",
    }
    assert post_form(owner_client, f"{page}/adjust", form, page=page).status_code == 303
    assert account_for(customer).balance == 1250
    replay = post_form(owner_client, f"{page}/adjust", form, page=page)  # double click
    assert replay.status_code == 303 and account_for(customer).balance == 1250
    down = dict(form, direction="down", amount="2.50", idempotency_key="k2", message="")
    post_form(owner_client, f"{page}/adjust", down, page=page)
    assert account_for(customer).balance == 1000
    assert OutboxMessage.select().where(OutboxMessage.kind == "balance_adjusted").count() == 1
    assert AuditEntry.select().where(AuditEntry.action == "balance_adjusted").count() == 2
    html = owner_client.get(page).get_data(as_text=True)
    assert "Goodwill gesture: late parcel" in html


def test_adjusting_below_the_credit_allowed_is_refused(owner_client, customer):
    page = f"/admin/funds/customers/{customer.id}"
    form = {"direction": "down", "amount": "5", "reason_code": "correction", "idempotency_key": "k1"}
    response = post_form(owner_client, f"{page}/adjust", form, page=page)
    assert response.status_code == 422 and "below what the customer" in response.get_data(as_text=True)
    assert Entry.select().count() == 0


@pytest.mark.parametrize("amount", ["", "0", "-5", "NaN", "1e3", "12.345", "\u0663"])
def test_bad_adjustment_amounts_move_no_money(owner_client, customer, amount):
    page = f"/admin/funds/customers/{customer.id}"
    form = {"direction": "up", "amount": amount, "reason_code": "goodwill", "idempotency_key": "k1"}
    assert post_form(owner_client, f"{page}/adjust", form, page=page).status_code == 422
    assert Entry.select().count() == 0


def test_adjustment_needs_a_fresh_sign_in(app, owner, customer):
    client = app.test_client()
    sign_in(client, owner)
    with client.session_transaction() as session:
        session["password_at"] -= 16 * 60
    page = f"/admin/funds/customers/{customer.id}"
    form = {"direction": "up", "amount": "5", "reason_code": "goodwill", "idempotency_key": "k1"}
    response = post_form(
        client, f"{page}/adjust", form, page=page, headers={"Referer": f"http://localhost{page}"}
    )
    assert response.status_code == 303 and "/account/confirm-password" in response.headers["Location"]
    assert Entry.select().count() == 0


def test_staff_adjustment_above_the_limit_waits_for_the_owner(app, staff, owner, customer):
    update_settings({"staff_money_limit": 1000}, owner)
    client = app.test_client()
    sign_in(client, staff)
    page = f"/admin/funds/customers/{customer.id}"
    small = {"direction": "up", "amount": "5", "reason_code": "goodwill", "idempotency_key": "a"}
    big = {"direction": "up", "amount": "50", "reason_code": "goodwill", "idempotency_key": "b"}
    post_form(client, f"{page}/adjust", small, page=page)
    post_form(client, f"{page}/adjust", big, page=page)
    assert account_for(customer).balance == 500
    owner_client = app.test_client()
    sign_in(owner_client, owner)

    pending = PendingAdjustment.get()
    assert (
        post_form(
            client, f"/admin/approvals/adjustments/{pending.id}/approve", page="/admin/approvals"
        ).status_code
        == 403
    )
    assert (
        post_form(
            owner_client, f"/admin/approvals/adjustments/{pending.id}/approve", page="/admin/approvals"
        ).status_code
        == 303
    )
    assert account_for(customer).balance == 5500
    again = post_form(
        owner_client, f"/admin/approvals/adjustments/{pending.id}/approve", page="/admin/approvals"
    )
    assert again.status_code == 422 and account_for(customer).balance == 5500


def test_another_customers_funds_page_is_404_for_nonsense_ids(owner_client):
    assert owner_client.get("/admin/funds/customers/999999").status_code == 404
    assert owner_client.get(f"/admin/funds/customers/{2**70}").status_code == 404


def test_an_account_with_money_cannot_be_deleted(app, customer_client, customer, owner):
    with app.app_context():
        adjust(customer, 300, "goodwill", "", "", owner, "k")
    html = customer_client.get("/account/delete").get_data(as_text=True)
    assert "Your balance holds €3.00 that can&#39;t go back to a card. Spend it in the shop" in html

    response = post_form(
        customer_client, "/account/delete", {"password": TEST_PASSWORD}, page="/account/delete"
    )
    assert response.status_code == 422
    assert User.get_by_id(customer.id).deleted_at is None


def test_accounts_with_money_movements_are_never_purged(app, owner):

    old = utcnow() - datetime.timedelta(days=30)
    user = create_user("moneyed@example.com", "a password here", confirmed=False, created_at=old)
    with app.app_context():
        adjust(user, 100, "goodwill", "", "", owner, "k")
    assert purge_unconfirmed_accounts(utcnow()) == 0
    assert User.get_or_none(User.id == user.id) is not None
