"""My Account: dashboard, profile, address book, security, data download and deletion.

Every page but the welcome page (visitors) and the emailed email-change link
needs a signed-in customer. Every address lookup goes through `address_of`,
so another customer's address id is simply "not found".
"""

import datetime
import json

import babel
from flask import abort
from flask import Blueprint
from flask import flash
from flask import make_response
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import refresh
from flask_login import current_user
from flask_login import login_required
from flask_login import logout_user

from forms.accounts import address_form
from forms.accounts import ChangeEmailForm
from forms.accounts import ChangePasswordForm
from forms.accounts import DeleteAccountForm
from forms.accounts import PasswordCheckForm
from forms.accounts import ProfileForm
from forms.fields import national_phone
from forms.fields import phone_number
from models.accounts.addresses import add_address
from models.accounts.addresses import Address
from models.accounts.addresses import ADDRESS_FIELDS
from models.accounts.addresses import address_of
from models.accounts.addresses import addresses_of
from models.accounts.addresses import delete_address as delete_address_of
from models.accounts.addresses import update_address
from models.accounts.credentials import change_password as change_password_of
from models.accounts.credentials import confirm_email_change
from models.accounts.credentials import request_email_change
from models.accounts.credentials import sign_out_everywhere
from models.accounts.profile import delete_account as delete_account_of
from models.accounts.profile import deletion_of
from models.accounts.profile import export_data
from models.accounts.profile import update_profile
from models.funds.ledger import LedgerError
from models.reminders.messages import set_opted_out
from models.shop import throttle
from models.shop.language import active_language
from models.shop.language import active_locale
from models.shop.language import supported
from models.users.security_log import events_of
from models.users.sessions import open_sessions
from models.users.tokens import CHANGE_EMAIL
from models.users.tokens import find_by_link
from models.users.user import authenticate
from models.users.user import User
from views.funds.credit import credit_at_a_glance
from views.rendering import is_htmx
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.rendering import safe_next
from views.security import fresh_password_required
from views.security import mark_password_entered
from views.security import request_client
from views.security import session_limits
from views.security import signed_in_recently
from views.security import start_session
from views.settings import shop_settings
from views.throttling import keys_for
from views.throttling import refuse_if_throttled

bp = Blueprint("account", __name__, url_prefix="/account")

WRONG_PASSWORD = lazy_gettext("That password isn't right. Check it and try again.")


@bp.get("/")
def dashboard():
    if not current_user.is_authenticated:
        return render("accounts/account/welcome.html")
    return render(
        "accounts/account/dashboard.html",
        addresses=addresses_of(me()),
        credit=credit_at_a_glance(me()),
        **default_ids(),
    )


# Helpers ---------------------------------------------------------------------


def me():
    """The signed-in User itself (domain functions want the model, not Flask-Login's proxy)."""
    return current_user._get_current_object()


def default_ids():
    user = User.get_by_id(current_user.id)
    return {"default_billing_id": user.default_billing_id, "default_shipping_id": user.default_shipping_id}


@bp.context_processor
def account_helpers():
    return {"country_name": country_name, "address_lines": address_lines, "show_phone": show_phone}


def show_phone(e164):
    return national_phone(e164, shop_settings().country)


def country_name(code):
    return babel.Locale.parse(active_locale()).territories.get(code, code)


def address_lines(address):
    """The envelope lines, the country written out in the shop's language (Address.lines)."""
    return address.lines()


def reauth_keys():
    """Typing the password again is throttled like sign-in, so a stolen session can't guess it."""
    keys = keys_for("reauth", current_user.email)
    refuse_if_throttled(keys)
    return keys


def wrong_password(keys, field):
    throttle.record_failure(keys)
    field.errors.append(str(WRONG_PASSWORD))


def stay_signed_in(user, password_entered):
    """Re-sign this browser after the session token rotated (the other sessions stay ended)."""
    entered = session.get("password_at")
    start_session(user, password_entered=password_entered)
    if not password_entered and entered is not None:
        session["password_at"] = entered  # keep the freshness the customer already had


