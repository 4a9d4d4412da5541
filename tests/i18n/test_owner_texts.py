"""The owner's texts per language, with the default language's text when none was written (issue 23)."""

from models.base import write_transaction
from models.groups.group import CustomerGroup
from models.shop.language import in_language
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.shop.texts import owner_text
from models.shop.texts import save_translations
from models.shop.texts import translations


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
