"""The owner's texts per language, with the default language's text when none was written (issue 23)."""

from models.base import write_transaction
from models.groups.group import CustomerGroup
from models.shop.language import in_language
from models.shop.settings import load_settings
from models.shop.settings import ShopSettings
from models.shop.settings import update_settings
from models.shop.texts import owner_text
from models.shop.texts import save_translations
from models.shop.texts import translations
from tests.conftest import post_form
from tests.groups.test_groups import GROUP_FORM
from tests.shop.test_admin import VALID_SETTINGS


def test_a_reader_gets_the_owners_text_in_their_language_else_the_default_ones(app):
    with app.app_context():
        update_settings({"tagline": "Coffee roasted every Monday"})
        settings = load_settings()
        assert owner_text(settings, "tagline", "fr") == "Coffee roasted every Monday"
        with write_transaction():
            save_translations("shop_settings", 1, "tagline", {"fr": "Café torréfié chaque lundi"})
        assert owner_text(settings, "tagline", "fr") == "Café torréfié chaque lundi"
        assert owner_text(settings, "tagline", "en") == "Coffee roasted every Monday"
        with in_language("fr"):
            assert owner_text(settings, "tagline") == "Café torréfié chaque lundi"


def test_an_emptied_translation_gives_the_default_text_back(app):
    with app.app_context():
        group = CustomerGroup.get(CustomerGroup.name == "VIP")
        with write_transaction():
            save_translations("customer_group", group.id, "perks", {"fr": "Nos remerciements"})
        assert translations("customer_group", group.id, "perks") == {"fr": "Nos remerciements"}
        with write_transaction():
            save_translations("customer_group", group.id, "perks", {"fr": "  "})
        assert translations("customer_group", group.id, "perks") == {}
        assert owner_text(group, "perks", "fr") == group.perks


def test_the_owner_writes_the_tagline_in_french_too_and_each_visitor_reads_their_own(owner_client, client):
    settings_page = owner_client.get("/admin/settings").get_data(as_text=True)
    assert 'name="tagline__fr"' in settings_page and "Tagline (Français)" in settings_page
    response = post_form(
        owner_client,
        "/admin/settings",
        dict(VALID_SETTINGS, tagline="Coffee roasted every Monday", tagline__fr="Café torréfié chaque lundi"),
    )
    assert response.status_code == 303
    assert 'value="Café torréfié chaque lundi"' in owner_client.get("/admin/settings").get_data(as_text=True)
    assert "Café torréfié chaque lundi" in client.get("/", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Coffee roasted every Monday" in english and "Café" not in english


def test_a_groups_perks_in_french_reach_its_french_members(owner_client):
    response = post_form(owner_client, "/admin/groups/new", dict(GROUP_FORM, perks__fr="Prix de gros"))
    assert response.status_code == 303
    group = CustomerGroup.get(CustomerGroup.name == "Wholesale")
    assert translations("customer_group", group.id, "perks") == {"fr": "Prix de gros"}
    assert owner_text(group, "perks", "fr") == "Prix de gros"
    assert owner_text(group, "perks", "en") == "Bulk prices"


def test_a_translation_too_long_is_refused_and_nothing_is_saved(owner_client):
    response = post_form(
        owner_client, "/admin/settings", dict(VALID_SETTINGS, tagline="Short", tagline__fr="x" * 500)
    )
    assert response.status_code == 422
    assert 'value="Short"' in response.get_data(as_text=True)
    assert translations("shop_settings", 1, "tagline") == {}
    assert ShopSettings.get_by_id(1).tagline != "Short"