# Profile -----------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    country = shop_settings().country
    user = me()
    form = ProfileForm(
        data={
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": national_phone(user.phone, country),
            "payment_reminders": user.reminders_opted_out_at is None,
            # The language the pages are in now: the account's, or the one it reads the shop in.
            "language": supported(user.language) or active_language(),
        }
    )
    if request.method == "GET":
        return render("accounts/account/profile.html", form=form)
    # A number without + is read as one of the billing address's country first, then the shop's.
    home = Address.get_or_none(Address.id == user.default_billing_id)
    if not form.validate(extra_validators={"phone": [phone_number(home and home.country, country)]}):
        return render_invalid("accounts/account/profile.html", form=form)
    update_profile(
        user,
        form.first_name.data,
        form.last_name.data,
        form.phone.data or "",
        client=request_client(),
        language=form.language.data,
    )
    if form.payment_reminders.data != (user.reminders_opted_out_at is None):
        set_opted_out(user, not form.payment_reminders.data)
    refresh()  # a new language applies from here on: the message below is in it too
    flash(gettext("Your details are saved."), "success")
    return redirect_after_post(url_for("account.dashboard"))


# Address book ----------------------------------------------------------------------


def new_address_form(address=None):
    """The address form; each address has its own field prefix, so two open forms never share ids."""
    settings = shop_settings()
    data = None
    if address is not None and request.method == "GET":
        data = address.as_dict()
        data["phone"] = national_phone(address.phone, settings.country)
    formdata = request.form if request.method == "POST" else None
    prefix = f"address-{address.id}" if address is not None else "new-address"
    return address_form(
        prefix, active_locale(), settings.country, with_recipient=True, formdata=formdata, data=data
    )


def validate_address(form):
    countries = (form.country.data, shop_settings().country)
    return form.validate(extra_validators={"phone": [phone_number(*countries)]})


def address_fields(form):
    return {name: form[name].data for name in ADDRESS_FIELDS}


def owned_address(address_id):
    address = address_of(me(), address_id)
    if address is None:
        abort(404)
    return address


@bp.get("/addresses")
@login_required
def addresses():
    return render("accounts/account/addresses.html", addresses=addresses_of(me()), **default_ids())


@bp.route("/addresses/new", methods=["GET", "POST"])
@login_required
def new_address():
    form = new_address_form()
    # ?next=/checkout (a local path only): where to go back to after saving, e.g. checkout.
    next_url = safe_next(request.values.get("next"), "")
    context = {"form": form, "address": None, "next_url": next_url, **default_ids()}
    if request.method == "GET":
        return render(
            "accounts/account/address_form.html", fragment="accounts/account/_address_new.html", **context
        )
    if not validate_address(form):
        return render_invalid(
            "accounts/account/address_form.html", fragment="accounts/account/_address_new.html", **context
        )
    before = default_ids()
    address = add_address(
        me(),
        address_fields(form),
        make_default_billing=form.make_default_billing.data,
        make_default_shipping=form.make_default_shipping.data,
        client=request_client(),
    )
    if next_url:
        flash(gettext("Address added."), "success")
        return redirect_after_post(next_url)
    if is_htmx():
        return address_saved(address, before, added=True)
    flash(gettext("Address added."), "success")
    return redirect_after_post(url_for("account.addresses", _anchor=f"address-{address.id}"))


@bp.get("/addresses/<id:address_id>")
@login_required
def address(address_id):
    address = owned_address(address_id)
    return render(
        "accounts/account/address.html",
        fragment="accounts/account/_address_card.html",
        address=address,
        focus_edit=True,  # the full page turns it off: only a swapped-in card takes focus
        **default_ids(),
    )


