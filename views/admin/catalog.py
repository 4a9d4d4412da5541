"""The catalogue in the admin area (/admin/catalog/…): products and categories.

Staff and the owner both manage the catalogue, so no route here is
owner-only. One rule is narrower: only the owner changes the price of an
existing product (see models/storefront/catalog.py for why). Staff see the price as
text on the edit form, and the domain function refuses a changed price from
anyone but the owner, whatever the form sent.
"""

from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.storefront import CategoryForm
from forms.storefront import ProductForm
from models.storefront.catalog import all_categories
from models.storefront.catalog import CatalogInvalid
from models.storefront.catalog import Category
from models.storefront.catalog import create_category
from models.storefront.catalog import create_product
from models.storefront.catalog import delete_unused_image
from models.storefront.catalog import next_category_position
from models.storefront.catalog import Product
from models.storefront.catalog import product_counts_by_category
from models.storefront.catalog import products_for_admin
from models.storefront.catalog import set_product_active
from models.storefront.catalog import store_image
from models.storefront.catalog import update_category
from models.storefront.catalog import update_product
from models.storefront.pictures import IMAGE_MAX_BYTES
from models.storefront.pictures import ImageRejected
from models.storefront.pictures import stored_picture
from views.lookups import row_or_404
from views.pagination import uncounted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

PER_PAGE = 50


def actor():
    return current_user._get_current_object()


# Products -----------------------------------------------------------------------


@bp.get("/products")
def products():
    page, rows = uncounted_page(products_for_admin, PER_PAGE)
    return render(
        "admin/catalog/products.html",
        products=rows,
        page=page,
        has_categories=Category.select().exists(),
    )


def product_form(product=None):
    if product is None or request.method == "POST":
        form = ProductForm()
    else:
        form = ProductForm(
            data={
                "name": product.name,
                "slug": product.slug,
                "category_id": product.category_id,
                "description": product.description,
                "price": product.price,
                "stock": product.stock,
                "active": product.active,
                "withdrawal_exclusion": product.withdrawal_exclusion,
            }
        )
    form.category_id.choices = [(c.id, c.name) for c in all_categories()]
    if product is not None and not current_user.is_owner:
        del form.price  # shown as text: only the owner changes a price
    return form


def product_fields(form):
    fields = {
        name: form[name].data
        for name in ("name", "slug", "description", "category_id", "stock", "active", "withdrawal_exclusion")
    }
    if "price" in form:
        fields["price"] = form.price.data
    return fields


def take_image(form):
    """The picture sent with the form (checked and stored), or the one kept from an earlier try.

    A picture is stored even when other fields need correcting, so the
    re-shown form can keep it (a file input can't be filled in again).
    """
    upload = form.image.data
    if upload:
        try:
            return store_image(upload.read(IMAGE_MAX_BYTES + 1)), None
        except ImageRejected as rejected:
            return None, str(rejected)
    return stored_picture(form.pending_image.data), None


def show_errors(form, invalid):
    for name, message in invalid.errors.items():
        form[name].errors.append(message)


def product_page(form, product, image=None, status=200):
    if image is not None:
        form.pending_image.data = image.key
    template = "admin/catalog/product_form.html"
    context = {"form": form, "product": product, "pending": image}
    if status == 422:
        return render_invalid(template, fragment="admin/catalog/_product_form.html", **context)
    return render(template, **context)


@bp.route("/products/new", methods=["GET", "POST"])
def new_product():
    form = product_form()
    if not form.category_id.choices:
        flash(gettext("Add a category first: every product belongs to one."), "info")
        return redirect_after_post(url_for(".new_category"))
    if not form.is_submitted():
        return product_page(form, None)
    valid = form.validate()
    image, image_error = take_image(form)
    if valid and image_error is None:
        try:
            product = create_product(product_fields(form), actor(), image=image)
        except CatalogInvalid as invalid:
            show_errors(form, invalid)
        else:
            flash(gettext("%(name)s is added.", name=product.name), "success")
            return redirect_after_post(url_for(".products"))
    if image_error:
        form.image.errors.append(image_error)
    return product_page(form, None, image, status=422)


@bp.route("/products/<id:product_id>", methods=["GET", "POST"])
def edit_product(product_id):
    product = row_or_404(Product, product_id)
    form = product_form(product)
    if not form.is_submitted():
        return product_page(form, product)
    valid = form.validate()
    image, image_error = take_image(form)
    if valid and image_error is None:
        try:
            unused = update_product(
                product, product_fields(form), actor(), image=image, remove_image=form.remove_image.data
            )
        except CatalogInvalid as invalid:
            show_errors(form, invalid)
        else:
            delete_unused_image(unused)
            flash(gettext("%(name)s is saved.", name=form.name.data), "success")
            return redirect_after_post(url_for(".products"))
    if image_error:
        form.image.errors.append(image_error)
    return product_page(form, product, image, status=422)


@bp.post("/products/<id:product_id>/<any(deactivate, activate):action>")
def set_active(product_id, action):
    product = row_or_404(Product, product_id)
    product = set_product_active(product, action == "activate", actor())
    if product.active:
        flash(gettext("%(name)s is back in the shop.", name=product.name), "success")
    else:
        flash(
            gettext(
                "%(name)s is hidden from the shop. Carts that hold it show it as no longer available.",
                name=product.name,
            ),
            "success",
        )
    return redirect_after_post(url_for(".products"))


# Categories ---------------------------------------------------------------------


@bp.get("/categories")
def categories():
    return render(
        "admin/catalog/categories.html", categories=all_categories(), counts=product_counts_by_category()
    )


def category_fields(form):
    return {name: form[name].data for name in ("name", "slug", "description", "position")}


def category_page(form, category, status=200):
    template = "admin/catalog/category_form.html"
    if status == 422:
        return render_invalid(
            template, fragment="admin/catalog/_category_form.html", form=form, category=category
        )
    return render(template, form=form, category=category)


@bp.route("/categories/new", methods=["GET", "POST"])
def new_category():
    form = CategoryForm()
    if not form.is_submitted():
        form.position.data = next_category_position()
        return category_page(form, None)
    if form.validate():
        try:
            category = create_category(category_fields(form), actor())
        except CatalogInvalid as invalid:
            show_errors(form, invalid)
        else:
            flash(gettext("Category %(name)s is added.", name=category.name), "success")
            return redirect_after_post(url_for(".categories"))
    return category_page(form, None, status=422)


@bp.route("/categories/<id:category_id>", methods=["GET", "POST"])
def edit_category(category_id):
    category = row_or_404(Category, category_id)
    if request.method != "POST":
        form = CategoryForm(obj=category)
        return category_page(form, category)
    form = CategoryForm()
    if form.validate():
        try:
            update_category(category, category_fields(form), actor())
        except CatalogInvalid as invalid:
            show_errors(form, invalid)
        else:
            flash(gettext("Category %(name)s is saved.", name=category.name), "success")
            return redirect_after_post(url_for(".categories"))
    return category_page(form, category, status=422)
