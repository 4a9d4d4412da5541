"""The legal pages in the admin area (/admin/legal): their list, and the owner's editor.

Staff see the list and read the pages; only the owner changes them (`owner_required`: they are
the shop's contract with its customers). The rules and the audit are in models/shop/legal.py.
"""

from flask import abort
from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.legal import LegalPageForm
from forms.translations import fill_translations
from forms.translations import translations_in
from forms.translations import with_other_languages
from models.shop.language import shop_language
from models.shop.legal import form_texts
from models.shop.legal import page_states
from models.shop.legal import PAGES
from models.shop.legal import save_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required

bp = Blueprint("legal", __name__, url_prefix="/legal")


@bp.get("/")
def index():
    return render("admin/legal/index.html", pages=page_states())


@bp.route("/<key>", methods=["GET", "POST"])
@owner_required
def edit(key):
    if key not in PAGES:
        abort(404)
    form = with_other_languages(LegalPageForm, "body")()
    if request.method != "POST":
        texts = form_texts(key)
        form.body.data = texts[shop_language()]
        fill_translations(form, "body", texts)
    context = {"form": form, "key": key, "title": PAGES[key]}
    if not form.validate_on_submit():
        if request.method == "POST":
            return render_invalid("admin/legal/edit.html", **context)
        return render("admin/legal/edit.html", **context)
    changed = save_page(
        key, form.body.data, translations_in(form, "body"), current_user._get_current_object()
    )
    flash(gettext("Page saved.") if changed else gettext("Nothing changed."), "success")
    return redirect_after_post(url_for("admin.legal.index"))