@bp.route("/addresses/<id:address_id>/edit", methods=["GET", "POST"])
@login_required
def edit_address(address_id):
    address = owned_address(address_id)
    form = new_address_form(address)
    context = {"form": form, "address": address, **default_ids()}
    if request.method == "GET":
        return render(
            "accounts/account/address_form.html", fragment="accounts/account/_address_edit.html", **context
        )
    if not validate_address(form):
        return render_invalid(
            "accounts/account/address_form.html", fragment="accounts/account/_address_edit.html", **context
        )
    before = default_ids()
    update_address(
        me(),
        address,
        address_fields(form),
        make_default_billing=form.make_default_billing.data,
        make_default_shipping=form.make_default_shipping.data,
        client=request_client(),
    )
    if is_htmx():
        return address_saved(address, before)
    flash(gettext("Address saved."), "success")
    return redirect_after_post(url_for("account.addresses", _anchor=f"address-{address.id}"))


@bp.post("/addresses/<id:address_id>/delete")
@login_required
def delete_address(address_id):
    address = owned_address(address_id)
    before = default_ids()
    delete_address_of(me(), address, client=request_client())
    if is_htmx():
        # The card disappears; a card that inherited a default is refreshed out of band.
        return address_saved(None, before, message=gettext("Address deleted."))
    flash(gettext("Address deleted."), "success")
    return redirect_after_post(url_for("account.addresses"))


def address_saved(address, before, added=False, message=None):
    """htmx's answer to a save: the card itself, plus any other card whose default badge changed."""
    after = default_ids()
    changed = {
        address_id
        for key in after
        for address_id in (before[key], after[key])
        if before[key] != after[key] and address_id is not None
    }
    if address is not None:
        changed.discard(address.id)
    others = [other for other in addresses_of(me()) if other.id in changed]
    response = render(
        "accounts/account/_address_saved.html",
        address=address,
        others=others,
        added=added,
        message=message or (gettext("Address added.") if added else gettext("Address saved.")),
        **after,
    )
    response.vary.add("HX-Request")
    return response


# Security --------------------------------------------------------------------------


@bp.get("/security")
@login_required
def security():
    return render(
        "accounts/account/security.html",
        events=events_of(me()),
        sessions=open_sessions(me(), session_limits(current_user)),
        limits=session_limits(current_user),
        fresh=signed_in_recently(),
        has_password=bool(me().password_hash),
    )


