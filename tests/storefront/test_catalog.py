"""The catalogue: storefront pages, the admin area for products and categories, demo data
(pictures: test_pictures.py)."""

from html import unescape

import pytest
from peewee import IntegrityError

from models.operations.demo import DEMO_PRODUCTS
from models.operations.demo import load_demo_catalogue
from models.shop.audit import AuditEntry
from models.storefront.catalog import active_products
from models.storefront.catalog import CatalogInvalid
from models.storefront.catalog import Category
from models.storefront.catalog import create_category
from models.storefront.catalog import create_product
from models.storefront.catalog import Product
from models.storefront.catalog import slugify
from models.storefront.catalog import storefront_categories
from models.storefront.catalog import update_product
from models.users.user import STAFF
from tests.conftest import post_form
from tests.conftest import sign_in


@pytest.fixture
def catalogue(app):
    load_demo_catalogue()
    return {p.slug: p for p in Product.select()}


def category(slug):
    return Category.get(Category.slug == slug)


def product_form(**overrides):
    data = {
        "name": "Oolong, 100 g",
        "category_id": str(category("tea").id),
        "description": "Roasted and sweet.",
        "price": "12.40",
        "stock": "7",
        "active": "y",
        "slug": "",
    }
    data.update(overrides)
    return data


# Demo data ----------------------------------------------------------------------


def test_demo_catalogue_is_small_complete_and_idempotent(app):
    load_demo_catalogue()
    load_demo_catalogue()
    assert Category.select().count() == 3
    assert Product.select().count() == len(DEMO_PRODUCTS) == 8
    assert Product.select().where(Product.stock == 0).count() >= 1  # shows "Out of stock"
    assert all(p.image for p in Product.select())  # a drawn photo each (test_pictures.py)


# The storefront -----------------------------------------------------------------


def test_home_shows_categories_and_product_cards(client, catalogue):
    html = client.get("/").get_data(as_text=True)
    for name in ("Coffee", "Tea", "Brewing gear", "House blend, 250 g", "€9.50"):
        assert name in html
    assert 'href="/c/coffee"' in html and 'href="/p/sencha-100g"' in html
    assert "Sold out" in html  # the decaf
    assert "Only 3 left" in html  # the Ethiopia


def test_home_without_products_says_the_catalogue_is_coming(client):
    assert "Our catalogue is on its way" in client.get("/").get_data(as_text=True)


def test_category_page_lists_only_its_active_products(client, catalogue):
    Product.update(active=False).where(Product.slug == "sencha-100g").execute()
    response = client.get("/c/tea")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Assam breakfast" in html and "Chamomile" in html
    assert "Sencha" not in html and "House blend" not in html
    assert "Loose-leaf teas" in html  # the category's description
    assert client.get("/c/no-such-category").status_code == 404


def test_category_page_number_out_of_range_shows_the_last_page(client, catalogue):
    assert client.get("/c/tea?page=99").status_code == 200
    assert client.get("/c/tea?page=-1").status_code == 200


def test_product_page_and_404_for_unknown_or_hidden(client, catalogue):
    html = client.get("/p/sencha-100g").get_data(as_text=True)
    assert "<h1" in html and "Sencha, 100 g" in html and "€8.90" in html
    assert "Add to cart" in html and "In stock" in html
    assert client.get("/p/no-such-thing").status_code == 404
    Product.update(active=False).where(Product.slug == "sencha-100g").execute()
    assert client.get("/p/sencha-100g").status_code == 404


def test_out_of_stock_product_says_so_and_has_no_add_button(client, catalogue):
    html = client.get("/p/decaf-colombia-250g").get_data(as_text=True)
    assert "Out of stock" in html
    assert "Add to cart" not in html


def test_storefront_hides_categories_with_nothing_to_buy(app, catalogue):
    Product.update(active=False).where(Product.category == category("brewing-gear")).execute()
    assert [c.slug for c in storefront_categories()] == ["coffee", "tea"]
    assert all(p.active for p in active_products())


# Rules --------------------------------------------------------------------------


def test_slugify():
    assert slugify("Crème brûlée — Café!") == "creme-brulee-cafe"
    assert slugify("  ") == ""
    assert len(slugify("x" * 200)) == 80


def test_product_rules_are_reported_per_field(app, owner, catalogue):
    with pytest.raises(CatalogInvalid) as invalid:
        create_product({"name": "", "price": 0, "stock": -1, "category_id": 999, "slug": "Bad Slug"}, owner)
    assert set(invalid.value.errors) == {"name", "price", "stock", "category_id", "slug"}
    with pytest.raises(CatalogInvalid) as taken:
        create_product(
            {"name": "X", "price": 100, "stock": 1, "category_id": category("tea").id, "slug": "sencha-100g"},
            owner,
        )
    assert "already uses that web address" in taken.value.errors["slug"]


def test_slug_from_the_name_is_made_unique(app, owner, catalogue):
    fields = {"name": "Sencha, 100 g", "price": 100, "stock": 1, "category_id": category("tea").id}
    assert create_product(fields, owner).slug == "sencha-100-g"
    assert create_product(fields, owner).slug == "sencha-100-g-2"


def test_the_database_refuses_negative_stock(app, catalogue):

    with pytest.raises(IntegrityError):
        Product.update(stock=-1).where(Product.slug == "sencha-100g").execute()


