"""Sign-in (password or emailed code), sign-out, and password reset; and the choice a visitor
gets at checkout (sign in, or create an account) with their cart in view."""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_login import logout_user

from forms.accounts import EmailOnlyForm
from forms.accounts import NewPasswordForm
from forms.accounts import SignInForm
from models.accounts.credentials import request_password_reset
from models.accounts.credentials import reset_password as reset_password_with_link
from models.accounts.credentials import reset_token
from models.accounts.inbox import request_sign_in_code
from models.accounts.inbox import resend_confirmation
from models.shop import throttle
from models.storefront.cart import CART_SESSION_KEY
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.users.security_log import record_event
from models.users.sessions import end_session
from models.users.user import authenticate
from views.accounts.inbox import begin_inbox
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.rendering import safe_next
from views.security import ACCOUNT_PAUSED
from views.security import request_client
from views.security import start_session
from views.throttling import keys_for
from views.throttling import refuse_if_throttled
from views.throttling import sign_in_keys

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = lazy_gettext("That email and password don't match an account. Check both and try again.")
SIGN_IN_BY_CODE = lazy_gettext(
    "Meanwhile you can sign in with a code we email you: “Email me a sign-in code” on the sign-in page."
)
BLOCKED = ACCOUNT_PAUSED
RESET_SENT = lazy_gettext(
    "If that address has an account, we've emailed it a link to choose a new password. The link works for 1 hour."
)


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
        return render("accounts/auth/sign_in.html", form=form, next_url=next_url, status=status)
    keys = sign_in_keys(form.email.data)
    refuse_if_throttled(keys, alternative=SIGN_IN_BY_CODE)
    user = authenticate(form.email.data, form.password.data)
    if user is None:
        throttle.record_failure(keys)
        return sign_in_refused(form, next_url, SIGN_IN_FAILED)
    throttle.clear(keys["account"])
    if not user.is_active:
        return sign_in_refused(form, next_url, BLOCKED)
    if not user.is_confirmed:
        begin_inbox(resend_confirmation(user), flow="register", next_url=next_url)
        flash(gettext("Please confirm your email address first: we've sent you a new code."), "info")
        return redirect_after_post(url_for("inbox.check_inbox"))
    start_session(user)
    record_event(user, "signed_in", client=request_client())
    flash(gettext("Welcome back, %(name)s.", name=user.first_name or user.email), "success")
    return redirect_after_post(safe_next(next_url, landing_for(user)))


def sign_in_refused(form, next_url, message):
    form.password.errors.append(str(message))
    form.password.data = ""
    return render_invalid("accounts/auth/sign_in.html", form=form, next_url=next_url)


@bp.get("/checkout/sign-in")
def checkout_choice():
    """A visitor at checkout: "How would you like to continue?" Create an account (and come back
    here with the cart once the email is confirmed) or sign in, with the cart in view. Where
    views.security sends visitors who open a checkout page; `next` is that page."""
    next_url = safe_next(request.args.get("next"), url_for("checkout.checkout"))
    if current_user.is_authenticated:
        return redirect(next_url)
    summary = cart_summary(find_cart(visitor_key=session.get(CART_SESSION_KEY)))
    if summary.is_empty:
        flash(gettext("Your cart is empty."), "info")
        return redirect(url_for("storefront.cart"))
    return render("accounts/auth/checkout_choice.html", form=SignInForm(), next_url=next_url, summary=summary)


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code():
    """'Email me a sign-in code': always ends on the code page, account or not."""
    next_url = request.values.get("next", "")
    form = EmailOnlyForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("accounts/auth/sign_in_code.html", form=form, next_url=next_url, status=status)
    keys = keys_for("code-mail")  # per address: the cap on unasked mail (models/shop/outbox.py)
    refuse_if_throttled(keys)
    throttle.record_failure(keys)
    begin_inbox(request_sign_in_code(form.email.data), flow="sign_in", next_url=next_url)
    return redirect_after_post(url_for("inbox.check_inbox"))


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        end_session(current_user.session_key)  # a copy of this cookie no longer signs anyone in
    logout_user()
    session.clear()
    flash(gettext("You are signed out."), "success")
    return redirect_after_post(url_for("storefront.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = EmailOnlyForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("accounts/auth/forgot_password.html", form=form, status=status)
    keys = keys_for("reset-mail")  # per address: the cap on unasked mail (models/shop/outbox.py)
    refuse_if_throttled(keys)
    throttle.record_failure(keys)
    request_password_reset(form.email.data)
    flash(str(RESET_SENT), "success")
    return redirect_after_post(url_for("auth.forgot_password_sent"))


@bp.get("/forgot-password/sent")
def forgot_password_sent():
    return render("accounts/auth/forgot_password_sent.html")


@bp.route("/reset-password/<secret>", methods=["GET", "POST"])
def reset_password(secret):
    """Opening the link shows a form; only submitting a new password uses the link."""
    token = reset_token(secret)
    if token is None:
        return render("accounts/auth/reset_password.html", form=None, status=410)
    form = NewPasswordForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        # An account opened by a marketplace order or by the owner has no password yet: this claims it.
        first_password = token.user is not None and token.user.password_hash is None
        return render(
            "accounts/auth/reset_password.html",
            form=form,
            email=token.email,
            first_password=first_password,
            status=status,
        )
    if reset_password_with_link(secret, form.password.data, client=request_client()) is None:
        return render("accounts/auth/reset_password.html", form=None, status=410)
    flash(gettext("Your new password is saved. Please sign in with it."), "success")
    return redirect_after_post(url_for("auth.sign_in"))
