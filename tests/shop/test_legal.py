"""The legal pages, their owner's editor, the terms at checkout and in the order's first email (issue 24)."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from models.base import write_transaction
from models.orders.messages import send_receipt
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.order import Order
from models.shop.audit import AuditEntry
from models.shop.legal import default_text
from models.shop.legal import LegalPage
from models.shop.legal import page_text
from models.shop.legal import PAGES
from models.shop.legal import save_page
from models.shop.legal import terms_version
from models.shop.legal_texts import DEFAULTS
from models.shop.legal_texts import DEFAULTS_DATE
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import placed_order
from tests.orders.test_checkout import checkout_form
from tests.orders.test_checkout import product  # noqa: F401 - a fixture
from tests.orders.test_checkout import ready  # noqa: F401 - a fixture

TRANSLATIONS = Path(__file__).parents[2] / "translations"
OWN_TERMS = (
    "## Our terms\n\nEverything we sell is tea.\n\n## Mediation\n\nMédiateur Thé, 1 rue du Port, Paris."
)
OWN_TERMS_FR = "## Nos conditions\n\nNous ne vendons que du thé."


def text_of(response):
    return unescape(response.get_data(as_text=True))


def test_every_page_shows_its_default_text_filled_with_the_shops_settings(app, client):
    with app.app_context():
        update_settings(
            {"shop_name": "Tea & Co", "contact_email": "hello@tea.example", "contact_phone": "+442071234567"}
        )
    for key, title in PAGES.items():
        html = text_of(client.get(f"/legal/{key}"))
        assert f"<h1>{title}</h1>" in html and "Last updated: 7 Dec 2026" in html
        assert "hello@tea.example" in html
    terms = text_of(client.get("/legal/terms"))
    assert "Tea & Co" in terms and "+44 20 7123 4567" in terms
    assert "articles L217-1 to L217-32" in terms and "articles 1641 to 1649" in terms
    assert "14 days" in terms and "no late-payment penalties" in terms and "include VAT" in terms
    assert "<h2>8. Legal guarantee of conformity</h2>" in terms
    notice = text_of(client.get("/legal/notice"))
    assert "[to fill in: the mediator's name, postal address and website]" in notice
    form = text_of(client.get("/legal/withdrawal-form"))
    assert "I/We (*) hereby give notice" in form and "(*) Delete as appropriate." in form
    assert client.get("/legal/cookies").status_code == 404


def test_the_seller_is_named_with_the_legal_identity_given_for_invoices(app, client):
    notice = text_of(client.get("/legal/notice"))
    assert "[to fill in: registered address, registration number (SIREN/SIRET)]" in notice
    with app.app_context():
        update_settings(
            {
                "legal_name": "Thé et Compagnie SAS",
                "legal_mentions": "SAS au capital de 5 000 €, RCS Paris 123 456 789",
                "legal_address": "12 rue des Lilas\n75011 Paris",
                "company_number": "123 456 789 00012",
                "vat_number": "FR12123456789",
            }
        )
    for key in ("notice", "withdrawal-form"):
        page = text_of(client.get(f"/legal/{key}"))
        assert "Thé et Compagnie SAS" in page and "12 rue des Lilas" in page, key
        assert "registered address, registration number" not in page
    assert "placed on this site with Thé et Compagnie SAS" in text_of(client.get("/legal/terms"))
    notice = text_of(client.get("/legal/notice"))
    assert "Registration number: 123 456 789 00012" in notice and "VAT number: FR12123456789" in notice


def test_a_french_reader_gets_the_french_default_text(app, client):
    html = text_of(client.get("/legal/terms", headers={"Accept-Language": "fr"}))
    assert '<html lang="fr">' in html
    with app.test_request_context():
        french = default_text("terms", "fr")  # French once the catalogue has it (the next test)
    for heading in re.findall(r"^## (.+)$", french, re.MULTILINE):
        assert f"<h2>{heading}</h2>" in html


def test_every_default_text_is_translated_into_french():
    """The default texts are the shop's contract: none may reach a French reader in English."""
    catalogues = [TRANSLATIONS / "fr/LC_MESSAGES/messages.po", TRANSLATIONS / "parts/legal.po"]
    french = {}
    for path in catalogues:
        if path.exists():
            with path.open("rb") as po:
                french.update({m.id: m.string for m in read_po(po) if m.id and m.string})
    for blocks in DEFAULTS.values():
        for _kind, message in blocks:
            assert french.get(message._args[0]), message._args[0]


