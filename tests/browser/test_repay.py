"""Paying back what is owed, in a real browser: by card through the sandbox, and by bank transfer.

The debt is set up in a separate process against the live server's
database (a customer whose group pays on account, with an order on credit).
"""

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in
from tests.browser.test_funds import balance

pytestmark = pytest.mark.browser

PUT_IN_DEBT = """
import sys
from shop import create_app
from models.base import connection
from models.groups.group import CustomerGroup
from models.groups.applications import move_to_group
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.customer_accounts import account_for
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.accounts.administration import create_user
from models.users.user import User
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection():
    group = CustomerGroup.get_or_none(CustomerGroup.name == "On account") or CustomerGroup.create(
        name="On account", pay_on_account=True, own_limits=True, default_credit_limit=10000)
    user = User.by_email(sys.argv[3]) or create_user(
        sys.argv[3], sys.argv[4], first_name="Dee", last_name="Btor", confirmed=True)
    move_to_group(user, group)
    legs = [Leg(account_for(user), -4000, "spend"), Leg(system_account(SALES), 4000, "spend")]
    transfer("browser-debt-" + sys.argv[3], "order", legs, memo="Order on account")
"""


def put_in_debt(live_database, tmp_path, email):
    subprocess.run(
        [sys.executable, "-c", PUT_IN_DEBT, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )


def test_paying_back_by_card(page, live_database, tmp_path):
    put_in_debt(live_database, tmp_path, "debtor-card@example.com")
    sign_in(page, "debtor-card@example.com")
    page.goto("/account/funds")
    expect(page.get_by_role("heading", name="You owe €40.00")).to_be_visible()
    page.get_by_role("button", name="Pay what you owe").click()
    expect(page.get_by_label("Amount to pay back")).to_have_value("40.00")
    page.get_by_label("Amount to pay back").fill("25")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Pay "))).to_be_visible()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you: €25.00 paid back")).to_be_visible()
    assert balance(live_database, "debtor-card@example.com") == -1500


def test_paying_back_by_bank_transfer_on_a_phone(mobile_page, live_database, tmp_path):
    page = mobile_page
    put_in_debt(live_database, tmp_path, "debtor-bank@example.com")
    sign_in(page, "debtor-bank@example.com")
    page.goto("/account/credit/repay")
    assert_no_horizontal_scroll(page)
    page.get_by_label("Amount to pay back").fill("40.001")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page.get_by_label("Amount to pay back")).to_have_value("40.001")
    page.get_by_label("Amount to pay back").fill("40")
    page.get_by_label(re.compile("By bank transfer")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Pay by bank transfer")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^ACCOUNT-\d+$"))).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert balance(live_database, "debtor-bank@example.com") == -4000
