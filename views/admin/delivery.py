"""Delivery methods in the admin area (/admin/delivery): list, add, edit, hide or show, order.

Staff may look at the list; every change is the owner's (`owner_required`, like a product's
price: what a delivery costs is part of what customers pay). The rules and the audit entries are
in models/storefront/delivery.py.
"""

from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.fields import country_choices
from forms.storefront import DeliveryMethodForm
from models.shop.language import active_locale
from models.storefront.delivery import all_methods
from models.storefront.delivery import create_method
from models.storefront.delivery import DeliveryInvalid
from models.storefront.delivery import DeliveryMethod
from models.storefront.delivery import move_method
from models.storefront.delivery import problems_of
from models.storefront.delivery import set_method_active
from models.storefront.delivery import update_method
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required

bp = Blueprint("delivery", __name__, url_prefix="/delivery")


def actor():
    return current_user._get_current_object()


@bp.get("/")
def index():
    return render("admin/delivery/index.html", methods=all_methods())


def method_form(method=None):
    if request.method == "POST":
        form = DeliveryMethodForm()
    elif method is None:
        form = DeliveryMethodForm()
    else:
        form = DeliveryMethodForm(
            data={
                "name": method.name,
                "price": method.price,
                "free_above": method.free_above,
                "estimate": method.estimate,
                "max_days": method.max_days,
                "pickup": method.pickup,
                "details": method.details,
                "everywhere": "listed" if method.countries else "all",
                "countries": method.country_codes,
                "active": method.active,
            }
        )
    form.countries.choices = country_choices(active_locale())
    return form


def method_fields(form):
    fields = {
        name: form[name].data
        for name in (
            "name",
            "price",
            "free_above",
            "estimate",
            "max_days",
            "pickup",
            "details",
            "countries",
            "active",
        )
    }
    fields["everywhere"] = form.everywhere.data != "listed"
    return fields


def method_page(form, method, status=200):
    template = "admin/delivery/form.html"
    if status == 422:
        return render_invalid(template, fragment="admin/delivery/_form.html", form=form, method=method)
    return render(template, form=form, method=method)


def save(form, method):
    """The form saved (a new method when `method` is None), or the page again with what to fix."""
    if form.validate():
        try:
            if method is None:
                saved = create_method(method_fields(form), actor())
            else:
                saved = update_method(method, method_fields(form), actor())
        except DeliveryInvalid as invalid:
            show_errors(form, invalid.errors)
        else:
            flash(gettext("%(name)s is saved.", name=saved.name), "success")
            return redirect_after_post(url_for(".index"))
    else:  # the rules beyond the fields' own checks, all at once
        show_errors(
            form,
            {
                name: message
                for name, message in problems_of(method_fields(form)).items()
                if not form[name].errors
            },
        )
    return method_page(form, method, status=422)


def show_errors(form, errors):
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def new():
    form = method_form()
    if not form.is_submitted():
        return method_page(form, None)
    return save(form, None)


@bp.route("/<id:method_id>", methods=["GET", "POST"])
@owner_required
def edit(method_id):
    method = row_or_404(DeliveryMethod, method_id)
    form = method_form(method)
    if not form.is_submitted():
        return method_page(form, method)
    return save(form, method)


@bp.post("/<id:method_id>/<any(hide, show):action>")
@owner_required
def set_active(method_id, action):
    method = set_method_active(row_or_404(DeliveryMethod, method_id), action == "show", actor())
    if method.active:
        flash(gettext("%(name)s is offered at checkout again.", name=method.name), "success")
    else:
        flash(
            gettext(
                "%(name)s is hidden: checkout no longer offers it. Orders placed with it keep it.",
                name=method.name,
            ),
            "success",
        )
    return redirect_after_post(url_for(".index"))


@bp.post("/<id:method_id>/<any(up, down):direction>")
@owner_required
def move(method_id, direction):
    move_method(row_or_404(DeliveryMethod, method_id), -1 if direction == "up" else 1, actor())
    return redirect_after_post(url_for(".index"))
