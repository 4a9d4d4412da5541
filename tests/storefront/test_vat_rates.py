"""VAT rates (models/storefront/vat_rates.py, /admin/vat-rates): the owner adds and edits them
(audited), staff only read; bad input answers 422 keeping what was typed; a rate in use or the
default can't be archived; the product form's rate; the VAT settings; "VAT included" once per
storefront page, or the art. 293 B mention."""

import re

from models.shop.audit import AuditEntry
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.storefront.cart import add_to_cart
from models.storefront.catalog import Product
from models.storefront.vat_rates import default_rate
from models.storefront.vat_rates import VatRate
from tests.conftest import csrf_token
from tests.conftest import sign_in
from tests.factories import make_category
from tests.factories import make_product

PAGE = "/admin/vat-rates/"


def owner_signed_in(app, owner):
    client = app.test_client()
    sign_in(client, owner)
    return client


def test_the_owner_adds_a_rate_and_makes_it_the_default(app, owner):
    client = owner_signed_in(app, owner)
    token = csrf_token(client, PAGE)
    response = client.post(
        "/admin/vat-rates/new",
        data={"name": "Zero", "rate_bp": "8,5", "is_default": "y", "csrf_token": token},
    )
    assert response.status_code == 303
    rate = VatRate.get(VatRate.name == "Zero")
    assert rate.rate_bp == 850 and default_rate().id == rate.id
    assert VatRate.select().where(VatRate.is_default == True).count() == 1  # noqa: E712
    actions = [entry.action for entry in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions[-2:] == ["vat_rate_added", "vat_rate_default"]
    assert "8.5%" in client.get(PAGE).get_data(as_text=True)


def test_the_owner_edits_a_rate_audited(app, owner):
    client = owner_signed_in(app, owner)
    rate = VatRate.get(VatRate.rate_bp == 1000)
    token = csrf_token(client, f"/admin/vat-rates/{rate.id}")
    response = client.post(
        f"/admin/vat-rates/{rate.id}", data={"name": "Restaurants", "rate_bp": "10", "csrf_token": token}
    )
    assert response.status_code == 303
    assert VatRate.get_by_id(rate.id).name == "Restaurants"
    entry = AuditEntry.get(AuditEntry.action == "vat_rate_changed")
    assert '"Intermediate rate"' in entry.before and '"Restaurants"' in entry.after


def test_bad_input_answers_422_and_keeps_what_was_typed(app, owner):
    client = owner_signed_in(app, owner)
    token = csrf_token(client, PAGE)
    response = client.post(
        "/admin/vat-rates/new", data={"name": "Luxury goods", "rate_bp": "33.333", "csrf_token": token}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Luxury goods"' in html and 'value="33.333"' in html
    assert "error-summary" in html or "There is a problem" in html
    assert "Enter a percentage like 2 or 2.5." in html
    response = client.post("/admin/vat-rates/new", data={"name": "", "rate_bp": "100", "csrf_token": token})
    assert response.status_code == 422
    assert "Give the rate a name" in response.get_data(as_text=True)
    assert VatRate.select().count() == 4


def test_staff_read_but_cannot_change(app, staff):
    client = app.test_client()
    sign_in(client, staff)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Standard rate" in html and "20%" in html and "Only the owner changes them." in html
    assert "New VAT rate" not in html and "/archive" not in html
    token = csrf_token(client, PAGE)
    rate = VatRate.get(VatRate.rate_bp == 210)
    assert (
        client.post(
            "/admin/vat-rates/new", data={"name": "X", "rate_bp": "1", "csrf_token": token}
        ).status_code
        == 403
    )
    assert client.post(f"/admin/vat-rates/{rate.id}/archive", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/admin/vat-rates/{rate.id}").status_code == 403
    assert not VatRate.get_by_id(rate.id).archived


def test_a_rate_in_use_or_the_default_is_not_archived(app, owner):
    client = owner_signed_in(app, owner)
    reduced = VatRate.get(VatRate.rate_bp == 550)
    product = make_product()
    Product.update(vat_rate=reduced).where(Product.id == product.id).execute()
    token = csrf_token(client, PAGE)
    page = client.post(
        f"/admin/vat-rates/{reduced.id}/archive", data={"csrf_token": token}, follow_redirects=True
    )
    assert "1 product uses this rate. Give it another rate first." in page.get_data(as_text=True)
    assert not VatRate.get_by_id(reduced.id).archived
    standard = default_rate()
    client.post(f"/admin/vat-rates/{standard.id}/archive", data={"csrf_token": token})
    assert not VatRate.get_by_id(standard.id).archived
    super_reduced = VatRate.get(VatRate.rate_bp == 210)
    client.post(f"/admin/vat-rates/{super_reduced.id}/archive", data={"csrf_token": token})
    assert VatRate.get_by_id(super_reduced.id).archived
    assert AuditEntry.get(AuditEntry.action == "vat_rate_archived")
    form = client.get("/admin/catalog/products/new").get_data(as_text=True)
    assert "Super-reduced rate (2.1%)" not in form and "Reduced rate (5.5%)" in form


def test_the_product_form_offers_the_rates_with_the_default_chosen(app, owner):
    make_category()
    client = owner_signed_in(app, owner)
    html = client.get("/admin/catalog/products/new").get_data(as_text=True)
    chosen = re.search(r'<option selected value="(\d+)">|<option value="(\d+)" selected>', html)
    assert chosen and int(chosen.group(1) or chosen.group(2)) == default_rate().id
    reduced = VatRate.get(VatRate.rate_bp == 550)
    token = csrf_token(client, "/admin/catalog/products/new")
    data = {"name": "Novel", "category_id": str(make_category().id), "price": "12.00", "stock": "3"}
    response = client.post(
        "/admin/catalog/products/new",
        data={**data, "vat_rate_id": str(reduced.id), "active": "y", "csrf_token": token},
    )
    assert response.status_code == 303
    product = Product.get(Product.name == "Novel")
    assert product.vat_rate_id == reduced.id
    assert f'"vat_rate": {reduced.id}' in AuditEntry.get(AuditEntry.action == "product_created").after


def test_staff_editing_a_product_cannot_change_its_rate(app, staff):
    product = make_product()
    client = app.test_client()
    sign_in(client, staff)
    html = client.get(f"/admin/catalog/products/{product.id}").get_data(as_text=True)
    assert 'name="vat_rate_id"' not in html


def test_the_vat_settings_are_saved_audited(app, owner):
    client = owner_signed_in(app, owner)
    html = client.get("/admin/settings").get_data(as_text=True)
    assert (
        "VAT not applicable (art. 293 B du CGI)" in html and "€10,000 EU distance-selling threshold" in html
    )
    form = _settings_form_data(html)
    form.update(vat_mode="not_applicable", vat_distance_selling_under_threshold="y")
    response = client.post("/admin/settings", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    settings = load_settings()
    assert settings.vat_mode == "not_applicable" and settings.vat_distance_selling_under_threshold
    assert '"vat_mode": "not_applicable"' in AuditEntry.get(AuditEntry.action == "settings_changed").after


def _settings_form_data(html):
    """The settings form's fields as the page fills them in (text inputs, selects, checked boxes)."""
    data = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    data = {name: value for name, value in data.items() if name != "vat_distance_selling_under_threshold"}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(
            r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', body
        )
        if chosen:
            data[name] = chosen.group(1) or chosen.group(2)
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[name] = body.strip()
    return data


def _vat_mentions(html):
    return html.count("VAT included"), html.count("art. 293 B du CGI")


def test_storefront_pages_say_vat_included_once(app, customer):
    product = make_product(price=1200)
    client = app.test_client()
    assert _vat_mentions(client.get(f"/p/{product.slug}").get_data(as_text=True)) == (1, 0)
    sign_in(client, customer)
    with app.test_request_context():
        add_to_cart(product.id, 1, user=customer)
    assert _vat_mentions(client.get("/cart").get_data(as_text=True)) == (1, 0)


def test_not_applicable_pages_carry_the_mention_once(app):
    update_settings({"vat_mode": "not_applicable"})
    product = make_product(price=1200)
    html = app.test_client().get(f"/p/{product.slug}").get_data(as_text=True)
    assert _vat_mentions(html) == (0, 1)
