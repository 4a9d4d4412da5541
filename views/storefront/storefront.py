"""The shop's public side: the front page, category and product pages, product pictures, the cart.

The cart works for visitors and customers alike. With JavaScript its
quantity forms change a line in place (htmx swaps the cart and, out of band,
the header's count and the message area); without it the same forms post
and come back to the cart page. Checkout arrives with the checkout issue.

The cart estimates delivery (models/storefront/delivery.py `estimate_for`) to the visitor's
country: the one they chose on the cart (kept in the session), else a signed-in customer's
default delivery address's, else the shop's own.
"""

import datetime

from flask import abort
from flask import Blueprint
from flask import flash
from flask import g
from flask import request
from flask import Response
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from peewee import OperationalError

from forms.fields import country_choices
from forms.storefront import AddToCartForm
from forms.storefront import DeliveryCountryForm
from forms.storefront import QuantityForm
from models.shop.language import active_locale
from models.shop.settings import load_settings
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_item_count
from models.storefront.cart import CART_SESSION_KEY
from models.storefront.cart import cart_summary
from models.storefront.cart import CartError
from models.storefront.cart import find_cart
from models.storefront.cart import limit_for
from models.storefront.cart import new_visitor_key
from models.storefront.cart import remove_from_cart
from models.storefront.cart import set_quantity
from models.storefront.catalog import active_product
from models.storefront.catalog import active_products
from models.storefront.catalog import category_by_slug
from models.storefront.catalog import count_active_products
from models.storefront.catalog import newest_products
from models.storefront.catalog import storefront_categories
from models.storefront.delivery import estimate_for
from models.storefront.pictures import rendition_data
from models.storefront.pictures import rendition_info
from models.values import country_names
from views.pagination import counted_page
from views.rendering import is_htmx
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid

bp = Blueprint("storefront", __name__)

PER_PAGE = 24  # fills every row of the product grid: 2, 3 and 4 across
NEW_IN = 8  # the home page's newest products: two full rows of four on a desktop
GRID_COLUMNS = (2, 3, 4)  # the product grid's columns: phones, tablets, desktops (shop.css)
IMAGE_MAX_AGE = datetime.timedelta(days=365)


@bp.app_context_processor
def cart_context():
    return {"cart_count": header_cart_count, "cart_limit": limit_for}


# Whose cart ---------------------------------------------------------------------


def cart_owner():
    """The cart helpers' keyword arguments for whoever is browsing (nothing is created)."""
    if current_user.is_authenticated:
        return {"user": current_user._get_current_object()}
    return {"visitor_key": session.get(CART_SESSION_KEY)}


def cart_owner_for_adding():
    """As cart_owner, giving a visitor a cart key first (the only thing the cookie learns)."""
    if current_user.is_authenticated:
        return cart_owner()
    if not session.get(CART_SESSION_KEY):
        session[CART_SESSION_KEY] = new_visitor_key()
        # A visitor's cart should outlive closing the browser (the key is all the cookie holds).
        session.permanent = True
    return cart_owner()


def header_cart_count():
    """Items in the cart for the header's Cart link (read once per request, when a page asks)."""
    if "cart_count" not in g:
        try:
            g.cart_count = cart_item_count(**cart_owner())
        except OperationalError:  # an error page for a busy database still renders
            g.cart_count = 0
    return g.cart_count


# Browsing -----------------------------------------------------------------------


@bp.get("/")
def home():
    """The shop's front: its name and tagline, what's new (in stock first), the categories."""
    categories = storefront_categories()
    new_in = newest_products(NEW_IN)
    return render(
        "storefront/home.html",
        categories=categories,
        new_in=new_in,
        new_in_hidden=hidden_for_full_rows(len(new_in)),
    )


def hidden_for_full_rows(count, columns=GRID_COLUMNS):
    """For each of `count` cards in a product grid, the column counts at which it is left out so
    that every row is full: at 3 across, 8 cards show 6. A grid narrower than one row keeps all
    its cards (the CSS in shop.css hides `.product-grid__item--not-at-N` at N columns)."""
    return [[n for n in columns if count >= n and index >= count - count % n] for index in range(count)]


@bp.get("/c/<slug>")
def category(slug):
    category = category_by_slug(slug)
    if category is None:
        abort(404)
    total = count_active_products(category)
    page = counted_page(total, PER_PAGE)
    return render(
        "storefront/category.html",
        category=category,
        categories=storefront_categories(),
        products=active_products(category, limit=page.size, offset=page.offset),
        total=total,
        page=page,
    )


