"""My Account."""

from flask import Blueprint
from flask_login import current_user

from views.rendering import render

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("/")
def dashboard():
    if not current_user.is_authenticated:
        return render("account/welcome.html")
    return render("account/dashboard.html")
