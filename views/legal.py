"""The shop's legal pages, public: /legal/notice, /legal/terms, /legal/privacy,
/legal/withdrawal-form (models/shop/legal.py has their texts and rules)."""

from flask import abort
from flask import Blueprint

from models.shop.legal import last_updated
from models.shop.legal import page_text
from models.shop.legal import PAGES
from views.rendering import render

bp = Blueprint("legal", __name__, url_prefix="/legal")


@bp.get("/<key>")
def page(key):
    if key not in PAGES:
        abort(404)
    return render(
        "legal/page.html", key=key, title=PAGES[key], text=page_text(key), updated=last_updated(key)
    )
