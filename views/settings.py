"""The shop's settings as the views read them: from the database once per request."""

from flask import g

from models.shop.settings import load_settings


def shop_settings():
    """The settings row, read once per request."""
    if "shop_settings" not in g:
        g.shop_settings = load_settings()
    return g.shop_settings
