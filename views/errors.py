"""Friendly error pages in the shop's layout (a small fragment for htmx requests)."""

from flask import current_app
from flask import make_response
from flask import render_template
from flask_wtf.csrf import CSRFError
from peewee import OperationalError
from werkzeug.exceptions import HTTPException

from views.rendering import is_htmx

MESSAGES = {
    400: ("Something in that request was not right", "Please go back and try again."),
    403: ("You can't open this page", "Your account does not have access to it."),
    404: ("Page not found", "The page may have moved, or the link may be mistyped."),
    405: ("That action isn't available here", "Please use the buttons on the page."),
    413: ("That upload is too large", "Please send something smaller."),
    429: (
        "Too many attempts",
        "Please wait a little before trying again.",
    ),
    500: ("Something went wrong on our side", "Nothing was saved. Please try again in a moment."),
    503: (
        "The shop is very busy",
        "Nothing was saved. Please try again in a few seconds.",
    ),
}


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def error_response(status, title=None, detail=None, headers=None):
    default_title, default_detail = MESSAGES.get(status, MESSAGES[400])
    context = {"status": status, "title": title or default_title, "detail": detail or default_detail}
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
        "This form has expired",
        "For your safety forms stop working after you sign in or out. "
        "Please reload the page and send it again; nothing was saved.",
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


def handle_database_error(error):
    message = str(error).lower()
    if "locked" in message or "busy" in message:
        current_app.logger.warning("database busy: %s", error)
        return error_response(503, headers={"Retry-After": "5"})
    return handle_unexpected_error(error)


def handle_unexpected_error(error):
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    current_app.logger.exception("unhandled error")
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error
    return error_response(500)