def test_the_owners_text_is_escaped_and_read_as_paragraphs_and_headings(app, client):
    with app.app_context():
        save_page("privacy", "<script>alert(1)</script>\n\n## Who\n\nUs.\nAnd only us.", {}, None)
    html = client.get("/legal/privacy").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h2>Who</h2>" in html and "<p>Us.<br>\nAnd only us.</p>" in html


def test_the_owner_edits_a_page_in_both_languages_and_each_edit_is_audited(app, owner_client, client):
    page = text_of(owner_client.get("/admin/legal/terms"))
    assert "1. Scope" in page and 'name="body__fr"' in page  # starts from the default texts
    response = post_form(owner_client, "/admin/legal/terms", {"body": OWN_TERMS, "body__fr": OWN_TERMS_FR})
    assert response.status_code == 303
    english = text_of(client.get("/legal/terms"))
    assert (
        "<h2>Our terms</h2>" in english
        and "1. Scope" not in english
        and "Last updated: 7 Dec 2026" in english
    )
    french = text_of(client.get("/legal/terms", headers={"Accept-Language": "fr"}))
    assert "<h2>Nos conditions</h2>" in french
    with app.app_context():
        actions = [entry.action for entry in AuditEntry.select().order_by(AuditEntry.id)]
        assert actions == ["legal_page_changed", "translation_changed"]
        row = LegalPage.get(LegalPage.key == "terms")
        assert row.revision == 1 and terms_version() == f"1, {row.updated_at:%Y-%m-%dT%H:%M:%SZ}"
    audit = text_of(owner_client.get("/admin/audit"))
    assert "Legal page changed" in audit and "Terms of sale" in audit
    listing = text_of(owner_client.get("/admin/legal/"))
    assert "your text" in listing
    # Saving the same text again is no new version.
    post_form(owner_client, "/admin/legal/terms", {"body": OWN_TERMS, "body__fr": OWN_TERMS_FR})
    with app.app_context():
        assert LegalPage.get(LegalPage.key == "terms").revision == 1


def test_a_language_the_owner_left_empty_reads_their_text_in_the_shops_language(app, client):
    with app.app_context():
        save_page("terms", OWN_TERMS, {"fr": ""}, None)
        assert page_text("terms", "fr") == OWN_TERMS  # one contract: never our default wording beside theirs
    assert "Our terms" in text_of(client.get("/legal/terms", headers={"Accept-Language": "fr"}))


def test_a_page_with_something_left_to_fill_in_is_not_saved(app, owner_client):
    with app.test_request_context():
        unfilled = default_text("notice", "en")
    response = post_form(owner_client, "/admin/legal/notice", {"body": unfilled, "body__fr": ""})
    html = text_of(response)
    assert response.status_code == 422 and "There is a problem" in html
    assert "Text: replace each “[to fill in: …]”" in html and "Director of publication" in html  # kept
    listing = text_of(owner_client.get("/admin/legal/"))
    assert listing.count("default text, check it") == 2 * len(PAGES) and "[to fill in]" in listing
    with app.app_context():
        assert LegalPage.select().count() == 0 and AuditEntry.select().count() == 0


def test_staff_read_the_list_but_only_the_owner_edits(client, staff):
    sign_in(client, staff)
    listing = text_of(client.get("/admin/legal/"))
    assert "Only the owner changes them." in listing and "/admin/legal/terms" not in listing
    assert client.get("/admin/legal/terms").status_code == 403
    assert (
        post_form(client, "/admin/legal/terms", {"body": "Mine now."}, page="/admin/legal/").status_code
        == 403
    )
    assert LegalPage.select().count() == 0


@pytest.mark.parametrize("path", ["/", "/sign-in", "/cart", "/legal/terms", "/no-such-page"])
def test_every_page_links_the_legal_pages_in_its_footer(client, path):
    html = client.get(path).get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    for key in PAGES:
        assert f'href="/legal/{key}"' in footer


