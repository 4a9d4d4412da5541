"""Accounts in French: the pages and messages of translations/fr/LC_MESSAGES/messages.po, and the language a
customer chooses for their account (at registration, in My Account)."""

import re
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.shop.outbox import OutboxMessage
from models.users.user import User
from tests.accounts.test_register import begin
from tests.accounts.test_register import DETAILS
from tests.conftest import csrf_token
from tests.conftest import post_form

PART = Path(__file__).resolve().parents[2] / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
FRENCH = {"Accept-Language": "fr"}


@pytest.fixture
def app_overrides(tmp_path):
    """The app reads its French from this part alone, compiled here (the merged catalogue may not
    hold it yet)."""
    folder = tmp_path / "translations" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with PART.open("rb") as po, (folder / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po, locale="fr"))
    return {"BABEL_TRANSLATION_DIRECTORIES": str(tmp_path / "translations")}


def html_lang(html):
    return re.search(r'<html lang="(\w+)"', html).group(1)


def text_of(response):
    return unescape(response.get_data(as_text=True))


def test_the_sign_in_page_and_its_errors_are_in_french(client):
    page = text_of(client.get("/sign-in", headers=FRENCH))
    assert html_lang(page) == "fr"
    assert "<h1>Se connecter</h1>" in page and "Mot de passe oublié\u202f?" in page
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": "", "password": ""}, headers=FRENCH
    )
    page = text_of(response)
    assert response.status_code == 422
    assert "<title>Erreur\u00a0: Se connecter" in page
    assert "Saisissez votre adresse e-mail." in page and "Saisissez votre mot de passe." in page


def test_registering_in_french_stores_it_and_confirms_in_french(client):
    """An English browser picks French at step 2: the next steps, the account and its
    confirmation email are in French."""
    begin(client)
    step_two = client.get("/register/email").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="en"|<option[^>]*value="en"[^>]*selected', step_two)
    assert '<option lang="fr" value="fr">Français</option>' in step_two
    response = post_form(
        client,
        "/register/email",
        {"email": "elodie@example.com", "password": "un bon mot de passe", "language": "fr"},
    )
    assert response.status_code == 303
    step_three = text_of(client.get("/register/details"))
    assert html_lang(step_three) == "fr" and "Étape 3 sur 4\u00a0:" in step_three
    assert post_form(client, "/register/details", DETAILS).status_code == 303
    review = text_of(client.get("/register/review"))
    assert "Français" in review and "Vérifiez vos réponses" in review
    assert post_form(client, "/register/review").status_code == 303
    assert User.by_email("elodie@example.com").language == "fr"
    mail = OutboxMessage.get(OutboxMessage.to_address == "elodie@example.com")
    assert mail.subject.startswith("Confirmez votre adresse e-mail")


def test_the_language_chosen_in_my_account_applies_from_the_next_page(customer_client, customer):
    profile = customer_client.get("/account/profile").get_data(as_text=True)
    assert html_lang(profile) == "en" and "Language for emails and pages" in profile
    details = {"first_name": "Élodie", "last_name": "Martin", "language": "fr"}
    assert post_form(customer_client, "/account/profile", details).status_code == 303
    assert User.get_by_id(customer.id).language == "fr"
    dashboard = text_of(customer_client.get("/account/"))
    assert html_lang(dashboard) == "fr"
    assert "Vos coordonnées sont enregistrées." in dashboard and "Bonjour Élodie" in dashboard


def test_the_footer_choice_is_the_one_the_profile_shows(customer_client, customer):
    post_form(customer_client, "/language", {"language": "fr", "next": "/account/profile"}, page="/account/")
    assert User.get_by_id(customer.id).language == "fr"
    profile = customer_client.get("/account/profile").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="fr"|<option[^>]*value="fr"[^>]*selected', profile)
    assert "Langue des e-mails et des pages" in profile
