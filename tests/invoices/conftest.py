"""The invoice tests' fixtures."""

import pytest

from models.shop.settings import ShopSettings

LEGAL_IDENTITY = {
    "legal_name": "Test Shop SAS",
    "legal_address": "12 rue de la Paix\n75002 Paris\nFrance",
    "company_number": "SIRET 123 456 789 00012",
    "vat_number": "FR12123456789",
    "legal_mentions": "SAS au capital de 10 000 € · RCS Paris 123 456 789",
}


@pytest.fixture
def seller(app):
    """The shop's legal identity filled in, as an owner in France would."""
    ShopSettings.update(**LEGAL_IDENTITY).execute()
    return LEGAL_IDENTITY


@pytest.fixture
def buyer(app, make_customer, seller):
    """A customer. Tests that place or pay orders without the test client ask for `ctx` too (the
    links in the order emails); those with the client make theirs in a request context of their
    own (a shared one would cache the CSRF token)."""
    return make_customer()