# Checkout --------------------------------------------------------------------------------------


def test_checkout_asks_for_the_terms_and_says_the_order_binds_to_pay(ready):  # noqa: F811
    html = text_of(ready.get("/checkout"))
    assert 'name="accept_terms"' in html and 'href="/legal/terms"' in html and 'href="/legal/privacy"' in html
    assert ">Order with obligation to pay</button>" in html and "Place order" not in html


def test_checkout_refuses_an_order_without_the_terms_and_keeps_what_was_typed(ready, customer):  # noqa: F811
    data = checkout_form(ready, funds="5.00", method="bank")
    del data["accept_terms"]
    response = ready.post("/checkout", data=data)
    html = text_of(response)
    assert response.status_code == 422 and Order.select().count() == 0
    assert '<a href="#accept_terms">Tick the box to accept the terms of sale.</a>' in html
    assert 'id="accept_terms"' in html and 'aria-invalid="true"' in html
    assert 'value="5.00"' in html and re.search(r'<input checked[^>]*value="bank"', html)  # the choices kept
    assert "€5.00 funds, €37.00 bank transfer." in html
    # A recalculation never asks for the box.
    recalculated = ready.post("/checkout", data={**data, "recalculate": "1"})
    assert recalculated.status_code == 200 and "Tick the box" not in text_of(recalculated)


def test_an_order_records_the_version_of_the_terms_accepted(app, ready, customer):  # noqa: F811
    response = ready.post("/checkout", data=checkout_form(ready, method="bank"))
    assert response.status_code == 303
    assert Order.get(Order.user == customer).terms_version == f"0, {DEFAULTS_DATE}"


def test_an_order_records_the_owners_version_once_they_saved_the_terms(app, ready, customer):  # noqa: F811
    with app.app_context():
        save_page("terms", OWN_TERMS, {}, None)
        version = terms_version()
    assert version.startswith("1, ")
    ready.post("/checkout", data=checkout_form(ready, method="bank"))
    assert Order.get(Order.user == customer).terms_version == version


# The order's first email -------------------------------------------------------------------------


def test_the_first_email_carries_the_guarantees_and_the_terms_accepted(app, make_customer, make_product):
    buyer = make_customer()
    with app.test_request_context():
        with write_transaction():
            save_page("terms", OWN_TERMS, {}, None)
        order = placed_order(buyer, (make_product(price=1500), 1), method=BANK, terms_accepted=True)
    message = OutboxMessage.get(OutboxMessage.kind == "order_placed")
    for body in (message.text_body, message.html_body):
        assert "legal guarantee of conformity" in body and "articles 1641 to 1649" in body
        assert "Everything we sell is tea." in body and "Médiateur Thé, 1 rue du Port, Paris." in body
    assert (
        f"(version {order.terms_version}):" in message.text_body
        and "Your legal guarantees" in message.text_body
    )
    assert "\nOur terms\n" in message.text_body  # the heading without its markup


def test_a_receipt_that_is_the_first_email_carries_the_terms_a_later_one_does_not(
    app, make_customer, make_product
):
    buyer = make_customer()
    with app.test_request_context():
        placed_order(buyer, (make_product(price=1500), 1), funds=2000, method=CARD, terms_accepted=True)
        receipt = OutboxMessage.get(OutboxMessage.kind == "order_paid")
        assert "1. Scope" in receipt.text_body and "legal guarantee of conformity" in receipt.text_body
        order = placed_order(
            buyer, (make_product(price=900), 1), key="second-order-key-001", method=BANK, terms_accepted=True
        )
        with write_transaction():
            later = send_receipt(order)  # the bank details went first: the receipt comes later
    assert "1. Scope" in OutboxMessage.get(OutboxMessage.kind == "order_placed").text_body
    assert "1. Scope" not in later.text_body and "legal guarantee" not in later.text_body


def test_an_order_without_terms_accepted_gets_no_terms(app, make_customer, make_product):
    buyer = make_customer()
    with app.test_request_context():
        placed_order(buyer, (make_product(price=900), 1), method=BANK)  # an order placed before issue 24
    assert "1. Scope" not in OutboxMessage.get(OutboxMessage.kind == "order_placed").text_body
