"""A French customer on a phone (issue 23): registers, tops up, orders, reads the payment reminder
and pays from it, all in French at 390 px.

The browser asks for French (Accept-Language: fr-FR), as a French phone does; the shop's own
language stays English, so everything French here is the visitor's choice being honoured. The
reminder is written by the same functions the jobs process uses (in a separate process against
the live server's database), for the order the customer left unpaid.
"""

import os
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import accept_terms
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import MOBILE
from tests.browser.conftest import new_page
from tests.browser.conftest import ROOT

pytestmark = pytest.mark.browser

PASSWORD = "prunier au bord de l’eau"
PRODUCT = "Paper filters, pack of 100"  # 4.50, plenty in stock (product names are the owner's text)

WRITE_REMINDER = """
import datetime, sys
from shop import create_app
from models.base import connection, write_transaction
from models.orders.order import Order
from models.reminders.messages import compose, reminder_language, reminder_links, unsubscribe_headers
from models.shop.language import in_language
from models.shop.mail import send_text
app = create_app({"SECRET_KEY": "browser-test-secret", "DATABASE_URL": "sqlite:///" + sys.argv[1],
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context(), connection(), write_transaction():
    order = Order.get_by_id(int(sys.argv[3]))
    language = reminder_language(order)
    with in_language(language):
        subject, text = compose(order, "new", datetime.datetime.now(datetime.UTC))
        links = reminder_links(order)
    send_text(order.user.email, "payment_reminder_new", subject, text,
              headers=unsubscribe_headers(order.user_id), links=links, language=language)
print(language)
"""


def latest_message(database, to):
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT subject, text_body FROM outbox_message WHERE to_address = ? ORDER BY id DESC LIMIT 1",
            (to,),
        ).fetchone()
    assert row, f"no message to {to}"
    return row


def newest_order(database, email):
    with sqlite3.connect(database) as connection:
        return connection.execute(
            'SELECT "order".id, status, "order".language FROM "order" JOIN "user" ON "user".id = "order".user_id '
            'WHERE email = ? ORDER BY "order".id DESC',
            (email,),
        ).fetchone()


@pytest.fixture
def french_phone(browser, live_server):
    context, page = new_page(browser, live_server, MOBILE, is_mobile=True, has_touch=True, locale="fr-FR")
    yield page
    context.close()


def register(page, database, email):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="Mon compte").click()
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/register/email")
    assert_no_horizontal_scroll(page)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Choisissez un mot de passe").fill(PASSWORD)
    # Asked once here, the page's language chosen already.
    expect(page.get_by_label("Langue des e-mails et des pages")).to_have_value("fr")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/register/details")
    page.get_by_label("Prénom", exact=True).fill("Camille")
    page.get_by_label("Nom", exact=True).fill("Durand")
    page.get_by_label("Numéro de téléphone").fill("+33 6 12 34 56 78")
    page.locator("#billing-line1").fill("12 rue des Lilas")
    page.locator("#billing-city").fill("Lyon")
    page.locator("#billing-postal_code").fill("69003")
    page.locator("#billing-country").select_option("FR")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Erreur")
    page.wait_for_url("**/register/review")
    assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Créer le compte").click()
    page.wait_for_url("**/check-inbox")
    subject, text = latest_message(database, email)
    assert "Confirmez" in subject or "confirm" in subject.lower()
    code = re.search(r"^(\d{6})$", text, re.M).group(1)
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url("**/account/")
    expect(page.locator("main")).to_contain_text("Camille")


def top_up(page):
    page.goto("/account/funds")
    page.get_by_label("Autre montant").fill("20,00")
    page.get_by_role("button", name="Recharger ce montant").click()
    page.get_by_role("button", name="Accepter", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("ajoutés à votre solde"))).to_be_visible()
    assert_no_horizontal_scroll(page)


def order_by_bank_transfer(page):
    page.goto("/p/paper-filters-100")
    page.get_by_role("button", name="Ajouter au panier").click()
    expect(page.get_by_text(f"Ajouté au panier\u00a0: 1 × {PRODUCT}.")).to_be_visible()
    page.goto("/checkout")
    funds = page.get_by_label("Montant du porte-monnaie à utiliser")
    funds.fill("0")
    funds.press("Tab")  # htmx recalculates: the rest is to pay, so the ways to pay it appear
    page.get_by_label("Virement bancaire").check()
    expect(page.locator(".checkout__sentence")).to_have_text("4,50\u00a0€ par virement bancaire.")
    accept_terms(page, re.compile("^J’ai lu et j’accepte les conditions générales de vente"))
    page.get_by_role("button", name="Commande avec obligation de paiement").click()
    expect(page.get_by_text(re.compile("Merci\u202f! Votre commande"))).to_be_visible()
    assert_no_horizontal_scroll(page)


def test_a_french_customer_registers_tops_up_and_pays_from_a_french_reminder(
    french_phone, live_database, tmp_path
):
    page = french_phone
    email = f"camille-{uuid.uuid4().hex[:8]}@example.fr"
    register(page, live_database, email)
    top_up(page)
    order_by_bank_transfer(page)
    order_id, status, language = newest_order(live_database, email)
    assert (status, language) == ("pending_payment", "fr")

    written = subprocess.run(
        [sys.executable, "-c", WRITE_REMINDER, str(live_database), str(tmp_path), str(order_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    subject, text = latest_message(live_database, email)
    assert "commande" in subject.lower(), subject
    assert "Bonjour Camille" in text or "Camille" in text
    pay_link = re.search(r"(https?://\S+/account/orders/\S+)", text).group(1)

    page.goto("/" + pay_link.split("/", 3)[3])
    assert page.locator("html").get_attribute("lang") == "fr"
    assert_no_horizontal_scroll(page)
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "french-reminder.txt").write_text(f"{subject}\n\n{text}")
    page.screenshot(path=str(shots / "french-pay-from-reminder.png"), full_page=True)
    page.get_by_role("button", name=re.compile("^Payer .* depuis votre compte")).click()
    expect(page.get_by_text(re.compile("payée", re.I)).first).to_be_visible()
    assert newest_order(live_database, email)[1] == "paid"
    page.screenshot(path=str(shots / "french-paid.png"), full_page=True)
