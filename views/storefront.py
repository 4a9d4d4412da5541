"""The shop's front page (the catalogue arrives with the storefront issue)."""

from flask import Blueprint

from views.rendering import render

bp = Blueprint("storefront", __name__)


@bp.get("/")
def home():
    return render("storefront/home.html")


@bp.get("/cart")
def cart():
    return render("storefront/cart.html")
