"""The storefront in real browsers: browse, add to the cart, change quantities in place (htmx)
and with JavaScript off, at desktop and phone widths, and the cart carried into the account."""

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def cart_link(page):
    return page.get_by_role("navigation", name="Main").locator("#cart-link")


def line(page, name):
    return page.locator(".cart-line", has_text=name)


def is_cart_post(response):
    return response.request.method == "POST" and "/cart/lines/" in response.url


def test_add_to_cart_and_change_quantities_in_place(page):
    page.goto("/")
    page.get_by_role("link", name="Sencha, 100 g").click()
    expect(page.get_by_role("heading", level=1, name="Sencha, 100 g")).to_be_visible()
    page.evaluate("window.stillTheSameDocument = true")  # gone after any full page load

    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("Added 2 × Sencha, 100 g to your cart.")
    expect(cart_link(page)).to_have_text("Cart 2 items")
    expect(page.get_by_label("Quantity")).to_have_value("1")  # a fresh form for the next add

    cart_link(page).click()
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    sencha = line(page, "Sencha, 100 g")
    quantity = page.get_by_label("Quantity of Sencha, 100 g")
    expect(quantity).to_have_value("2")
    expect(page.locator(".cart-summary")).to_contain_text("€17.80")
    # With JavaScript the quantity saves itself: no Update button to press.
    expect(sencha.get_by_role("button", name=re.compile("^Update"))).to_be_hidden()

    with page.expect_response(is_cart_post) as posted:
        page.get_by_role("button", name="One more: Sencha, 100 g").click()
    assert posted.value.request.headers.get("hx-request") == "true"
    expect(quantity).to_have_value("3")
    expect(cart_link(page)).to_have_text("Cart 3 items")
    expect(page.locator(".cart-summary")).to_contain_text("€26.70")
    expect(page.get_by_role("button", name="One more: Sencha, 100 g")).to_be_focused()

    quantity.fill("1")
    with page.expect_response(is_cart_post):
        quantity.press("Tab")
    expect(quantity).to_have_value("1")
    expect(page.locator(".cart-summary")).to_contain_text("€8.90")
    expect(cart_link(page)).to_have_text("Cart 1 item")

    quantity.fill("1e3")
    with page.expect_response(is_cart_post) as rejected:
        quantity.press("Enter")
    assert rejected.value.status == 422
    expect(sencha.locator(".field-error")).to_have_text(
        "Enter the quantity as a whole number using digits, like 2."
    )
    expect(quantity).to_have_value("1e3")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    assert quantity.evaluate("e => e.scrollWidth <= e.clientWidth"), "the typed value is hidden by padding"
    expect(cart_link(page)).to_have_text("Cart 1 item")

    page.get_by_role("button", name="Remove Sencha, 100 g").click()
    expect(page.locator("#cart")).to_contain_text("Your cart is empty.")
    expect(cart_link(page)).to_have_text("Cart")
    expect(page.locator("#messages")).to_contain_text("Removed Sencha, 100 g from your cart.")
    assert page.evaluate("window.stillTheSameDocument") is True, "htmx did not keep the page"


def test_the_cart_works_without_javascript(no_js_page):
    page = no_js_page
    page.goto("/p/assam-breakfast-100g")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#messages")).to_contain_text("Added 2 × Assam breakfast, 100 g to your cart.")
    expect(cart_link(page)).to_have_text("Cart 2 items")

    cart_link(page).click()
    quantity = page.get_by_label("Quantity of Assam breakfast, 100 g")
    quantity.fill("4")
    page.get_by_role("button", name="Update the quantity of Assam breakfast, 100 g").click()
    expect(page.locator("#messages")).to_contain_text("Your cart now has 4 of Assam breakfast, 100 g.")
    expect(quantity).to_have_value("4")
    expect(page.locator(".cart-summary")).to_contain_text("€26.00")

    page.get_by_role("button", name="One fewer: Assam breakfast, 100 g").click()
    expect(quantity).to_have_value("3")

    quantity.fill("-2")
    page.get_by_role("button", name="Update the quantity of Assam breakfast, 100 g").click()
    expect(page).to_have_title(re.compile("^Error: Your cart"))
    expect(line(page, "Assam breakfast").locator(".field-error")).to_have_text(
        "The quantity can't be negative."
    )
    expect(quantity).to_have_value("-2")

    page.get_by_role("button", name="Remove Assam breakfast, 100 g").click()
    expect(page.locator("main")).to_contain_text("Your cart is empty.")


