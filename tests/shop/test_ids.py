"""Ids from outside are read in one place (models.values.row_id): in rules (`<id:…>`), query strings
(views.lookups.id_arg) and forms (forms.fields.IdField, IdSelectField). The route walk
(test_route_walk.py) sends bad ids everywhere; these pin the parser and what people are told."""

import pytest
from werkzeug.routing.converters import NumberConverter

from models.groups.group import CustomerGroup
from models.values import LARGEST_ID
from models.values import row_id
from tests import factories
from tests.conftest import post_form


@pytest.mark.parametrize("text", ["1", "42", str(LARGEST_ID)])
def test_an_id_is_ascii_digits_from_1_to_the_largest_integer_a_row_can_have(text):
    assert row_id(text) == int(text)


NOT_IDS = [
    "²",  # str.isdigit() says yes, int() refuses it
    "١٢",  # Arabic-Indic digits: int() reads 12
    "１２",  # full-width digits: int() reads 12 too
    "-1",
    "+1",
    "0",
    "01",  # the shop never writes a leading zero: one URL per row
    str(LARGEST_ID + 1),  # 2**63: SQLite raises OverflowError
    "9" * 40,
    " 1",
    "1 ",
    "1\n",
    "1_000",
    "1e3",
    "1.0",
    "abc",
    "",
    None,
    7,  # not text: ids from outside always are
]


@pytest.mark.parametrize("text", NOT_IDS)
def test_anything_else_is_no_id(text):
    assert row_id(text) is None


def test_no_rule_reads_a_number_but_through_the_id_converter(app):
    """`<int:…>` takes any script's digits and any size: the next route must use `<id:…>` too."""
    numbers = [
        f"{rule.rule} ({name})"
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if isinstance(converter, NumberConverter)
    ]
    assert numbers == []


def test_a_bad_id_in_a_url_is_not_found_by_every_method(client):
    for bad in ("9223372036854775808", "١", "²", "0", "01"):
        assert client.post(f"/cart/lines/{bad}").status_code == 404  # anonymous; was a 500 at 2**63
        assert client.get(f"/account/orders/{bad}/pay").status_code == 404
        assert client.post(f"/account/orders/{bad}/pay").status_code == 404  # not 405 (the GET rule)


def test_a_bad_id_in_a_query_string_is_not_found(owner_client):
    assert owner_client.get("/admin/orders?customer_id=²").status_code == 404
    assert owner_client.get(f"/admin/orders?customer_id={LARGEST_ID + 1}").status_code == 404
    assert owner_client.get("/admin/orders?customer_id=").status_code == 200  # no filter


def test_a_bad_id_in_a_shown_form_is_a_422_with_a_message(customer_client):
    with customer_client.application.test_request_context():
        group = factories.new_group()
        CustomerGroup.update(open_to_applications=True).where(CustomerGroup.id == group.id).execute()
    for bad in ("١", "²", str(LARGEST_ID + 1)):
        response = post_form(
            customer_client, "/account/membership/apply", {"group_id": bad}, "/account/membership"
        )
        assert response.status_code == 422
        assert "Choose one of the groups listed." in response.get_data(as_text=True)
    response = post_form(
        customer_client, "/account/membership/apply", {"group_id": str(group.id)}, "/account/membership"
    )
    assert response.status_code == 303


def test_bulk_dispatch_skips_a_tick_that_is_no_id(owner_client, customer):
    with owner_client.application.test_request_context():
        order = factories.paid_order(customer, (factories.make_product(), 1))
    response = post_form(
        owner_client, "/admin/orders/dispatch", {"order": [str(order.id), "²"]}, "/admin/orders"
    )
    assert response.status_code == 303  # was a 500: "²".isdigit() is true, int("²") fails
    assert "1 order marked dispatched." in owner_client.get("/admin/orders").get_data(as_text=True)
