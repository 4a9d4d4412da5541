"""The four-step registration: My Account → Continue, email and password, details, review.

One URL per step. The draft lives server-side; the session holds only its id.

Step 2 also asks the language for emails and pages (preselected with the page's language): the
draft keeps it, the next steps are in it, the account is made with it (`User.language`) and the
confirmation email is written in it. My Account → Your details changes it later.
"""

from flask import abort
from flask import Blueprint
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import lazy_gettext
from flask_login import current_user

from forms.accounts import address_form
from forms.accounts import EmailPasswordForm
from forms.accounts import PersonalDetailsForm
from forms.fields import phone_number
from models.accounts.addresses import ADDRESS_FIELDS
from models.accounts.registration import complete_registration
from models.accounts.registration import find_draft
from models.accounts.registration import remember_return
from models.accounts.registration import save_answers
from models.accounts.registration import start_draft
from models.shop.language import active_language
from models.shop.language import active_locale
from models.shop.language import supported
from models.storefront.cart import CART_SESSION_KEY
from models.users.passwords import hash_password
from views.accounts.inbox import begin_inbox
from views.groups.membership import REFERRAL_KEY
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.rendering import safe_next
from views.security import request_client
from views.settings import shop_settings
from views.throttling import throttled

bp = Blueprint("register", __name__, url_prefix="/register")

STEPS = {
    1: lazy_gettext("Start"),
    2: lazy_gettext("Email and password"),
    3: lazy_gettext("Your details"),
    4: lazy_gettext("Check and create"),
}
DRAFT_KEY = "registration_draft"


@bp.before_request
def signed_in_customers_have_an_account():
    if current_user.is_authenticated:
        return redirect(url_for("account.dashboard"))
    return None


def current_draft():
    return find_draft(session.get(DRAFT_KEY))


def step_context(number):
    return {"step": number, "steps": STEPS}


@bp.post("/")
@throttled("register")
def start():
    """Step 1's Continue button: a draft to fill in (an unfinished one is reused).

    From checkout's "Create an account" the form says where to go back to (`next`, a path on
    this site or nothing): the draft remembers it and the visitor's cart, for after the email
    is confirmed. Started anywhere else, the customer lands on My Account as always."""
    draft = current_draft()
    if draft is None:
        draft = start_draft()
        session[DRAFT_KEY] = draft.id
    return_to = safe_next(request.form.get("next"), None)
    cart_key = session.get(CART_SESSION_KEY)
    if (return_to, cart_key) != (draft.return_to, draft.cart_key):
        remember_return(draft, return_to, cart_key)
    return redirect_after_post(url_for("register.email"))


@bp.get("")  # /register, typed without its slash: the same as /register/, not Werkzeug's 308 page
@bp.get("/")
def start_page():
    return redirect(url_for("account.dashboard"))


@bp.route("/email", methods=["GET", "POST"])
def email():
    draft = current_draft()
    if draft is None:
        return expired_draft()
    values = draft.values
    # The language asked here is the page's until the customer picks another (models/shop/language.py).
    language = supported(values.get("language")) or active_language()
    form = EmailPasswordForm(data={"email": values.get("email", ""), "language": language})
    keeping_password = bool(draft.password_hash)
    if request.method == "POST":
        if keeping_password and not request.form.get("password"):
            form.password.validators = []  # leave blank to keep the password chosen earlier
        if form.validate_on_submit():
            password_hash = hash_password(form.password.data) if form.password.data else None
            save_answers(
                draft, {"email": form.email.data, "language": form.language.data}, password_hash=password_hash
            )
            session["language"] = form.language.data  # the next steps are in the language chosen
            return redirect_after_post(url_for("register.details"))
        return render_invalid(
            "accounts/register/email.html", form=form, keeping_password=keeping_password, **step_context(2)
        )
    return render(
        "accounts/register/email.html", form=form, keeping_password=keeping_password, **step_context(2)
    )


@bp.route("/details", methods=["GET", "POST"])
def details():
    draft = current_draft()
    if draft is None:
        return expired_draft()
    if 2 not in draft.completed_steps():
        return redirect(url_for("register.email"))
    forms = details_forms(draft)
    if request.method == "POST":
        if validate_details(forms):
            save_answers(draft, details_answers(forms))
            return redirect_after_post(url_for("register.review"))
        return render_invalid("accounts/register/details.html", **forms, **step_context(3))
    return render("accounts/register/details.html", **forms, **step_context(3))


@bp.get("/details/shipping")
def shipping_fields():
    """The shipping fieldset, shown or folded away as the checkbox changes (htmx)."""
    if current_draft() is None:
        abort(404)
    settings = shop_settings()
    shipping = address_form(
        "shipping", active_locale(), settings.country, with_recipient=True, formdata=request.args
    )
    return render(
        "accounts/register/_shipping.html",
        shipping=shipping,
        ship_different=request.args.get("ship_different") == "y",
    )


def details_forms(draft):
    settings = shop_settings()
    values = draft.values
    post = request.form if request.method == "POST" else None
    personal = PersonalDetailsForm(
        formdata=post, data={k: values.get(k) for k in ("first_name", "last_name", "phone", "ship_different")}
    )
    billing = address_form(
        "billing", active_locale(), settings.country, formdata=post, data=values.get("billing") or {}
    )
    shipping = address_form(
        "shipping",
        active_locale(),
        settings.country,
        with_recipient=True,
        formdata=post,
        data=values.get("shipping") or {},
    )
    return {"personal": personal, "billing": billing, "shipping": shipping}


def validate_details(forms):
    settings = shop_settings()
    billing_country = forms["billing"].country.data
    valid = forms["personal"].validate(
        extra_validators={"phone": [phone_number(billing_country, settings.country)]}
    )
    valid = forms["billing"].validate() and valid
    if forms["personal"].ship_different.data:
        forms["shipping"].phone.validators = []
        countries = (forms["shipping"].country.data, billing_country, settings.country)
        valid = forms["shipping"].validate(extra_validators={"phone": [phone_number(*countries)]}) and valid
    return valid


def details_answers(forms):
    personal, billing, shipping = forms["personal"], forms["billing"], forms["shipping"]
    name = f"{personal.first_name.data} {personal.last_name.data}"
    billing_data = {
        name_: billing[name_].data or ""
        for name_ in ("line1", "line2", "city", "region", "postal_code", "country")
    }
    billing_data["full_name"] = name
    answers = {
        "first_name": personal.first_name.data,
        "last_name": personal.last_name.data,
        "phone": personal.phone.data,
        "ship_different": bool(personal.ship_different.data),
        "billing": billing_data,
        "shipping": None,
    }
    if personal.ship_different.data:
        answers["shipping"] = {name_: shipping[name_].data or "" for name_ in ADDRESS_FIELDS}
    return answers


@bp.route("/review", methods=["GET", "POST"])
def review():
    draft = current_draft()
    if draft is None:
        return expired_draft()
    missing = {2, 3} - draft.completed_steps()
    if missing:
        return redirect(url_for("register.email" if 2 in missing else "register.details"))
    if request.method == "POST":
        token = complete_registration(
            draft,
            referral_code=session.pop(REFERRAL_KEY, None),
            client=request_client(),
            cart_key=session.get(CART_SESSION_KEY),
        )
        session.pop(DRAFT_KEY, None)
        begin_inbox(token, flow="register")
        return redirect_after_post(url_for("inbox.check_inbox"))
    return render("accounts/register/review.html", values=draft.values, **step_context(4))


def expired_draft():
    session.pop(DRAFT_KEY, None)
    return render("accounts/register/expired.html", status=410)