def product_or_404(slug):
    product = active_product(slug)
    if product is None:
        abort(404)
    return product


@bp.get("/p/<slug>")
def product(slug):
    return render("storefront/product.html", product=product_or_404(slug), form=AddToCartForm())


@bp.get("/pictures/<key>-<id:width>.webp")  # <id:>: plain digits only (tests/shop/test_ids.py)
def product_picture(key, width):
    """One rendition of a product picture, from the database (every host serves the same).

    A picture's key is new for every upload, so its addresses never change content: browsers
    keep it a year without asking again (immutable), and one that asks with the ETag it has
    gets a 304 without the bytes being read."""
    info = rendition_info(key, width)
    if info is None:
        abort(404)
    etag = info.etag
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(rendition_data(info.id), mimetype=f"image/{info.format}")
        response.content_length = info.size
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = int(IMAGE_MAX_AGE.total_seconds())
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/p/<slug>/add")
def add(slug):
    product = product_or_404(slug)
    form = AddToCartForm()
    if form.validate_on_submit():
        try:
            change = add_to_cart(product.id, form.quantity.data, **cart_owner_for_adding())
        except CartError as error:
            form.quantity.errors.append(str(error))
        else:
            if is_htmx():
                return render(
                    "storefront/product.html",
                    fragment="storefront/_add_done.html",
                    product=product,
                    form=AddToCartForm(formdata=None),
                    change=change,
                )
            flash(change.message, "info" if change.capped else "success")
            return redirect_after_post(url_for(".product", slug=product.slug))
    return render_invalid(
        "storefront/product.html", fragment="storefront/_add_form.html", product=product, form=form
    )


# The cart -----------------------------------------------------------------------


DELIVERY_COUNTRY_KEY = "delivery_country"


def delivery_country():
    """Where the cart estimates delivery to: the country chosen on the cart, else the signed-in
    customer's default delivery address's, else the shop's."""
    settings = load_settings()
    chosen = session.get(DELIVERY_COUNTRY_KEY)
    if chosen and chosen in country_names(active_locale()):
        return chosen
    if current_user.is_authenticated and current_user.default_shipping is not None:
        return current_user.default_shipping.country
    return settings.country


def country_form(formdata=None, country=None):
    form = DeliveryCountryForm(formdata=formdata) if formdata is not None else DeliveryCountryForm()
    form.country.choices = country_choices(active_locale())
    if formdata is None:
        form.country.data = country
    return form


def cart_page(status=200, message=None, problem_for=None, problem="", typed="", form=None):
    """The cart page, or for htmx the cart region with the header count and message alongside."""
    summary = cart_summary(find_cart(**cart_owner()))
    country = delivery_country()
    return render(
        "storefront/cart.html",
        fragment="storefront/_cart_update.html",
        status=status,
        summary=summary,
        message=message,
        problem_for=problem_for,
        problem=problem,
        typed=typed,
        estimate=None if summary.is_empty else estimate_for(country, summary.subtotal),
        country_form=form or country_form(country=country),
    )


@bp.get("/cart")
def cart():
    return cart_page()


@bp.post("/cart/country")
def change_country():
    """The country the cart estimates delivery to, kept in the session (nothing else changes)."""
    form = country_form(request.form)
    if not form.validate_on_submit():
        return cart_page(422, form=form)
    session[DELIVERY_COUNTRY_KEY] = form.country.data
    if is_htmx():
        return cart_page()
    return redirect_after_post(url_for(".cart"))


@bp.post("/cart/lines/<id:product_id>")
def change_line(product_id):
    form = QuantityForm()
    if not form.validate_on_submit():
        error = next(iter(form.quantity.errors), None) or gettext("Enter a quantity, like 2.")
        return cart_page(422, problem_for=product_id, problem=error, typed=form.quantity._value())
    return apply_change(product_id, lambda: set_quantity(product_id, form.quantity.data, **cart_owner()))


@bp.post("/cart/lines/<id:product_id>/remove")
def remove_line(product_id):
    """A line's Remove button (CSRF is checked for every POST by views.security)."""
    return apply_change(product_id, lambda: remove_from_cart(product_id, **cart_owner()))


def apply_change(product_id, change_cart):
    try:
        change = change_cart()
    except CartError as error:
        return cart_page(422, problem_for=product_id, problem=str(error))
    if is_htmx():
        return cart_page(message=change)
    flash(change.message, "info" if change.capped else "success")
    return redirect_after_post(url_for(".cart"))
