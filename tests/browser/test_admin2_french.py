"""The owner's pages of part admin2 in French at phone and desktop widths: French words are longer
than English ones, so each page must still fit without sideways scrolling. Screenshots go into
$SCREENSHOT_DIR when it is set (else the test's tmp_path), for a person to look at."""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in

PAGES = {
    "reminders": "/admin/reminders",
    "reminder-settings": "/admin/reminders/settings",
    "reminder-message": "/admin/reminders/templates/new",
    "report-sales": "/admin/reports/sales?period=this_year",
    "import": "/admin/orders/import",
    "products": "/admin/catalog/products",
    "delivery": "/admin/delivery/",
}


@pytest.mark.parametrize("width", ["mobile", "desktop"])
def test_the_owners_pages_fit_in_french(browser, live_server, tmp_path, width):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    options = {"is_mobile": True, "has_touch": True} if width == "mobile" else {}
    context, page = new_page(browser, live_server, MOBILE if width == "mobile" else DESKTOP, **options)
    try:
        sign_in(page, OWNER_EMAIL)
        # The owner's account has no language of its own: the browser's choice decides (and
        # nothing is saved, so other tests still see English pages).
        context.set_extra_http_headers({"Accept-Language": "fr"})
        for name, path in PAGES.items():
            response = page.goto(path)
            assert response.status == 200, path
            assert page.locator("html").get_attribute("lang") == "fr", path
            assert_no_horizontal_scroll(page)
            page.screenshot(path=str(folder / f"admin2-fr-{name}-{width}.png"), full_page=True)
    finally:
        context.close()
