"""Phones are read in the country of the address they come with; the country list holds
countries only."""

from models.accounts.addresses import Address
from models.users.user import User
from models.values import country_names
from tests.accounts.test_register import begin
from tests.accounts.test_register import DETAILS
from tests.accounts.test_register import SHIPPING
from tests.conftest import post_form

PARIS = {
    "billing-line1": "12 rue de Rivoli",
    "billing-city": "Paris",
    "billing-postal_code": "75001",
    "billing-country": "FR",
}


def details_answer(client, details):
    begin(client)
    post_form(client, "/register/email", {"email": "ana@example.com", "password": "a good long password"})
    return post_form(client, "/register/details", details)


def test_a_french_number_in_local_format_with_a_french_address_in_a_british_shop(client):
    response = details_answer(client, {**DETAILS, **PARIS, "phone": "06 12 34 56 78"})

    assert response.status_code == 303, response.get_data(as_text=True)
    assert post_form(client, "/register/review").status_code == 303
    assert User.get(User.email == "ana@example.com").phone == "+33612345678"


def test_a_british_number_with_a_french_address_is_still_read_as_british(client):
    assert details_answer(client, {**DETAILS, **PARIS, "phone": "020 7946 0018"}).status_code == 303


def test_the_delivery_phone_is_read_in_the_delivery_country(client):
    shipping = {
        **SHIPPING,
        "shipping-line1": "3 Kurfürstendamm",
        "shipping-city": "Berlin",
        "shipping-postal_code": "10719",
        "shipping-country": "DE",
        "shipping-phone": "030 901820",
    }
    response = details_answer(client, {**DETAILS, **shipping})

    assert response.status_code == 303, response.get_data(as_text=True)
    assert post_form(client, "/register/review").status_code == 303
    assert Address.get(Address.country == "DE").phone == "+4930901820"


def test_a_number_that_exists_nowhere_is_refused_with_the_message(client):
    response = details_answer(client, {**DETAILS, **PARIS, "phone": "06 12"})

    assert response.status_code == 422
    assert "That phone number doesn&#39;t look right" in response.get_data(as_text=True)


def test_an_address_book_phone_is_read_in_the_address_country(customer_client):
    response = post_form(
        customer_client,
        "/account/addresses/new",
        {
            "new-address-full_name": "Ana Lima",
            "new-address-line1": "12 rue de Rivoli",
            "new-address-city": "Paris",
            "new-address-postal_code": "75001",
            "new-address-country": "FR",
            "new-address-phone": "06 12 34 56 78",
        },
    )

    assert response.status_code == 303, response.get_data(as_text=True)
    assert Address.get(Address.country == "FR").phone == "+33612345678"


def test_the_country_list_has_no_pseudo_locales():
    for locale in ("en_GB", "fr_FR"):
        names = country_names(locale)
        assert "XA" not in names and "XB" not in names
        assert not [name for name in names.values() if name.lower().startswith("pseudo")]
        assert names["FR"] and names["GB"]
