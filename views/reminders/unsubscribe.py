"""The reminder emails' opt-out page: one button, and RFC 8058 one-click unsubscribe.

The signed link in every reminder (and its List-Unsubscribe header) is the
customer's authority here, so the page works signed out. GET never changes
anything (mail scanners open links); the button POSTs. Mail clients POST
`List-Unsubscribe=One-Click` to the same URL without a session, so the URL is
exempt from CSRF: the signed token is what a forged request would lack.
"""

from flask import abort
from flask import Blueprint
from flask import request

from models.reminders.messages import set_opted_out
from models.reminders.messages import user_for_opt_out
from views.rendering import render
from views.security import csrf

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


def _customer(token):
    user = user_for_opt_out(token)
    if user is None or user.deleted_at is not None:
        abort(404)
    return user


@bp.get("/unsubscribe/<token>")
def unsubscribe(token):
    user = _customer(token)
    return _private(render("reminders/unsubscribe.html", user=user, token=token, done=None))


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_post(token):
    user = _customer(token)
    opted_out = request.form.get("reminders") != "on"
    set_opted_out(user, opted_out)
    return _private(
        render("reminders/unsubscribe.html", user=user, token=token, done="off" if opted_out else "on")
    )


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