@bp.route("/security/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if request.method == "GET":
        return render("accounts/account/change_password.html", form=form)
    if not form.validate():
        return render_invalid("accounts/account/change_password.html", form=form)
    keys = reauth_keys()
    user = me()
    if not change_password_of(user, form.current_password.data, form.password.data, client=request_client()):
        wrong_password(keys, form.current_password)
        return render_invalid("accounts/account/change_password.html", form=form)
    throttle.clear(keys["account"])
    stay_signed_in(User.get_by_id(user.id), password_entered=True)
    flash(
        gettext("Your password is changed. Any other devices signed in to your account were signed out."),
        "success",
    )
    return redirect_after_post(url_for("account.security"))


@bp.route("/security/email", methods=["GET", "POST"])
@login_required
def change_email():
    form = ChangeEmailForm()
    if request.method == "GET":
        return render("accounts/account/change_email.html", form=form)
    if not form.validate():
        return render_invalid("accounts/account/change_email.html", form=form)
    keys = reauth_keys()
    outcome = request_email_change(me(), form.current_password.data, form.email.data, client=request_client())
    if outcome == "wrong_password":
        wrong_password(keys, form.current_password)
        return render_invalid("accounts/account/change_email.html", form=form)
    throttle.clear(keys["account"])
    if outcome == "same":
        form.email.errors.append(gettext("That is already your email address. Enter the new address."))
        return render_invalid("accounts/account/change_email.html", form=form)
    flash(
        gettext(
            "We've sent a link to %(email)s. Your email address changes when you open it "
            "and press the button (the link works for 2 hours).",
            email=form.email.data,
        ),
        "success",
    )
    return redirect_after_post(url_for("account.security"))


@bp.get("/email/confirm/<secret>")
def confirm_new_email(secret):
    """The emailed link opens a page with one button; only the POST uses the link.

    No sign-in needed: the link may be opened on another device or after signing out.
    """
    token = find_by_link(secret, CHANGE_EMAIL)
    status = 200 if token is not None else 410
    return render("accounts/account/confirm_new_email.html", secret=secret, token=token, status=status)


@bp.post("/email/confirm/<secret>")
def confirm_new_email_post(secret):
    # Who is signed in here, read before the change rotates the session token.
    signed_in_id = current_user.id if current_user.is_authenticated else None
    user = confirm_email_change(secret, client=request_client())
    if user is None:
        return render("accounts/account/confirm_new_email.html", secret=secret, token=None, status=410)
    if signed_in_id == user.id:
        # Other sessions ended with the change; this browser, which proved the new address, stays in.
        stay_signed_in(user, password_entered=False)
        flash(gettext("Your email address is now %(email)s.", email=user.email), "success")
        return redirect_after_post(url_for("account.security"))
    flash(
        gettext("Your email address is now %(email)s. Please sign in with it.", email=user.email), "success"
    )
    return redirect_after_post(url_for("auth.sign_in"))


@bp.post("/security/sign-out-others")
@fresh_password_required("account.security")
def sign_out_others():
    user = me()
    sign_out_everywhere(user, client=request_client())
    stay_signed_in(User.get_by_id(user.id), password_entered=False)
    flash(gettext("Your other devices are signed out. This one stays signed in."), "success")
    return redirect_after_post(url_for("account.security"))


@bp.route("/confirm-password", methods=["GET", "POST"])
@login_required
def confirm_password():
    next_url = safe_next(request.values.get("next"), url_for("account.dashboard"))
    form = PasswordCheckForm()
    if request.method == "GET":
        return render("accounts/account/confirm_password.html", form=form, next_url=next_url)
    if not form.validate():
        return render_invalid("accounts/account/confirm_password.html", form=form, next_url=next_url)
    keys = reauth_keys()
    user = authenticate(current_user.email, form.password.data)
    if user is None or user.id != current_user.id:
        wrong_password(keys, form.password)
        return render_invalid("accounts/account/confirm_password.html", form=form, next_url=next_url)
    throttle.clear(keys["account"])
    mark_password_entered()
    return redirect_after_post(next_url)


# Your data -----------------------------------------------------------------------


@bp.get("/data")
@login_required
def data():
    return render("accounts/account/data.html", fresh=signed_in_recently())


@bp.get("/data.json")
@fresh_password_required("account.data")
def download_data():
    body = json.dumps(export_data(me()), indent=2, ensure_ascii=False) + "\n"
    response = make_response(body)
    response.mimetype = "application/json"
    filename = f"my-data-{datetime.date.today().isoformat()}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    deletion = deletion_of(me())
    context = {"form": form, "has_password": bool(me().password_hash), "deletion": deletion}
    if request.method == "GET":
        return render("accounts/account/delete.html", **context)
    if not form.validate() or deletion.blocker:
        return render_invalid("accounts/account/delete.html", **context)
    keys = reauth_keys()
    try:
        deleted = delete_account_of(me(), form.password.data, form.bonus_told)
    except LedgerError as error:  # the balance changed since the page was shown: show it as it is now
        context["deletion"] = deletion_of(me())
        return render_invalid("accounts/account/delete.html", **context, changed=str(error))
    if not deleted:
        wrong_password(keys, form.password)
        return render_invalid("accounts/account/delete.html", **context)
    throttle.clear(keys["account"])
    logout_user()
    session.clear()
    flash(
        gettext(
            "Your account is deleted and your personal details are erased. Thank you for shopping with us."
        ),
        "success",
    )
    return redirect_after_post(url_for("storefront.home"))