def test_only_the_owner_changes_a_price(app, owner, make_user, catalogue):
    staff = make_user(STAFF)
    sencha = catalogue["sencha-100g"]
    fields = {
        "name": sencha.name,
        "price": 999,
        "stock": 3,
        "category_id": sencha.category_id,
        "slug": sencha.slug,
    }
    with pytest.raises(CatalogInvalid) as invalid:
        update_product(sencha, fields, staff)
    assert "Only the owner changes prices" in invalid.value.errors["price"]
    update_product(sencha, {**fields, "price": sencha.price}, staff)  # the same price is fine
    assert Product.get_by_id(sencha.id).stock == 3
    update_product(sencha, fields, owner)
    assert Product.get_by_id(sencha.id).price == 999


def test_category_names_are_unique_whatever_the_case(app, owner, catalogue):
    with pytest.raises(CatalogInvalid) as invalid:
        create_category({"name": "tea"}, owner)
    assert "already has that name" in invalid.value.errors["name"]
    assert create_category({"name": "Chocolate"}, owner).slug == "chocolate"


# Admin --------------------------------------------------------------------------


def test_owner_adds_a_product_and_it_is_audited(owner_client, catalogue):
    response = post_form(owner_client, "/admin/catalog/products/new", product_form())
    assert response.status_code == 303
    product = Product.get(Product.name == "Oolong, 100 g")
    assert (product.price, product.stock, product.active, product.slug) == (1240, 7, True, "oolong-100-g")
    entry = AuditEntry.get(AuditEntry.action == "product_created")
    assert entry.after_data["price"] == 1240
    assert owner_client.get("/p/oolong-100-g").status_code == 200
    listing = owner_client.get("/admin/catalog/products").get_data(as_text=True)
    assert "Oolong, 100 g" in listing and "€12.40" in listing


@pytest.mark.parametrize(
    "field, typed, message",
    [
        ("name", "", "Give the product a name."),
        ("price", "abc", "Enter an amount using digits"),
        ("price", "0", "Enter an amount above zero."),
        ("price", "1e3", "Enter an amount using digits"),
        ("stock", "-3", "can't be negative"),
        ("stock", "1e3", "whole number"),
        ("stock", "", "Enter how many are in stock"),
        ("slug", "Not A Slug!", "lowercase letters"),
        ("slug", "sencha-100g", "already uses that web address"),
    ],
)
def test_invalid_product_form_is_shown_again_with_every_value(owner_client, catalogue, field, typed, message):
    data = product_form(**{field: typed})
    data["description"] = "Kept as typed."
    response = post_form(owner_client, "/admin/catalog/products/new", data)
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html
    assert "There is a problem" in html and 'aria-invalid="true"' in html
    assert "Kept as typed." in html
    assert 'value="Oolong, 100 g"' in html or field == "name"
    if typed and field != "slug":
        assert f'value="{typed}"' in html
    assert not Product.select().where(Product.name == "Oolong, 100 g").exists()


def test_htmx_gets_only_the_form_back_on_a_422(owner_client, catalogue):
    response = post_form(
        owner_client,
        "/admin/catalog/products/new",
        product_form(name=""),
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


def test_staff_edit_products_but_see_the_price_as_text(app, make_user, catalogue):
    client = app.test_client()
    sign_in(client, make_user(STAFF))
    sencha = catalogue["sencha-100g"]
    page = client.get(f"/admin/catalog/products/{sencha.id}").get_data(as_text=True)
    assert 'name="price"' not in page and "Only the owner changes prices" in page
    data = product_form(name="Sencha, 100 g", slug="sencha-100g", stock="30", price="0.01")
    response = post_form(client, f"/admin/catalog/products/{sencha.id}", data)
    assert response.status_code == 303
    saved = Product.get_by_id(sencha.id)
    assert saved.stock == 30 and saved.price == 890  # the price sent was ignored


def test_hiding_a_product_takes_it_off_the_shop_and_is_audited(owner_client, catalogue):
    sencha = catalogue["sencha-100g"]
    response = post_form(
        owner_client, f"/admin/catalog/products/{sencha.id}/deactivate", page="/admin/catalog/products"
    )
    assert response.status_code == 303
    assert owner_client.get("/p/sencha-100g").status_code == 404
    assert AuditEntry.select().where(AuditEntry.action == "product_hidden").count() == 1
    post_form(owner_client, f"/admin/catalog/products/{sencha.id}/activate", page="/admin/catalog/products")
    assert owner_client.get("/p/sencha-100g").status_code == 200


def test_categories_are_added_and_edited(owner_client, catalogue):
    response = post_form(
        owner_client,
        "/admin/catalog/categories/new",
        {"name": "Chocolate", "description": "Bars.", "position": "5", "slug": ""},
    )
    assert response.status_code == 303
    chocolate = Category.get(Category.name == "Chocolate")
    assert (chocolate.slug, chocolate.position) == ("chocolate", 5)
    response = post_form(
        owner_client,
        f"/admin/catalog/categories/{chocolate.id}",
        {"name": "Tea", "description": "", "position": "x", "slug": ""},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "whole number" in html and 'value="x"' in html and 'value="Tea"' in html
    response = post_form(
        owner_client,
        f"/admin/catalog/categories/{chocolate.id}",
        {"name": "Tea", "description": "", "position": "5", "slug": ""},
    )
    assert response.status_code == 422
    assert "Another category already has that name." in response.get_data(as_text=True)
    assert Category.get_by_id(chocolate.id).name == "Chocolate"
    assert [e.action for e in AuditEntry.select()] == ["category_created"]


def test_new_product_needs_a_category_first(owner_client):
    response = owner_client.get("/admin/catalog/products/new")
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/admin/catalog/categories/new"
    )


def test_unknown_ids_in_the_admin_are_404(owner_client, catalogue):
    assert owner_client.get("/admin/catalog/products/9999").status_code == 404
    assert owner_client.get("/admin/catalog/categories/9999").status_code == 404
