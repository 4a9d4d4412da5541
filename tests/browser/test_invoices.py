"""Invoices and credit notes in a real browser: the customer's invoice, credit note and documents
list, and the owner's list, at 1280 and 390 px (screenshots to $SCREENSHOT_DIR when set)."""

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import ROOT
from tests.browser.conftest import sign_in
from tests.browser.test_order_pages import check_page

pytestmark = pytest.mark.browser

MAKE_DOCUMENTS = """
import json, sys
from shop import create_app
from models.accounts.addresses import add_address
from models.accounts.administration import create_user
from models.base import connection
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg, PROVIDER_CLEARING, system_account, transfer
from models.orders.order import Order
from models.orders.placing import cart_fingerprint, place_order
from models.refunds.orders import refund_order
from models.shop.settings import ShopSettings
from models.storefront.cart import add_to_cart, cart_summary, find_cart
from models.storefront.catalog import Product
from models.users.user import User
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
email = sys.argv[3]
with app.test_request_context(), connection():
    ShopSettings.update(legal_name="Demo Shop SAS", legal_address="12 rue de la Paix\\n75002 Paris\\nFrance",
                        company_number="SIRET 123 456 789 00012", vat_number="FR12123456789",
                        legal_mentions="SAS au capital de 10 000 € · RCS Paris 123 456 789").execute()
    user = create_user(email, sys.argv[4], role="customer", first_name="Ines", last_name="Invoice")
    where = add_address(user, {"full_name": "Inès Lefèvre-Delacroix", "company": "Lefèvre & Filles SARL",
                               "line1": "221 boulevard Saint-Germain", "city": "Paris",
                               "postal_code": "75007", "country": "FR"})
    transfer("browser-invoices-seed:" + email, "top_up",
             [Leg(account_for(user), 10000, "deposit"), Leg(system_account(PROVIDER_CLEARING), -10000, "deposit")])
    for product in Product.select().where(Product.stock > 2).order_by(Product.id).limit(2):
        add_to_cart(product.id, 2, user=user)
    seen = cart_fingerprint(cart_summary(find_cart(user)))
    order = place_order(user, "browser-invoices-" + email, seen, where, where)
    owner = User.get(User.email == "owner@demo.shop")
    refund_order(Order.get_by_id(order.id), 500, "funds", "One tin arrived dented", owner, "browser-refund-" + email)
    note = order.credit_notes.get()
    print(json.dumps({"id": order.id, "number": order.number, "invoice": order.invoices.get().number,
                      "note_id": note.id, "note": note.number}))
"""


_numbers = itertools.count(1)


@pytest.fixture
def documents(live_server, live_database, tmp_path):
    email = f"invoices{next(_numbers)}@example.com"  # one live database for every browser test
    done = subprocess.run(
        [sys.executable, "-c", MAKE_DOCUMENTS, str(live_database), str(tmp_path), email, DEMO_PASSWORD],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout.strip().splitlines()[-1])
    made["email"] = email
    return made


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_customer_reads_the_invoice_the_credit_note_and_the_list(request, viewport, documents, shots):
    page = request.getfixturevalue(viewport)
    sign_in(page, documents["email"])
    page.goto(f"/account/orders/{documents['id']}")
    page.get_by_role("button", name="Invoice", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Invoice")).to_be_visible()
    invoice = page.locator(".invoice")
    for text in (documents["invoice"], "Demo Shop SAS", "SIRET 123 456 789 00012", "Lefèvre & Filles SARL"):
        expect(invoice).to_contain_text(text)
    expect(page.get_by_role("table", name="Amounts by VAT rate")).to_be_visible()
    check_page(page, shots, "invoice-issued")
    pdf = page.request.get(page.get_by_role("button", name="Download the PDF").get_attribute("href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF-")

    page.get_by_role("link", name=f"Credit note {documents['note']}").click()
    expect(page.get_by_role("heading", level=1, name="Credit note")).to_be_visible()
    expect(page.locator(".invoice")).to_contain_text("One tin arrived dented")
    expect(page.locator(".invoice")).to_contain_text(
        re.compile(r"Corrects invoice\s*" + documents["invoice"])
    )
    check_page(page, shots, "credit-note")

    page.get_by_role("link", name="All your invoices and credit notes").click()
    expect(page.get_by_role("heading", level=1, name="Invoices and credit notes")).to_be_visible()
    check_page(page, shots, "documents")


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_owner_lists_the_documents_of_the_month(request, viewport, documents, shots):
    page = request.getfixturevalue(viewport)
    sign_in(page, OWNER_EMAIL)
    page.goto("/admin/reports")
    page.get_by_role("link", name="Invoices and credit notes").click()
    expect(page.get_by_role("heading", level=1, name="Invoices and credit notes")).to_be_visible()
    expect(page.locator(".report-table")).to_contain_text(documents["invoice"])
    expect(page.locator(".report-table")).to_contain_text(documents["note"])
    check_page(page, shots, "admin-invoices")
    page.goto("/admin/settings")
    page.locator("#legal-identity").scroll_into_view_if_needed()
    page.locator("#legal-identity").screenshot(
        path=str(shots / f"settings-legal-{page.viewport_size['width']}.png")
    )
