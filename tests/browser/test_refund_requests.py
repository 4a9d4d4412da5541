"""A customer asks for a refund on the funds page and the owner approves it in Approvals, in
Chromium at 1280 and 390 px: a bad amount first (the form comes back with what was typed), then
an amount of their choosing; the owner approves the prefilled amount and it goes back to the card.
Both pages pass axe and fit a phone."""

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in
from tests.browser.test_crawl import axe_problems
from tests.browser.test_crawl import phone_problems
from tests.browser.test_refunds import CUSTOMER
from tests.browser.test_refunds import customer_tops_up

pytestmark = pytest.mark.browser


def requests_of_customer(live_database):
    with sqlite3.connect(live_database) as connection:
        return connection.execute(
            'SELECT amount, state, refunded FROM refund_request JOIN "user" ON "user".id = user_id '
            "WHERE email = ? ORDER BY refund_request.id",
            (CUSTOMER,),
        ).fetchall()


def looks_right(page, shots, name):
    """No axe violations, nothing a phone user trips over, and a full-page screenshot to look at."""
    assert axe_problems(page) == []
    if page.viewport_size["width"] < 500:
        assert phone_problems(page, page.url) == []
    page.screenshot(path=str(shots / f"{name}-{page.viewport_size['width']}.png"), full_page=True)


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_a_customer_asks_for_a_refund_and_the_owner_approves_it(
    browser, live_server, live_database, tmp_path, viewport
):
    size, options = (
        (DESKTOP, {}) if viewport == "desktop" else (MOBILE, {"is_mobile": True, "has_touch": True})
    )
    customer_tops_up(browser, live_server, "20.00")
    before = requests_of_customer(live_database)

    context, customer = new_page(browser, live_server, size, **options)
    sign_in(customer, CUSTOMER)
    customer.goto("/account/funds")
    expect(customer.get_by_role("heading", name="Refunds")).to_be_visible()
    expect(customer.get_by_text("Bonus money can't be refunded.")).to_be_visible()
    customer.get_by_label("Amount to refund").fill("99999")
    customer.get_by_label("Note for the shop").fill("Moving abroad")
    customer.get_by_role("button", name="Ask for a refund").click()
    expect(customer.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(customer.get_by_label("Amount to refund")).to_have_value("99999")
    expect(customer.get_by_label("Note for the shop")).to_have_value("Moving abroad")
    assert customer.title().startswith("Error:")
    looks_right(customer, tmp_path, "refund-request-error")

    customer.get_by_label("Amount to refund").fill("5.00")
    customer.get_by_role("button", name="Ask for a refund").click()
    expect(customer.get_by_text("Your refund request is with the shop.")).to_be_visible()
    expect(customer.get_by_text(re.compile(r"You asked for a refund of \D{0,4}5\.00"))).to_be_visible()
    looks_right(customer, tmp_path, "refund-request-waiting")
    assert requests_of_customer(live_database) == [*before, (500, "pending", 0)]

    owner_context, owner = new_page(browser, live_server, size, **options)
    sign_in(owner, OWNER_EMAIL)
    owner.goto("/admin/approvals")
    request_card = owner.locator("article.approval").filter(has_text=CUSTOMER)
    expect(
        request_card.get_by_role("heading", name=re.compile(r"asks for a refund of \D{0,4}5\.00"))
    ).to_be_visible()
    expect(request_card.get_by_text("Moving abroad")).to_be_visible()
    expect(request_card.get_by_label("Amount to refund")).to_have_value("5.00")
    looks_right(owner, tmp_path, "refund-request-approvals")
    request_card.get_by_role("button", name="Approve and refund").click()
    expect(
        owner.get_by_text(re.compile(rf"Refunded \D{{0,4}}5\.00\D{{0,4}} to the card of {CUSTOMER}"))
    ).to_be_visible()
    assert requests_of_customer(live_database) == [*before, (500, "approved", 500)]

    customer.goto("/account/funds")
    expect(customer.locator("#refunds li").first.get_by_text("Approved")).to_be_visible()  # the newest
    looks_right(customer, tmp_path, "refund-request-approved")
    owner_context.close()
    context.close()
