"""The demo's product photos in a real browser, at phone and desktop widths: the browser picks a
rendition that fits, pictures take their place before they arrive (nothing jumps), the page's
first picture loads at once and the others lazily. Screenshots go to $SCREENSHOT_DIR when it is
set (else the test's tmp_path)."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page

pytestmark = pytest.mark.browser

PAGES = [("home", "/"), ("category", "/c/tea"), ("product", "/p/house-blend-250g")]


def loaded_pictures(page):
    """[(width of the rendition the browser chose, shown width, loading, fetchpriority)] of the
    pictures loaded so far (naturalWidth would be divided by the density srcset gives)."""
    return page.evaluate(
        r"""() => [...document.querySelectorAll('img.product-art')]
                 .filter(img => img.complete && img.naturalWidth)
                 .map(img => [Number(img.currentSrc.match(/-(\d+)\.webp$/)[1]), img.getBoundingClientRect().width,
                              img.loading, img.getAttribute('fetchpriority')])"""
    )


@pytest.mark.parametrize(("viewport", "label"), [(MOBILE, "390"), (DESKTOP, "desktop")])
def test_the_demo_photos_on_the_home_category_and_product_pages(
    browser, live_server, tmp_path, viewport, label
):
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    options = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2} if viewport is MOBILE else {}
    context, page = new_page(browser, live_server, viewport, **options)
    try:
        for name, path in PAGES:
            page.goto(path)
            first = page.locator("img.product-art").first
            expect(first).to_have_attribute("fetchpriority", "high")
            page.wait_for_function(
                "() => { const img = document.querySelector('img.product-art'); return img.complete && img.naturalWidth }"
            )
            assert_no_horizontal_scroll(page)
            pictures = loaded_pictures(page)
            natural, shown, loading, priority = pictures[0]
            assert loading == "eager" and priority == "high"
            scale = options.get("device_scale_factor", 1)
            # The rendition fits what is shown: at least as sharp, and not the largest for a small card.
            assert natural >= min(shown * scale, 1024) * 0.9, (name, natural, shown)
            if name != "product" and viewport is MOBILE:
                assert natural <= 640, (name, natural, shown)
            page.screenshot(path=str(shots / f"pictures-{name}-{label}.png"))
            # Scrolled through, the lazy pictures arrive, each in the place kept for it.
            heights = page.evaluate(
                "() => [...document.querySelectorAll('img.product-art')].map(i => i.height)"
            )
            page.mouse.wheel(0, 10_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('img.product-art')].every(i => i.complete && i.naturalWidth)"
            )
            assert (
                page.evaluate("() => [...document.querySelectorAll('img.product-art')].map(i => i.height)")
                == heights
            )
            if name != "product":
                page.screenshot(path=str(shots / f"pictures-{name}-{label}-full.png"), full_page=True)
    finally:
        context.close()
