"""Friendly error pages in the shop's layout (a small fragment for htmx requests).

When the database is overloaded (SQLite busy; PostgreSQL out of connections, a lock wait or a
statement over its time limit, the pool with no free connection) the answer is 503 "very busy",
rendered without asking the database anything: the usual layout reads the settings and who is
signed in, which would fail again.
"""

from flask import current_app
from flask import make_response
from flask import render_template
from flask import request
from flask import session
from flask_babel import force_locale
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFError
from peewee import OperationalError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

from models.shop.language import LANGUAGES
from models.shop.language import SOURCE_LANGUAGE
from models.shop.language import supported
from views.rendering import is_htmx

MESSAGES = {
    400: (
        lazy_gettext("Something in that request was not right"),
        lazy_gettext("Please go back and try again."),
    ),
    403: (lazy_gettext("You can't open this page"), lazy_gettext("Your account does not have access to it.")),
    404: (
        lazy_gettext("Page not found"),
        lazy_gettext("The page may have moved, or the link may be mistyped."),
    ),
    405: (
        lazy_gettext("That action isn't available here"),
        lazy_gettext("Please use the buttons on the page."),
    ),
    413: (lazy_gettext("That upload is too large"), lazy_gettext("Please send something smaller.")),
    429: (
        lazy_gettext("Too many attempts"),
        lazy_gettext("Please wait a little before trying again."),
    ),
    500: (
        lazy_gettext("Something went wrong on our side"),
        lazy_gettext("Nothing was saved. Please try again in a moment."),
    ),
    503: (
        lazy_gettext("The shop is very busy"),
        lazy_gettext("Nothing was saved. Please try again in a few seconds."),
    ),
}


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(MaxConnectionsExceeded, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def error_response(status, title=None, detail=None, headers=None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400])
    # str(): a lazy message would reach the page unescaped (its __html__ is its plain text).
    context = {
        "status": status,
        "title": str(title or default_title),
        "detail": str(detail or default_detail),
    }
    if is_htmx():
        response = make_response(render_template("errors/_message.html", **context), status)
        # Errors land in the page's message area, whatever the request targeted.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(render_template("errors/error.html", **context), status)
    response.headers.update(headers or {})
    return response


def handle_csrf_error(error):
    return error_response(
        400,
        gettext("This form has expired"),
        gettext(
            "For your safety forms stop working after you sign in or out. "
            "Please reload the page and send it again; nothing was saved."
        ),
    )


def handle_http_error(error):
    if error.code is None or error.code < 400:
        return error
    headers = {}
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return error_response(error.code, detail=getattr(error, "friendly", None), headers=headers)


# PostgreSQL's SQLSTATEs for "too busy now, try again": too many connections, the server
# starting or stopping, a lock wait over lock_timeout, a statement over statement_timeout.
OVERLOAD_STATES = {"53300", "57P03", "55P03", "57014"}
# Said while connecting, before there is a SQLSTATE (libpq's connection errors carry none).
OVERLOAD_WORDS = (
    "locked",
    "busy",
    "too many clients",
    "too many connections",
    "connection slots are reserved",
)


def database_overloaded(error):
    if isinstance(error, MaxConnectionsExceeded):
        return True
    if getattr(getattr(error, "orig", None), "pgcode", None) in OVERLOAD_STATES:  # the driver's error
        return True
    message = str(error).lower()
    return any(words in message for words in OVERLOAD_WORDS)


def handle_database_error(error):
    if database_overloaded(error):
        current_app.logger.warning("database busy: %s", error)
        return busy_response()
    return handle_unexpected_error(error)


def busy_response():
    """The 503 page with nothing from the database: in the visitor's language from the session or
    the browser, a page of its own (errors/busy.html) or the htmx message fragment."""
    language = supported(session.get("language")) or request.accept_languages.best_match(list(LANGUAGES))
    language = language or SOURCE_LANGUAGE
    title, detail = MESSAGES[503]
    template = current_app.jinja_env.get_template("errors/_message.html" if is_htmx() else "errors/busy.html")
    with force_locale(language):
        body = template.render(status=503, title=str(title), detail=str(detail), language=language)
    response = make_response(body, 503)
    response.headers["Retry-After"] = "5"
    if is_htmx():
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def handle_unexpected_error(error):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("unhandled error")
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error
    return error_response(500)
