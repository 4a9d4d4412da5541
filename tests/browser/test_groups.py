"""A group application end to end in real browsers: the customer applies, the owner approves
in the Approvals queue, and the customer sees the new perks without signing out."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CUSTOMER_EMAIL
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_application_approved_in_the_queue_shows_without_signing_out(browser, live_server):
    customer_context, customer = new_page(browser, live_server, DESKTOP)
    owner_context, owner = new_page(browser, live_server, DESKTOP)
    try:
        sign_in(customer, "bob@demo.shop")
        customer.get_by_role("link", name="Your membership").click()
        assert "You are in Basic" in customer.locator("main").inner_text()
        customer.get_by_label("A short note for the shop").first.fill("Regular customer since 2020")
        customer.get_by_role("button", name="Apply for VIP").click()
        expect(customer.locator("main")).to_contain_text("waiting for the shop")

        sign_in(owner, OWNER_EMAIL)
        owner.get_by_role("link", name="Approvals").click()
        card = owner.locator("article.approval", has_text="bob@demo.shop")
        assert "Regular customer since 2020" in card.inner_text()
        card.get_by_role("button", name="Approve").click()
        expect(owner.locator("#messages")).to_contain_text("approved")

        customer.reload()
        expect(customer.locator("main")).to_contain_text("You are in VIP")
        customer.get_by_role("navigation", name="Main").get_by_role("link", name="My Account").click()
        expect(customer.locator("main")).to_contain_text("You are in VIP")
    finally:
        customer_context.close()
        owner_context.close()


def test_customer_in_a_closed_group_sees_no_apply_button_for_it(page):
    sign_in(page, CUSTOMER_EMAIL)
    page.goto("/account/membership")
    assert page.get_by_role("button", name="Apply for Basic").count() == 0
