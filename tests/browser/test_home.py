"""The home page in a real browser (issue 22): the shop's name and tagline, "New in" whose rows
are all full at desktop, small-laptop, tablet and phone widths, sold-out products last and marked,
the categories as tiles. Screenshots go to $SCREENSHOT_DIR when it is set (else the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser

# (viewport, cards across the product grid there: shop.css)
WIDTHS = [
    ({"width": 1280, "height": 800}, 4),
    ({"width": 1024, "height": 768}, 4),
    ({"width": 800, "height": 1000}, 3),
    ({"width": 390, "height": 844}, 2),
]


def rows_of_visible_cards(page):
    """The New in grid's visible cards grouped by row (their top edge), as counts per row."""
    tops = page.eval_on_selector_all(
        "section[aria-labelledby=new-in] ul.product-grid > li",
        "cards => cards.filter(c => c.offsetParent !== null).map(c => Math.round(c.getBoundingClientRect().top))",
    )
    rows = {}
    for top in tops:
        rows[top] = rows.get(top, 0) + 1
    return [rows[top] for top in sorted(rows)]


@pytest.mark.parametrize("viewport, across", WIDTHS, ids=[str(v["width"]) for v, _ in WIDTHS])
def test_new_in_has_only_full_rows(browser, live_server, viewport, across, tmp_path):
    context, page = new_page(browser, live_server, viewport, is_mobile=viewport["width"] < 500)
    try:
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Demo Shop")
        expect(page.locator(".shop-hero__tagline")).to_contain_text("Coffee roasted in small batches")
        rows = rows_of_visible_cards(page)
        assert rows and all(count == across for count in rows), f"rows at {viewport['width']} px: {rows}"
        assert_no_horizontal_scroll(page)
        shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=shots / f"home-{viewport['width']}.png", full_page=True)
    finally:
        context.close()


def test_sold_out_comes_last_and_says_so(page):
    page.goto("/")
    cards = page.locator("section[aria-labelledby=new-in] ul.product-grid > li")
    expect(cards.filter(has_text="Decaf Colombia, 250 g")).to_contain_text("Sold out")
    # Other browser tests may sell something out before this one runs: whatever is, comes last.
    sold_out = ["Sold out" in text for text in cards.all_inner_texts()]
    assert sold_out == sorted(sold_out) and sold_out[-1], sold_out
    page.get_by_role("link", name="Tea Loose-leaf").click()
    expect(page.get_by_role("heading", level=1, name="Tea")).to_be_visible()


def test_a_phone_sees_the_first_products_without_scrolling(browser, live_server):
    """The hero stays compact on a 390×844 phone: New in's first row (pictures, names, prices) shows
    on the first screen, so the picture the visitor waits for is in view (issue 22's LCP)."""
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True)
    try:
        page.goto("/")
        first_row = page.locator("section[aria-labelledby=new-in] ul.product-grid > li").filter(visible=True)
        for card in first_row.all()[:2]:
            box = card.bounding_box()
            assert box["y"] + box["height"] <= MOBILE["height"], f"{card.inner_text()!r} ends at {box}"
    finally:
        context.close()
