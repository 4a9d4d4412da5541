"""Text of several lines keeps its line breaks, from every text area to every page that shows it;
one-line fields still refuse them."""

import inspect
from html.parser import HTMLParser

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.fields.core import UnboundField

import forms.funds
import forms.groups
import forms.orders
import forms.refunds
import forms.reminders
import forms.shop
import forms.storefront
from forms.fields import clean_text
from forms.fields import plain_text
from models.operations.demo import load_demo_catalogue
from models.storefront.catalog import Product
from tests.conftest import post_form

FORM_MODULES = (
    forms.funds,
    forms.groups,
    forms.orders,
    forms.refunds,
    forms.reminders,
    forms.shop,
    forms.storefront,
)


def text_areas():
    """(form, field name, unbound field) for every text area of every form of the shop."""
    for module in FORM_MODULES:
        for form in vars(module).values():
            if (
                not (inspect.isclass(form) and issubclass(form, FlaskForm))
                or form.__module__ != module.__name__
            ):
                continue
            for name, unbound in vars(form).items():
                if isinstance(unbound, UnboundField) and unbound.field_class is TextAreaField:
                    yield form, name, unbound


def test_every_text_area_takes_line_breaks_through_the_one_rule():
    found = list(text_areas())
    assert len(found) >= 12  # the walk really found them
    for form, name, unbound in found:
        where = f"{form.__name__}.{name}"
        assert clean_text in unbound.kwargs.get("filters", ()), f"{where} does not clean its text"
        assert plain_text in unbound.kwargs.get("validators", ()), f"{where} does not check its characters"


class FormFields(HTMLParser):
    """The values a browser would send for the first form with a given action."""

    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.values, self.textarea, self.select = action, False, {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name") and (attrs.get("type") != "checkbox" or "checked" in attrs):
            self.values[attrs["name"]] = attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.values[self.textarea] = ""
        elif tag == "select":
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.values[self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data


def browser_form(client, path):
    parser = FormFields(path)
    parser.feed(client.get(path).get_data(as_text=True))
    # A browser sends a text area's line breaks as CR LF; the first one after the tag is not content.
    return {name: value.lstrip("\n").replace("\n", "\r\n") for name, value in parser.values.items()}


def test_a_demo_product_saved_unchanged_keeps_its_paragraphs(app, owner_client):
    load_demo_catalogue()
    product = Product.select().where(Product.description.contains("\n\n")).first()
    assert product is not None, "the demo has a product whose description has paragraphs"
    path = f"/admin/catalog/products/{product.id}"

    response = owner_client.post(path, data=browser_form(owner_client, path))

    assert response.status_code == 303, response.get_data(as_text=True)
    assert Product.get_by_id(product.id).description == product.description
    page = owner_client.get(f"/p/{product.slug}").get_data(as_text=True)
    assert page.count("<p>") >= product.description.count("\n\n") + 1


def test_line_breaks_show_as_paragraphs_and_lines(app, owner_client, make_product):
    product = make_product()
    form = browser_form(owner_client, f"/admin/catalog/products/{product.id}")
    form["description"] = "Loose leaf.\r\nFrom Assam.\r\n\r\n<b>Brew</b> 3 minutes."

    assert post_form(owner_client, f"/admin/catalog/products/{product.id}", form).status_code == 303

    page = owner_client.get(f"/p/{product.slug}").get_data(as_text=True)
    assert "<p>Loose leaf.<br>\nFrom Assam.</p><p>&lt;b&gt;Brew&lt;/b&gt; 3 minutes.</p>" in page


def test_a_one_line_field_still_refuses_a_line_break(app, owner_client, make_product):
    product = make_product()
    form = browser_form(owner_client, f"/admin/catalog/products/{product.id}")
    form["name"] = "Assam\r\nTea"

    response = post_form(owner_client, f"/admin/catalog/products/{product.id}", form)

    assert response.status_code == 422
    assert "Name contains characters we can&#39;t store" in response.get_data(as_text=True)
