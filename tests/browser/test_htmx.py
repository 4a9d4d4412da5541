"""Key htmx flows, with JavaScript on (boosted links, hx-post, 422 swaps) and off (plain forms).

After a sign-in through the real form, boosted navigation must keep a CSRF
header that the server accepts, a successful save must show its result, and a
rejected one must show the error summary with every typed value kept.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

BAD_TIMEZONE = "Mars/Olympus_Mons"
PHONE = "+44 20 7946 0000"


def is_settings_post(response):
    return response.request.method == "POST" and response.url.endswith("/admin/settings")


def open_settings_through_the_menus(page):
    # The owner lands on the admin dashboard already, so wait for the new response,
    # not for the heading: a second click while the first request is out would race it.
    with page.expect_response(lambda r: r.url.endswith("/admin/")):
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1, name="Shop settings")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/admin/settings$"))


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_settings_save_and_reject_with_htmx(request, viewport):
    page = request.getfixturevalue(viewport)
    new_name = f"Corner Shop {viewport}"
    boosted = []
    page.on("request", lambda r: r.headers.get("hx-boosted") == "true" and boosted.append(r.url))

    sign_in(page, OWNER_EMAIL)
    page.evaluate("window.stillTheSameDocument = true")  # gone after any full page load
    open_settings_through_the_menus(page)
    assert [url.rsplit("/admin", 1)[-1] for url in boosted] == ["/", "/settings"], boosted

    page.get_by_label("Shop name").fill(new_name)
    with page.expect_response(is_settings_post) as saved:
        page.get_by_role("button", name="Save settings").click()
    headers = saved.value.request.headers
    assert headers.get("hx-request") == "true"
    assert headers.get("x-csrftoken"), "the CSRF header from hx-headers was not sent"
    assert saved.value.status == 204, saved.value.text()
    expect(page.locator("#messages")).to_contain_text("Settings saved.")
    expect(page.get_by_role("link", name=new_name)).to_be_visible()
    expect(page.get_by_label("Shop name")).to_have_value(new_name)
    expect(page).to_have_title(re.compile(f"Shop settings · {new_name}"))

    page.get_by_label("Contact phone").fill(PHONE)
    page.get_by_label("Time zone").fill(BAD_TIMEZONE)
    with page.expect_response(is_settings_post) as rejected:
        page.get_by_role("button", name="Save settings").click()
    assert rejected.value.status == 422
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Enter a time zone such as Europe/London.")).to_be_visible()
    expect(summary).to_be_focused()
    expect(page).to_have_title(f"Error: Shop settings · {new_name}")
    timezone = page.get_by_label("Time zone")
    expect(timezone).to_have_value(BAD_TIMEZONE)
    expect(timezone).to_have_attribute("aria-invalid", "true")
    expect(timezone).to_have_accessible_description(re.compile("Enter a time zone such as Europe/London"))
    expect(page.get_by_label("Contact phone")).to_have_value(PHONE)
    expect(page.get_by_label("Shop name")).to_have_value(new_name)

    summary.get_by_role("link", name="Enter a time zone such as Europe/London.").click()
    expect(timezone).to_be_focused()
    assert page.evaluate("window.stillTheSameDocument") is True, "htmx did not keep the page"


def test_settings_save_and_reject_without_javascript(no_js_page):
    page = no_js_page
    new_name = "Corner Shop without JavaScript"
    sign_in(page, OWNER_EMAIL)
    open_settings_through_the_menus(page)

    page.get_by_label("Shop name").fill(new_name)
    with page.expect_response(is_settings_post) as saved:
        page.get_by_role("button", name="Save settings").click()
    assert "hx-request" not in saved.value.request.headers
    assert saved.value.status == 303
    expect(page.locator("#messages")).to_contain_text("Settings saved.")
    expect(page.get_by_role("link", name=new_name)).to_be_visible()
    expect(page).to_have_title(f"Shop settings · {new_name}")

    page.get_by_label("Contact phone").fill(PHONE)
    page.get_by_label("Time zone").fill(BAD_TIMEZONE)
    with page.expect_response(is_settings_post) as rejected:
        page.get_by_role("button", name="Save settings").click()
    assert rejected.value.status == 422
    expect(page).to_have_title(f"Error: Shop settings · {new_name}")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Enter a time zone such as Europe/London.")
    expect(page.get_by_label("Time zone")).to_have_value(BAD_TIMEZONE)
    expect(page.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Contact phone")).to_have_value(PHONE)
    expect(page.get_by_label("Shop name")).to_have_value(new_name)


def test_expired_form_shows_the_error_in_the_message_area(page):
    """An htmx POST the server refuses (stale CSRF token after signing out elsewhere) says so in #messages."""
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/settings")
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.get_by_role("button", name="Sign out").click()
    expect(other_tab.locator("#messages")).to_contain_text("You are signed out.")
    other_tab.close()

    page.get_by_label("Shop name").fill("Never saved")
    with page.expect_response(is_settings_post) as refused:
        page.get_by_role("button", name="Save settings").click()
    assert refused.value.status == 400
    expect(page.locator("#messages").get_by_role("alert")).to_contain_text("This form has expired")
    expect(page.get_by_label("Shop name")).to_have_value("Never saved")
