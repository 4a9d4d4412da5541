"""The owner's pages in French (issue 23): an owner whose account is in French, the shop's own
language chosen on the settings page, and a pseudo-translation that finds any text of these pages
left unmarked.

The catalogues used are built from this part (translations/fr/LC_MESSAGES/messages.po) into a temporary
translations folder: the merged catalogue may not hold these messages yet."""

import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.groups.group import CustomerGroup
from models.shop.outbox import send_mail
from models.shop.settings import load_settings
from models.users.user import User
from tests.conftest import post_form
from tests.factories import new_paid_order
from tests.shop.test_admin import VALID_SETTINGS

PART = Path(__file__).resolve().parents[2] / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# The owner's pages this part marked: their main content must be all translated text or data.
PAGES = (
    "/admin/",
    "/admin/settings",
    "/admin/outbox",
    "/admin/approvals",
    "/admin/audit",
    "/admin/credit/overdue",
    "/admin/customers",
    "/admin/customers/new",
    "/admin/groups",
    "/admin/orders",
    "/admin/staff",
)


# Tests whose French is the pseudo-language rather than this part's French.
PSEUDO_TESTS = {"test_every_text_of_the_owner_pages_is_marked_for_translation"}


def pseudo(text):
    """A message as the pseudo-language writes it: between markers, placeholders kept."""
    return f"⟦{text}⟧"


def compiled(folder, catalog):
    (folder / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "fr" / "LC_MESSAGES" / "messages.mo").open("wb") as mo:
        write_mo(mo, catalog)
    return {"BABEL_TRANSLATION_DIRECTORIES": str(folder)}


@pytest.fixture
def app_overrides(request, tmp_path):
    with PART.open("rb") as po:
        catalog = read_po(po)
    if request.node.name in PSEUDO_TESTS:
        fake = Catalog(locale="fr")
        for message in catalog:
            if message.id:
                string = tuple(map(pseudo, message.id)) if message.pluralizable else pseudo(message.id)
                fake.add(message.id, string, context=message.context)
        catalog = fake
    return compiled(tmp_path / "translations", catalog)


@pytest.fixture
def french_owner(owner):
    User.update(language="fr").where(User.id == owner.id).execute()
    return owner


def test_an_owner_whose_account_is_in_french_gets_the_owner_pages_in_french(owner_client, french_owner):
    html = owner_client.get("/admin/").get_data(as_text=True)
    assert "<h1>Tableau de bord</h1>" in html
    assert "Validations" in html and "Boîte d’envoi" in html
    assert "0\u00a0commande" in html or "0 commande" in html  # plural rule: 0 is singular in French

    settings = owner_client.get("/admin/settings").get_data(as_text=True)
    assert "Langue et région de la boutique" in settings
    # Each language named in that language (as the footer's selector), each region in the page's.
    assert '<option selected value="en_GB">English (Royaume-Uni) · en_GB</option>' in settings
    assert "Français (Belgique) · fr_BE" in settings

    # A mistake: the French message, with French typography, and every typed value kept.
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, timezone="Mars/Olympus"))
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Saisissez un fuseau horaire comme Europe/Paris." in page
    assert "Erreur\u00a0: Paramètres de la boutique" in page
    assert 'value="Corner Shop Ltd"' in page


def test_the_shop_language_is_the_language_of_its_locale(app, owner_client):
    """The owner picks "Français (France)": visitors whose browser asks for no language the shop
    speaks get French pages."""
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, locale="fr_FR"))
    assert response.status_code == 303
    assert load_settings().locale == "fr_FR"
    page = owner_client.get("/admin/settings", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "<h1>Paramètres de la boutique</h1>" in page


def test_every_text_of_the_owner_pages_is_marked_for_translation(
    app, owner_client, french_owner, make_customer
):
    """With a pseudo-language that brackets every message, what is left outside the brackets in
    each page's main part is data (names, addresses, amounts, dates), never English words."""
    customer = make_customer()
    CustomerGroup.update(perks="Data").execute()  # the owner's own words, not the shop's text
    with app.app_context():
        order = new_paid_order(customer, datetime.datetime.now(datetime.UTC))
        message = send_mail("tester@example.com", "Data", "Data", kind="data")
    group = CustomerGroup.get(CustomerGroup.is_default == False)  # noqa: E712 (Peewee)
    pages = (
        *PAGES,
        f"/admin/customers/{customer.id}",
        f"/admin/customers/{customer.id}/edit",
        f"/admin/customers/{customer.id}/group",
        f"/admin/funds/customers/{customer.id}",
        f"/admin/credit/customers/{customer.id}/bank-payment",
        f"/admin/orders/{order.id}",
        f"/admin/outbox/{message.id}",
        f"/admin/groups/{group.id}/retire",
    )
    left = {}
    for path in pages:
        response = owner_client.get(path)
        assert response.status_code == 200, path
        main = re.search(r"<main[^>]*>(.*)</main>", response.get_data(as_text=True), re.S).group(1)
        main = re.sub(r"<(script|style|code|pre|option)[^>]*>.*?</\1>", " ", main, flags=re.S)
        # Not this part's: the fields of forms that other modules define (their labels, hints and
        # errors, all in the `field` macro's div) and the flash of signing in.
        main = re.sub(r'<div class="field[ "].*?</div>', " ", main, flags=re.S)
        main = re.sub(r"<label[ >].*?</label>", " ", main, flags=re.S)
        # ...and the order partials the orders part owns (lines, how it was paid, addresses, status).
        main = re.sub(
            r'<section class="checkout__section( order-addresses)?" aria-labelledby="(lines|addresses)-title">.*?</section>',
            " ",
            main,
            flags=re.S,
        )
        main = re.sub(r'<dl class="cart-summary__figures">.*?</dl>', " ", main, flags=re.S)
        main = re.sub(r'<fieldset class="checkout__methods">\s*<legend>.*?</legend>', " ", main, flags=re.S)
        main = re.sub(r'<span class="order-status[^"]*">.*?</span>', " ", main, flags=re.S)
        main = re.sub(r'<p class="flash flash--success".*?</p>', " ", main, flags=re.S)
        main = re.sub(r'(aria-label|placeholder|title|data-label)="([^"]*)"', r"> \2 <", main)
        text = unescape(re.sub(r"<[^>]+>", " ", main))
        while "⟦" in text:  # brackets nest (a message inside another's placeholder)
            text = re.sub(r"⟦[^⟦⟧]*⟧", " ", text)
        text = re.sub(r"\S+@\S+|https?://\S+|\S*\d\S*", " ", text)  # addresses, numbers: data
        words = {word for word in re.findall(r"[A-Za-z][a-z]{2,}", text)}
        words -= DATA_WORDS
        if words:
            left[path] = sorted(words)
    assert left == {}, repr(left)[:3000]


# Words that are data on these pages, not the shop's text: the names of the test's customers and
# groups (the factories' and the migrations' seeds).
DATA_WORDS = {"Tester", "Customer", "Basic", "VIP", "Affiliate", "Data", "data"}
