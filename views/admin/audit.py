"""The audit list (/admin/audit): every admin action, newest first; the owner's."""

from flask import Blueprint

from models.shop.audit import recent_entries
from views.pagination import uncounted_page
from views.rendering import render
from views.security import owner_required

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


@bp.get("")
@owner_required
def index():
    page, entries = uncounted_page(recent_entries, PAGE_SIZE)
    return render("admin/audit/index.html", entries=entries, page=page)
