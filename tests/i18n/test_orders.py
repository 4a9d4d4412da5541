"""Orders in French (issue 23): the pages of a customer whose browser asks for French, the order
remembering the language it was placed in, and its emails in that language whoever sends them.

The catalogue used is this part's own (translations/fr/LC_MESSAGES/messages.po), compiled into a temporary
translations folder: the merged catalogue may not hold these messages yet."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.accounts.addresses import add_address
from models.orders.cancelling import cancel_order
from models.orders.fulfilment import dispatch
from models.orders.order import note_text
from models.orders.order import Order
from models.shop.language import in_language
from models.shop.outbox import OutboxMessage
from models.storefront.cart import add_to_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import User
from tests.conftest import sign_in
from tests.factories import fund
from tests.factories import new_order

PART = Path(__file__).resolve().parents[2] / "translations" / "fr" / "LC_MESSAGES" / "messages.po"


@pytest.fixture
def app_overrides(tmp_path):
    folder = tmp_path / "translations"
    (folder / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with PART.open("rb") as po, (folder / "fr" / "LC_MESSAGES" / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po))
    return {"BABEL_TRANSLATION_DIRECTORIES": str(folder)}


@pytest.fixture
def french_buyer(client, customer):
    """A customer whose browser asks for French (their account has no language of its own), with
    45.00 of funds, an address and 1 × 42.00 in the cart."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    category = Category.create(name="Thé", slug="the")
    product = Product.create(name="Thé vert", slug="the-vert", price=4200, stock=5, category=category)
    fund(customer, 4500)
    add_address(
        customer,
        {
            "full_name": "Anne Acheteuse",
            "line1": "1 rue Haute",
            "city": "Lyon",
            "postal_code": "69001",
            "country": "FR",
        },
    )
    add_to_cart(product.id, 1, user=customer)
    sign_in(client, customer)
    return client


def checkout_form(html):
    fields = dict(
        re.findall(r'<input[^>]*name="(seen|idempotency_key|csrf_token)"[^>]*value="([^"]*)"', html)
    )
    fields = {name: unescape(value) for name, value in fields.items()}
    fields["billing_address"] = fields["shipping_address"] = re.search(
        r'<option[^>]*value="(\d+)"', html
    ).group(1)
    return {**fields, "method": "card", "place": "1", "accept_terms": "y"}


def test_a_french_page_places_a_french_order_whose_emails_stay_french(app, french_buyer, customer, owner):
    page = french_buyer.get("/checkout").get_data(as_text=True)
    assert "<h1>Validation de la commande</h1>" in page
    assert "Total</dt><dd>42,00\u00a0€" in page  # French amounts
    assert ">Commande avec obligation de paiement</button>" in page  # the words the law asks for

    response = french_buyer.post("/checkout", data=checkout_form(page))
    assert response.status_code == 303
    order = Order.get(Order.user == customer)
    assert order.language == "fr"  # the page's language: the account has none
    assert User.get_by_id(customer.id).language in ("", None)

    shown = french_buyer.get(response.location).get_data(as_text=True)  # the thank-you page
    assert f'<h1>Commande <span class="nowrap">{order.number}</span></h1>' in shown
    assert f"Merci\u202f! Votre commande {order.number} est enregistrée." in shown
    assert "Payée\u00a0: nous préparons votre commande" in shown
    assert "Payée avec le porte-monnaie" in shown  # the history's own notes, stored in English
    receipt = OutboxMessage.get(OutboxMessage.kind == "order_paid")
    assert receipt.subject.startswith(f"Commande {order.number}\u00a0: paiement reçu")

    # The owner works in English; the customer's email is still in the order's language.
    with app.test_request_context(headers={"Accept-Language": "en"}):
        dispatch([order], owner)
    sent = OutboxMessage.get(OutboxMessage.kind == "order_dispatched")
    assert sent.subject.startswith(f"Votre commande {order.number} est en route")


def test_an_older_order_speaks_its_customers_language_and_english_pages_stay_english(app, client, customer):
    """An order from before languages (no language of its own) is written to in its customer's
    account language; the same catalogue leaves an English page English."""
    User.update(language="fr").where(User.id == customer.id).execute()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        order = new_order(customer)  # awaiting a bank transfer, language ""
        cancel_order(order, None, "Not paid within 72 hours")
    sent = OutboxMessage.get(OutboxMessage.kind == "order_cancelled")
    assert sent.subject.startswith(f"Commande {order.number} annulée")
    assert "Non payée sous 72 heures" in sent.text_body

    User.update(language="en").where(User.id == customer.id).execute()
    sign_in(client, customer)
    page = client.get("/account/orders").get_data(as_text=True)
    assert "<h1>Your orders</h1>" in page and "Not paid within 72 hours" not in page


def test_the_shops_notes_read_back_in_the_readers_language_with_their_amounts(app):
    """History notes are stored in English with the amounts written out; shown, they are in the
    reader's language, amounts included. Anything that doesn't read back stays as stored."""
    notes = {
        "Card payment of €1,234.50 credited to account funds": (
            "Paiement par carte bancaire de 1\u202f234,50\u00a0€ versé sur le porte-monnaie"
        ),
        "Paid €12.00 from account funds and €3.50 on account": (
            "12,00\u00a0€ payés avec le porte-monnaie et 3,50\u00a0€ en paiement différé"
        ),
        "Refund of €5.00: €2.00 to account funds, €3.00 to the card. Note: Broken lid": (
            "Remboursement de 5,00\u00a0€\u00a0: 2,00\u00a0€ sur le porte-monnaie, 3,00\u00a0€ sur la "
            "carte bancaire. Note\u00a0: Broken lid"
        ),
        "Not paid within 1 hours": "Non payée sous 1 heure",
        "Paid lots of money on account": "Paid lots of money on account",  # not an amount: as stored
        "Left at the door, as asked": "Left at the door, as asked",
    }
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        for stored, shown in notes.items():
            assert str(note_text(stored)) == shown, stored
    with app.test_request_context(headers={"Accept-Language": "en"}):
        for stored in notes:
            assert str(note_text(stored)) == stored.replace("1 hours", "1 hour"), stored


def test_the_referral_note_reads_back_in_french(app):
    note = "Referral reward taken back from whoever referred this customer: €2.00 of €5.00; €3.00 was no longer in their balance and is not taken back."
    with app.app_context(), in_language("fr"):
        assert str(note_text(note)).startswith(
            "Récompense de parrainage reprise au parrain de ce client\u00a0: 2,00\u00a0€ sur 5,00\u00a0€"
        )
