"""The storefront in French: its pages and messages read from the shopfront part catalogue
(translations/fr/LC_MESSAGES/messages.po, compiled here into a translations folder of the test's own),
WTForms' own messages in French too, and a pseudo-translation that shows every string of the
storefront's pages is marked."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from forms.fields import country_choices
from models.operations.demo import load_demo_catalogue
from models.operations.demo import load_demo_delivery
from models.shop.settings import load_settings
from models.storefront.catalog import Product
from models.values import country_names
from payments.sandbox import SandboxProvider
from tests.conftest import post_form

PART = Path(__file__).parents[2] / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
FRENCH = {"Accept-Language": "fr"}
NNBSP, NBSP = "\u202f", "\u00a0"


def compiled(folder, pseudo=False):
    """The part catalogue as fr/LC_MESSAGES/messages.mo in `folder`; `pseudo`: every message
    replaced by ⟦its English⟧, so text that is not marked shows up without brackets."""
    with PART.open("rb") as po:
        catalog = read_po(po, locale="fr")
    if pseudo:
        for message in catalog:
            if message.id:
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = tuple(f"⟦{text}⟧" for text in ids)
                message.string = strings if isinstance(message.id, tuple) else strings[0]
    target = folder / "fr" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as mo:
        write_mo(mo, catalog)
    return str(folder)


@pytest.fixture
def app_overrides(request, tmp_path):
    pseudo = getattr(request.function, "pseudo", False)  # set on the test that wants it
    return {"BABEL_TRANSLATION_DIRECTORIES": compiled(tmp_path / "translations", pseudo=pseudo)}


@pytest.fixture
def catalogue(app):
    with app.test_request_context():
        load_demo_catalogue()
        load_demo_delivery(load_settings().country)
    return list(Product.select().where(Product.stock > 0).order_by(Product.id))


def test_the_cart_reads_in_french_with_french_amounts_and_messages(client, catalogue):
    product = catalogue[0]
    added = post_form(
        client, f"/p/{product.slug}/add", {"quantity": "2"}, page=f"/p/{product.slug}", headers=FRENCH
    )
    assert added.status_code == 303
    page = unescape(client.get("/cart", headers=FRENCH).get_data(as_text=True))
    assert '<html lang="fr">' in page
    assert "<h1>Votre panier</h1>" in page
    assert "Sous-total" in page and "Passer commande" in page
    assert '<label for="delivery-country">Pays de livraison</label>' in page
    assert f"Ajouté au panier\u00a0: 2 × {product.name}." in page  # the flash, in the language of the page
    # Amounts as French writes them: a decimal comma and a no-break space before the currency sign.
    assert re.search(r"\d+,\d\d" + NBSP + "€", page)

    refused = post_form(
        client, f"/cart/lines/{product.id}", {"quantity": "deux"}, page="/cart", headers=FRENCH
    )
    assert refused.status_code == 422
    assert "Saisissez la quantité en chiffres, par exemple 2." in unescape(refused.get_data(as_text=True))


def test_error_pages_and_wtforms_own_messages_are_french(app, client):
    missing = client.get("/p/no-such-thing", headers=FRENCH)
    assert missing.status_code == 404
    assert "<h1>Page introuvable</h1>" in missing.get_data(as_text=True)

    class Form(FlaskForm):
        class Meta:
            csrf = False

        name = StringField("Name", validators=[DataRequired()])

    with app.test_request_context("/", method="POST", data={"name": ""}, headers=FRENCH):
        form = Form()
        assert not form.validate()
        assert form.name.errors == ["Ce champ est requis."]


TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)
LABELLED = re.compile(r'\b(?:aria-label|alt|title|placeholder)="([^"]*)"')


def unmarked(html, data):
    """Text of `html` (text nodes and labelling attributes) outside ⟦…⟧ and other than `data`."""
    # A message may hold a link (<a>…</a>), itself with a message inside: innermost first.
    while (shorter := re.sub(r"⟦[^⟦⟧]*⟧", " ", html)) != html:
        html = shorter
    texts = [*LABELLED.findall(html), *TAG.sub("\n", html).split("\n")]
    left = []
    for text in texts:
        text = unescape(text)
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, " ")
        text = re.sub(r"[\s\d.,:;·()×+−–€£$%/-]+", " ", text).strip()
        if text:
            left.append(text)
    return left


def test_every_string_of_the_storefront_pages_is_marked(app, client, catalogue):
    product = catalogue[0]
    post_form(client, f"/p/{product.slug}/add", {"quantity": "1"}, page=f"/p/{product.slug}", headers=FRENCH)
    settings = load_settings()
    data = {settings.shop_name, settings.tagline or "", settings.contact_email, settings.contact_phone or ""}
    data |= {"English", "Français"}  # each language's own name, in its own language
    data |= set(country_names("fr").values())  # from CLDR, in French already
    for p in Product.select():
        data |= {p.name, p.category.name, p.category.description or "", p.description or ""}
        data |= set((p.category.description or "").split("\n")) | set((p.description or "").split("\n"))
        data.add(p.initials)
    data.discard("")
    pages = ["/", f"/c/{product.category.slug}", f"/p/{product.slug}", "/cart", "/no-such-page"]
    for path in pages:
        html = client.get(path, headers=FRENCH).get_data(as_text=True)
        body = html[html.index("<body") :]
        assert unmarked(body, data) == [], path
    # A form sent back with its problem, and the sandbox's payment page.
    refused = post_form(
        client, f"/p/{product.slug}/add", {"quantity": "0"}, page=f"/p/{product.slug}", headers=FRENCH
    )
    assert refused.status_code == 422
    assert unmarked(refused.get_data(as_text=True).partition("<body")[2].partition(">")[2], data) == []
    with app.test_request_context():
        _, pay_url = SandboxProvider().create_payment(1250, "EUR", "ORDER-1", "key-pseudo-0001", "/cart")
    data |= {"ORDER-1", "Sandbox Pay"}  # the reference, and the fake provider's brand
    html = client.get(pay_url, headers=FRENCH).get_data(as_text=True)
    assert unmarked(html.partition("<body")[2].partition(">")[2], data) == []


test_every_string_of_the_storefront_pages_is_marked.pseudo = True


def test_countries_are_listed_in_the_order_each_language_reads():
    french = [name for _, name in country_choices("fr")]
    assert french.index("Danemark") < french.index("Égypte") < french.index("Espagne")
    assert french.index("États-Unis") < french.index("Fidji")
    english = [name for _, name in country_choices("en")]
    assert english.index("Afghanistan") < english.index("Åland Islands") < english.index("Albania")
