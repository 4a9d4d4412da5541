"""'Check your inbox': the emailed 6-digit code, a new code, and confirmation links.

The page reads the same whether or not the address had an account.

Where the customer lands once signed in: the page they were on their way to (checkout), if the
sign-in or registration started there, else My Account. A registration keeps its way back with
its ticket in the database (models/accounts/registration.py `take_return`), so the emailed link
works in any browser and brings the visitor's cart along; a sign-in by code keeps it in the
session (the code only works in the tab that asked for it).
"""

from flask import Blueprint
from flask import flash
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_babel import ngettext

from forms.accounts import CodeForm
from models.accounts.inbox import confirm_by_link
from models.accounts.inbox import inbox_token
from models.accounts.inbox import redeem_code
from models.accounts.inbox import resend
from models.accounts.registration import return_path
from models.accounts.registration import take_return
from models.shop import throttle
from models.storefront.cart import cart_item_count
from models.users.tokens import CODE_ATTEMPTS
from models.users.tokens import CONFIRM_EMAIL
from models.users.tokens import find_by_link
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.rendering import safe_next
from views.security import ACCOUNT_PAUSED
from views.security import request_client
from views.security import start_session
from views.throttling import keys_for
from views.throttling import refuse_if_throttled

bp = Blueprint("inbox", __name__)

INBOX_KEY = "inbox"
FLOWS = ("register", "sign_in")


def begin_inbox(token, flow, next_url=None):
    """Remember which ticket the code page is about (only its random id goes in the cookie), and
    the page to go on to once signed in (a path on this site, or none)."""
    held = {"token": token.id, "flow": flow}
    next_url = safe_next(next_url, None)
    if next_url:
        held["next"] = next_url
    session[INBOX_KEY] = held


def current_ticket():
    held = session.get(INBOX_KEY) or {}
    token = inbox_token(held.get("token"))
    return token, held.get("flow") if held.get("flow") in FLOWS else "register"


def inbox_page(form, token, flow, invalid=False):
    going_to = session.get(INBOX_KEY, {}).get("next") or return_path(token.id)
    page = render_invalid if invalid else render
    return page(
        "accounts/inbox/check_inbox.html",
        form=form,
        token=token,
        flow=flow,
        to_checkout=bool(going_to and going_to.startswith("/checkout")),
    )


@bp.get("/check-inbox")
def check_inbox():
    token, flow = current_ticket()
    if token is None:
        return render("accounts/inbox/no_ticket.html", status=404)
    return inbox_page(CodeForm(), token, flow)


@bp.post("/check-inbox")
def enter_code():
    token, flow = current_ticket()
    if token is None:
        return render("accounts/inbox/no_ticket.html", status=404)
    form = CodeForm()
    if not form.validate_on_submit():
        return inbox_page(form, token, flow, invalid=True)
    keys = keys_for("code")
    refuse_if_throttled(keys)
    outcome, user = redeem_code(token, form.code.data, client=request_client())
    if outcome != "ok":
        throttle.record_failure(keys)
        attempts_left = max(CODE_ATTEMPTS - (token.code_attempts + 1), 0)
        if outcome == "expired" or attempts_left == 0:
            form.code.errors.append(
                gettext("That code has expired or been tried too often. Send yourself a new code below.")
            )
        else:
            form.code.errors.append(
                ngettext(
                    "That code isn't right. Check the latest email; %(num)d try left.",
                    "That code isn't right. Check the latest email; %(num)d tries left.",
                    attempts_left,
                )
            )
        form.code.data = ""
        return inbox_page(form, token, flow, invalid=True)
    return sign_in_from_inbox(user, token.purpose, password_entered=True, ticket_id=token.id)


@bp.post("/check-inbox/resend")
def resend_code():
    token, _ = current_ticket()
    if token is None:
        return render("accounts/inbox/no_ticket.html", status=404)
    keys = keys_for("resend")  # per address: the cap on unasked mail (models/shop/outbox.py)
    refuse_if_throttled(keys)
    if resend(token):
        throttle.record_failure(keys)
        flash(gettext("We've sent a new code. It works for 15 minutes."), "success")
    else:
        flash(
            gettext(
                "We sent a code less than a minute ago. Please check your inbox (and spam folder) first."
            ),
            "info",
        )
    return redirect_after_post(url_for("inbox.check_inbox"))


@bp.get("/register/confirm/<secret>")
def confirm_link(secret):
    """The emailed link opens a page; only its button (a POST) confirms."""
    valid = find_by_link(secret, CONFIRM_EMAIL) is not None
    return render(
        "accounts/inbox/confirm_link.html", secret=secret, valid=valid, status=200 if valid else 410
    )


@bp.post("/register/confirm/<secret>")
def confirm_link_post(secret):
    ticket = find_by_link(secret, CONFIRM_EMAIL)
    user = confirm_by_link(secret, client=request_client())
    if user is None:
        return render("accounts/inbox/confirm_link.html", secret=secret, valid=False, status=410)
    return sign_in_from_inbox(user, CONFIRM_EMAIL, password_entered=False, ticket_id=ticket.id)


def sign_in_from_inbox(user, purpose, password_entered, ticket_id=None):
    """Sign in the customer who proved their inbox, unless the shop paused the account; then on
    to where they were going (checkout), with the cart their registration remembered."""
    held = session.pop(INBOX_KEY, None) or {}
    if not user.is_active:
        flash(str(ACCOUNT_PAUSED), "error")
        return redirect_after_post(url_for("auth.sign_in"))
    start_session(user, password_entered=password_entered)
    going_to = held.get("next") if held.get("token") == ticket_id else None
    if purpose == CONFIRM_EMAIL and ticket_id:
        returning_to, notes = take_return(ticket_id, user)
        going_to = going_to or returning_to
        for note in notes:
            flash(str(note), "info")
    going_to = safe_next(going_to, None)
    flash(welcome_message(purpose, user, going_to), "success")
    return redirect_after_post(going_to or url_for("account.dashboard"))


def welcome_message(purpose, user, going_to=None):
    if purpose == CONFIRM_EMAIL:
        if going_to and cart_item_count(user=user):
            return gettext(
                "Welcome, %(name)s! Your account is ready and your cart is waiting.", name=user.first_name
            )
        return gettext("Your email address is confirmed. Welcome, %(name)s!", name=user.first_name)
    return gettext("You're signed in. Welcome back, %(name)s.", name=user.first_name or user.email)