def test_out_of_stock_cannot_be_added(page):
    page.goto("/c/coffee")
    card = page.locator(".product-card", has_text="Decaf Colombia")
    expect(card).to_contain_text("Sold out")
    card.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1, name="Decaf Colombia, 250 g")).to_be_visible()
    expect(page.locator(".add-to-cart")).to_contain_text("Out of stock")
    expect(page.get_by_role("button", name="Add to cart")).to_have_count(0)


def test_phone_width_shop_pages_fit_and_the_cart_works(mobile_page):
    page = mobile_page
    page.goto("/")
    assert_no_horizontal_scroll(page)
    page.get_by_role("navigation", name="Categories").get_by_role("link", name=re.compile("^Tea")).click()
    expect(page.get_by_role("heading", level=1, name="Tea")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("link", name="Chamomile flowers, 50 g").click()
    expect(page.get_by_role("heading", level=1, name="Chamomile flowers, 50 g")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Add to cart").tap()
    expect(cart_link(page)).to_have_text("Cart 1 item")
    page.goto("/p/ethiopia-guji-250g")
    page.get_by_role("button", name="Add to cart").tap()
    cart_link(page).tap()
    expect(page.get_by_role("heading", level=1, name="Your cart")).to_be_visible()
    assert_no_horizontal_scroll(page)
    with page.expect_response(is_cart_post):
        page.get_by_role("button", name="One more: Chamomile flowers, 50 g").tap()
    expect(page.get_by_label("Quantity of Chamomile flowers, 50 g")).to_have_value("2")
    expect(cart_link(page)).to_have_text("Cart 3 items")
    assert_no_horizontal_scroll(page)
    for button in page.locator(".cart-line button:visible").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, button.inner_text()


def test_the_visitors_cart_is_carried_into_the_account_on_sign_in(page):
    page.goto("/p/paper-filters-100")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    expect(cart_link(page)).to_have_text("Cart 3 items")
    sign_in(page, "bob@demo.shop")
    cart_link(page).click()
    quantity = page.get_by_label("Quantity of Paper filters, pack of 100")
    expect(quantity).to_have_value(re.compile(r"^[3-9]$|^[1-9][0-9]$"))
    count = int(quantity.input_value())
    # Signed out, the browser is a visitor again with an empty cart; the account keeps its own.
    page.get_by_role("button", name="Sign out").click()
    expect(cart_link(page)).to_have_text("Cart")
    sign_in(page, "bob@demo.shop")
    page.goto("/cart")
    expect(page.get_by_label("Quantity of Paper filters, pack of 100")).to_have_value(str(count))


def png_bytes(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x2a\x8a\x5c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_the_owner_adds_a_product_with_a_picture_through_the_htmx_form(page):
    sign_in(page, OWNER_EMAIL)
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Catalogue").click()
    page.get_by_role("button", name="New product").click()
    page.evaluate("window.stillTheSameDocument = true")
    page.get_by_label("Name").fill("Travel mug")
    page.get_by_label("Category").select_option(label="Brewing gear")
    page.get_by_label("Price").fill("18")
    page.get_by_label("In stock").fill("many")
    page.get_by_label("Picture file").set_input_files(
        {"name": "mug.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}
    )
    with page.expect_response(lambda r: r.request.method == "POST") as rejected:
        page.get_by_role("button", name="Add product").click()
    assert rejected.value.status == 422
    expect(page.locator(".error-summary")).to_contain_text("Enter the stock as a whole number")
    expect(page.get_by_label("Name")).to_have_value("Travel mug")
    expect(page.get_by_label("Price")).to_have_value("18")
    expect(page.locator(".picture-preview")).to_contain_text("This picture will be used when you save.")

    page.get_by_label("In stock").fill("4")
    page.get_by_role("button", name="Add product").click()
    expect(page.locator("#messages")).to_contain_text("Travel mug is added.")
    row = page.locator("tr", has_text="Travel mug")
    expect(row).to_contain_text("€18.00")
    assert page.evaluate("window.stillTheSameDocument") is True

    row.get_by_role("link", name="View Travel mug in the shop").click()
    picture = page.get_by_role("img", name="Travel mug")
    expect(picture).to_have_attribute("width", "40")
    # Loaded, as its one 40 px WebP rendition (naturalWidth is scaled by the srcset density).
    assert picture.evaluate(
        "img => img.complete && img.naturalWidth > 0 && img.currentSrc.endsWith('-40.webp')"
    )

    # Hidden again, so other tests and the crawl see the demo catalogue as it was.
    page.goto("/admin/catalog/products")
    page.get_by_role("button", name="Hide Travel mug").click()
    expect(page.locator("#messages")).to_contain_text("Travel mug is hidden from the shop.")
    assert page.goto("/p/travel-mug").status == 404
