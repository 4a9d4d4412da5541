"""Sign-in wiring, roles, CSRF and the security headers every response carries."""

from functools import wraps
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import LoginManager
from flask_login.utils import login_url
from flask_wtf.csrf import CSRFProtect

from models.base import utcnow
from models.storefront.cart import carry_into_account
from models.storefront.cart import CART_SESSION_KEY
from models.users.security_log import Client
from models.users.sessions import end_session
from models.users.sessions import Limits
from models.users.sessions import open_session
from models.users.sessions import session_user
from views.rendering import redirect_after_post
from views.throttling import remember_device

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = lazy_gettext("Please sign in to see that page.")
login_manager.login_message_category = "info"
# Marks a session "not fresh" when the browser's address or agent changes; what ends a stolen
# cookie's use is its server-side session (models/users/sessions.py), not this.
login_manager.session_protection = "basic"

# Visitors who reach checkout are offered a choice (sign in, or create an account) with their cart
# in view, instead of the sign-in page (views/accounts/auth.py `checkout_choice`).
CHECKOUT_BLUEPRINT = "checkout"

FRESH_SIGN_IN_SECONDS = 15 * 60
ACCOUNT_PAUSED = lazy_gettext(
    "This account is paused. Please contact the shop if you think this is a mistake."
)


@login_manager.user_loader
def load_user(token):
    """The signed-in user while their session is open; None (signed out) once it was signed out,
    ended by a password or email change, idle or old beyond its limits, or the account paused
    or deleted (Flask-Login itself only checks `is_active` at login_user())."""
    found = session_user(token, session_limits)
    if found is None:
        return None
    user, user_session = found
    user.session_key, user.current_session = token, user_session
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """A visitor on a page that needs an account. At checkout: "How would you like to continue?"
    (sign in or create an account, the cart in view), coming back to the page asked for (a form
    sent to checkout comes back to checkout itself). Everywhere else: the sign-in page, which
    comes back after, as Flask-Login does by default."""
    if request.blueprint == CHECKOUT_BLUEPRINT:
        if request.method == "GET":
            back = request.full_path if request.query_string else request.path
            return redirect(checkout_choice_url(back))
        return redirect_after_post(checkout_choice_url(url_for("checkout.checkout")))
    flash(str(login_manager.login_message), login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, request.url))


def checkout_choice_url(back):
    """The visitor's choice page, coming back to `back` (encoded as Flask-Login writes `next`)."""
    return f"{url_for('auth.checkout_choice')}?{urlencode({'next': back})}"


def session_limits(user):
    """How long a session may idle and last, by role (configuration: README, Sessions)."""
    config = current_app.config
    if user.is_staff:
        return Limits(idle=config["STAFF_SESSION_IDLE"], absolute=config["STAFF_SESSION_MAX"])
    return Limits(idle=config["SESSION_IDLE"], absolute=config["SESSION_MAX"])


def init_app(app):
    app.session_interface = SessionsLeavingPublicResponsesAlone()
    app.before_request(refuse_nul_characters)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.after_request(add_security_headers)


class SessionsLeavingPublicResponsesAlone(SecureCookieSessionInterface):
    """Flask marks a response "Vary: Cookie" once anything looked at the session, and Flask-Login
    looks on every response: a public one (a product picture, an asset) is the same for everyone,
    and that header would keep it out of shared caches. Such a response writes no cookie either."""

    def save_session(self, app, session, response):
        if response.cache_control.public and not session.modified:
            return
        super().save_session(app, session, response)


def refuse_nul_characters():
    """No page has an address with a NUL character in it, and PostgreSQL refuses one in any text
    it is asked about (a 500 wherever a URL part reaches a query): 404, for every route at once.
    Fields and query strings with one get their own clear message from their form (plain_text)."""
    if "\x00" in request.path:
        abort(404)


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # A public response (a picture, a hashed asset) is the same for everyone: asking who is signed
    # in would read the session, and Flask would add "Vary: Cookie", which keeps it out of shared caches.
    if not response.cache_control.public and current_user and current_user.is_authenticated:
        # Pages with balances and personal data never sit in shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response


def staff_required(view):
    """Staff and owner only."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def owner_required(view):
    """Owner-only actions (settings, money). Staff are told they lack the permission."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.is_owner:
            abort(403)
        return view(*args, **kwargs)

    wrapped.owner_only = True  # read by the permission test over every admin route
    return wrapped


def start_session(user, password_entered=True):
    """A fresh session for a fresh sign-in (no fixation); remembers when the password was typed.

    The one place a visitor becomes a customer, so the visitor's cart is carried into the account here.
    """
    visitor_cart = session.get(CART_SESSION_KEY)
    if current_user.is_authenticated:
        end_session(current_user.session_key)  # signing in again: the old session ends, not lingers
    session.clear()
    session.permanent = True  # the cookie outlives the browser; the session's own limits end it
    user.session_key = open_session(user, request_client())
    login_user(user)
    remember_device(user.email)
    if password_entered:
        mark_password_entered()
    for note in carry_into_account(visitor_cart, user):
        flash(note, "info")


def mark_password_entered():
    session["password_at"] = utcnow().timestamp()


def signed_in_recently():
    """Whether the password was entered in the last 15 minutes (for sensitive actions)."""
    entered = session.get("password_at")
    return entered is not None and utcnow().timestamp() - entered < FRESH_SIGN_IN_SECONDS


def request_client():
    """Who sent this request, as the security log records it."""
    return Client(request.remote_addr or "", request.user_agent.string or "")


def fresh_password_required(back_endpoint=None):
    """Sensitive actions: the password must have been typed in the last 15 minutes.

    Otherwise the customer confirms it first and comes back to `back_endpoint`
    (the page whose button made the request) or else to the page asked for.
    """

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if signed_in_recently():
                return view(*args, **kwargs)
            if back_endpoint:
                back = url_for(back_endpoint)
            elif request.method == "GET":
                back = request.full_path if request.query_string else request.path
            else:
                back = same_site_referrer() or url_for("account.dashboard")
            flash(gettext("For your security, please enter your password again to continue."), "info")
            return redirect_after_post(url_for("account.confirm_password", next=back))

        return wrapped

    return decorate


def same_site_referrer():
    """The path of the page that sent this request, if it is one of ours."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")
