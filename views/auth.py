"""Sign-in and sign-out."""

from flask import Blueprint
from flask import flash
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

from forms.auth import SignInForm
from models.user import authenticate
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.rendering import safe_next
from views.security import mark_password_entered

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "That email and password don't match an account. Check both and try again."


def landing_for(user):
    return url_for("admin.dashboard") if user.is_staff else url_for("account.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    next_url = request.values.get("next", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect_after_post(safe_next(next_url, landing_for(current_user)))
    form = SignInForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("auth/sign_in.html", form=form, next_url=next_url, status=status)
    user = authenticate(form.email.data, form.password.data)
    if user is None or not user.is_active:
        form.password.errors.append(SIGN_IN_FAILED if user is None else blocked_message())
        form.password.data = ""
        return render_invalid("auth/sign_in.html", form=form, next_url=next_url)
    start_session(user)
    flash(f"Welcome back, {user.first_name or user.email}.", "success")
    return redirect_after_post(safe_next(next_url, landing_for(user)))


def blocked_message():
    return "This account is paused. Please contact the shop if you think this is a mistake."


def start_session(user):
    """A fresh session for a fresh sign-in (no fixation), remembering the password time."""
    session.clear()
    login_user(user)
    mark_password_entered()


@bp.post("/sign-out")
def sign_out():
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect_after_post(url_for("storefront.home"))
