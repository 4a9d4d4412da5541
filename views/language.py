"""Which language a page is in, and the selector that changes it (models/shop/language.py).

A signed-in person's page is in their account's language; a visitor's in the language they chose
(kept in the session), else the best match for their browser's Accept-Language, else the shop's
default language. The selector is a form that POSTs the choice and comes back to the same page:
the cart, a registration draft and the sign-in are all in the session and stay as they were.
"""

from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import abort
from flask import Blueprint
from flask import has_request_context
from flask import redirect
from flask import request
from flask import session
from flask_babel import Babel
from flask_login import current_user

from forms.translations import translation_fields
from models.shop.language import active_language
from models.shop.language import LANGUAGES
from models.shop.language import locale_for
from models.shop.language import shop_language
from models.shop.language import supported
from models.shop.texts import owner_text
from models.users.user import set_language
from views.rendering import safe_next

bp = Blueprint("language", __name__)

TRANSLATIONS = "translations"  # relative to the app's root folder (where shop.py is)


def init_app(app):
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    Babel(app, locale_selector=page_locale)
    # {% trans %} blocks drop their line breaks and indentation, so a message reads as one line.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.register_blueprint(bp)
    app.add_template_global(owner_text)  # {{ owner_text(group, "perks") }}: in the reader's language
    app.add_template_global(translation_fields)  # the owner's form fields for the other languages

    @app.context_processor
    def language_context():
        return {"languages": LANGUAGES, "page_language": active_language()}


def page_locale():
    """Flask-Babel's locale selector: the page's locale, or the shop's outside a request (jobs)."""
    return locale_for(page_language() if has_request_context() else None)


def page_language():
    if current_user.is_authenticated and supported(current_user.language):
        return current_user.language
    return (
        supported(session.get("language"))
        or request.accept_languages.best_match(list(LANGUAGES))
        or shop_language()
    )


@bp.post("/language")
def choose():
    """The selector: remember the choice (on the account too when signed in) and go back."""
    language = supported(request.form.get("language"))
    if language is None:
        abort(400)
    session["language"] = language
    if current_user.is_authenticated and current_user.language != language:
        set_language(current_user, language)
    return redirect(page_to_return_to(), code=303)


def page_to_return_to():
    """The page the selector was on: its path from the form, with the query string (a report's
    period, a search) from the Referer when the browser sent one for that same page. The form
    never repeats a query string, so nothing someone put in a link is written into a page. A page
    that answered a POST sends no path: then the Referer's page (this site's only), else "/"."""
    referrer = urlsplit(request.referrer or "")
    same_site = referrer.netloc == request.host
    path = safe_next(request.form.get("next"), None) or (same_site and safe_next(referrer.path, None)) or "/"
    if same_site and unquote(referrer.path) == unquote(path) and referrer.query:
        return safe_next(f"{referrer.path}?{referrer.query}", path)
    return path
