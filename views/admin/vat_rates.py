"""The shop's VAT rates in the admin area (/admin/vat-rates): list, add, edit, archive, restore.

Staff may look at the list; every change is the owner's (`owner_required`): the rates decide the
VAT the shop declares. The rules and the audit entries are in models/storefront/vat_rates.py.
"""

from flask import Blueprint
from flask import flash
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.storefront import VatRateForm
from models.storefront.vat_rates import all_rates
from models.storefront.vat_rates import archive_rate
from models.storefront.vat_rates import products_using
from models.storefront.vat_rates import restore_rate
from models.storefront.vat_rates import save_rate
from models.storefront.vat_rates import VatRate
from models.storefront.vat_rates import VatRateInvalid
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required

bp = Blueprint("vat_rates", __name__, url_prefix="/vat-rates")


def actor():
    return current_user._get_current_object()


@bp.get("/")
def index():
    rates = all_rates()
    return render(
        "admin/vat_rates/index.html", rates=rates, using={rate.id: products_using(rate) for rate in rates}
    )


def rate_page(form, rate, status=200):
    template = "admin/vat_rates/form.html"
    if status == 422:
        return render_invalid(template, fragment="admin/vat_rates/_form.html", form=form, rate=rate)
    return render(template, form=form, rate=rate)


def save(form, rate):
    """The form saved (a new rate when `rate` is None), or the page again with what to fix."""
    if form.validate():
        fields = {"name": form.name.data, "rate_bp": form.rate_bp.data, "is_default": form.is_default.data}
        try:
            saved = save_rate(fields, actor(), rate)
        except VatRateInvalid as invalid:
            for name, message in invalid.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            flash(gettext("%(name)s is saved.", name=saved.name), "success")
            return redirect_after_post(url_for(".index"))
    return rate_page(form, rate, status=422)


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def new():
    form = VatRateForm()
    if not form.is_submitted():
        return rate_page(form, None)
    return save(form, None)


@bp.route("/<id:rate_id>", methods=["GET", "POST"])
@owner_required
def edit(rate_id):
    rate = row_or_404(VatRate, rate_id)
    form = VatRateForm(data={"name": rate.name, "rate_bp": rate.rate_bp, "is_default": rate.is_default})
    if not form.is_submitted():
        return rate_page(form, rate)
    return save(form, rate)


@bp.post("/<id:rate_id>/<any(archive, restore):action>")
@owner_required
def set_archived(rate_id, action):
    rate = row_or_404(VatRate, rate_id)
    if action == "restore":
        restore_rate(rate, actor())
        flash(gettext("%(name)s can be given to products again.", name=rate.name), "success")
        return redirect_after_post(url_for(".index"))
    try:
        archive_rate(rate, actor())
    except VatRateInvalid as invalid:
        flash(invalid.errors["archive"], "error")
    else:
        flash(
            gettext(
                "%(name)s is archived: products can no longer be given it. Orders keep their rates.",
                name=rate.name,
            ),
            "success",
        )
    return redirect_after_post(url_for(".index"))
