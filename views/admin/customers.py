"""The shop's customer pages under /admin/customers: find, view, create, edit, pause.

Who may do what: staff and the owner find, view, create and edit customers
(taking a customer's details over the phone is everyday shop work, the new
account is always a plain customer, and the customer sets their own password
from the emailed link). Pausing and resuming an account, and putting a customer into a group,
moving them or taking them out of it, are the owner's call (staff see the group). Nobody here changes a customer's email address: customers do that themselves,
confirmed by a link to the new address.
"""

import phonenumbers
from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from peewee import IntegrityError

from forms.accounts import CustomerDetailsForm
from forms.accounts import NewCustomerForm
from forms.fields import clean_text
from forms.fields import phone_number
from forms.groups import CustomerGroupForm
from models.accounts.addresses import addresses_of
from models.accounts.administration import create_customer_for_owner
from models.accounts.administration import set_blocked
from models.accounts.profile import update_profile
from models.accounts.search import clean_query
from models.accounts.search import customers
from models.accounts.search import with_group_and_balance
from models.groups.applications import applications_of
from models.groups.applications import PENDING
from models.groups.group import active_groups
from models.groups.group import CustomerGroup
from models.groups.group import default_group
from models.groups.group import group_of
from models.groups.group import GroupError
from models.groups.management import group_change
from models.groups.management import put_in_group
from models.shop.language import format_percent_bp
from models.users.security_log import events_of
from models.users.user import CREATED_BY_OWNER
from models.users.user import CUSTOMER
from models.users.user import FROM_MARKETPLACE
from models.users.user import SELF_REGISTERED
from models.users.user import User
from views.formatting import phone
from views.lookups import row_or_404
from views.pagination import counted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required
from views.security import request_client
from views.settings import shop_settings

bp = Blueprint("customers", __name__, url_prefix="/customers")

PER_PAGE = 25
EMAIL_TAKEN = lazy_gettext("There is already an account with this email address.")
SOURCES = {
    SELF_REGISTERED: lazy_gettext("Registered on the website"),
    CREATED_BY_OWNER: lazy_gettext("Created by the shop"),
    FROM_MARKETPLACE: lazy_gettext("Came with a marketplace order"),
}


@bp.context_processor
def customer_helpers():
    return {
        "phone_display": phone_display,
        "phone_example": phone_example(),
        "source_label": lambda source: SOURCES.get(source, source),
        "percent_bp": format_percent_bp,
    }


def phone_display(e164):
    return phone(e164)


def phone_example():
    """A made-up mobile number of the shop's country, written the national way, for hints."""
    number = phonenumbers.example_number_for_type(
        shop_settings().country, phonenumbers.PhoneNumberType.MOBILE
    )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL) if number else ""


def customer_or_404(customer_id):
    """A customer (blocked or not); staff, the owner, deleted accounts and unknown ids are 404."""
    return row_or_404(User, customer_id, User.role == CUSTOMER, User.deleted_at.is_null())


def keep_typed(form, *names):
    """Show these fields as typed (validators store phones as E.164 and emails normalised)."""
    for name in names:
        field = form[name]
        if field.raw_data:
            field.data = clean_text(field.raw_data[0])


@bp.get("")
def index():
    """The customer list; htmx's active search asks for just the results part."""
    q = clean_query(request.args.get("q", ""))
    query = customers(q, shop_settings().country)
    total = query.count()
    page = counted_page(total, PER_PAGE)
    return render(
        "admin/customers/index.html",
        fragment="admin/customers/_results.html",
        q=q,
        customers=list(with_group_and_balance(query).paginate(page.number, page.size)),
        total=total,
        page=page,
    )


@bp.get("/<id:customer_id>")
def show(customer_id):
    customer = customer_or_404(customer_id)
    group = group_of(customer)
    return render(
        "admin/customers/show.html",
        customer=customer,
        addresses=addresses_of(customer),
        events=events_of(customer),
        group=group,
        group_form=group_form(group),
        default_group=default_group(),
        applied_for=[a.group for a in applications_of(customer) if a.state == PENDING],
    )


def group_form(current, formdata=None):
    """The form that puts a customer into another group: every open group but theirs."""
    form = CustomerGroupForm(formdata=formdata)
    form.group_id.choices = [
        (g.id, gettext("%(group)s (the default group)", group=g.name) if g.is_default else g.name)
        for g in active_groups()
        if g.id != current.id
    ]
    return form


@bp.route("/<id:customer_id>/group", methods=["GET", "POST"])
@owner_required
def change_group(customer_id):
    """Two steps, both POSTs of the same form: the owner sees what would change (credit limit,
    discount…), then confirms (`step=confirm`). models/groups/management.py does the move."""
    customer = customer_or_404(customer_id)
    current = group_of(customer)
    if request.method == "GET":
        return render(
            "admin/customers/group.html", customer=customer, current=current, form=group_form(current)
        )
    form = group_form(current, request.form)
    if form.validate_on_submit():
        try:
            group = CustomerGroup.get_by_id(form.group_id.data)
            if request.form.get("step") == "confirm":
                seen_from = CustomerGroup.get_or_none(CustomerGroup.id == form.from_group_id.data)
                change = put_in_group(
                    customer,
                    group,
                    current_user._get_current_object(),
                    form.note.data or "",
                    seen_from or current,
                )
                if change is None:  # the same confirmation, sent again
                    flash(
                        gettext("%(name)s is in %(group)s.", name=customer.display_name, group=group.name),
                        "success",
                    )
                else:
                    flash(moved_message(change), "success")
                return redirect_after_post(url_for(".show", customer_id=customer.id) + "#group-heading")
            change = group_change(customer, group)
        except GroupError as error:
            form.group_id.errors.append(str(error))
        else:
            form.from_group_id.data = current.id
            return render(
                "admin/customers/group.html", customer=customer, current=current, form=form, change=change
            )
    form.from_group_id.data = None  # a fresh choice starts from the group they are in now
    return render_invalid("admin/customers/group.html", customer=customer, current=current, form=form)


def moved_message(change):
    name = change.customer.display_name
    before, after = change.before.name, change.after.name
    if change.is_removal and change.emails_customer:
        return gettext(
            "%(name)s is no longer in %(before)s: they are back in %(after)s. We've emailed them.",
            name=name,
            before=before,
            after=after,
        )
    if change.is_removal:
        return gettext(
            "%(name)s is no longer in %(before)s: they are back in %(after)s.",
            name=name,
            before=before,
            after=after,
        )
    if change.emails_customer:
        return gettext("%(name)s is now in %(after)s. We've emailed them.", name=name, after=after)
    return gettext("%(name)s is now in %(after)s.", name=name, after=after)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewCustomerForm()
    if not form.is_submitted():
        return render("admin/customers/new.html", form=form, existing=None)
    valid = form.validate(extra_validators={"phone": [phone_number(shop_settings().country)]})
    # A taken address is reported together with any other problem, not after they are fixed.
    existing = User.by_email(form.email.data) if not form.email.errors else None
    taken = existing is not None
    if valid and not taken:
        try:
            customer = create_customer_for_owner(
                form.email.data,
                form.first_name.data,
                form.last_name.data,
                form.phone.data or "",
                owner=current_user._get_current_object(),
                client=request_client(),
            )
        except IntegrityError:  # the same address added a moment ago, by someone else
            taken, existing = True, User.by_email(form.email.data)
        else:
            flash(
                gettext(
                    "%(name)s is added. We've emailed %(email)s a link to choose a password.",
                    name=customer.display_name,
                    email=customer.email,
                ),
                "success",
            )
            return redirect_after_post(url_for(".show", customer_id=customer.id))
    if taken:
        form.email.errors.append(str(EMAIL_TAKEN))
    keep_typed(form, "email", "phone")
    return render_invalid(
        "admin/customers/new.html",
        fragment="admin/customers/_new_form.html",
        form=form,
        existing=existing if existing is not None and existing.role == CUSTOMER else None,
    )


@bp.route("/<id:customer_id>/edit", methods=["GET", "POST"])
def edit(customer_id):
    customer = customer_or_404(customer_id)
    form = CustomerDetailsForm(
        data={
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "phone": phone_display(customer.phone),
        }
    )
    if form.validate_on_submit(extra_validators={"phone": [phone_number(shop_settings().country)]}):
        update_profile(
            customer,
            form.first_name.data,
            form.last_name.data,
            form.phone.data or "",
            by=current_user._get_current_object(),
            client=request_client(),
        )
        flash(gettext("Details saved."), "success")
        return redirect_after_post(url_for(".show", customer_id=customer.id))
    if request.method == "POST":
        keep_typed(form, "phone")
        return render_invalid(
            "admin/customers/edit.html",
            fragment="admin/customers/_edit_form.html",
            form=form,
            customer=customer,
        )
    return render("admin/customers/edit.html", form=form, customer=customer)


@bp.post("/<id:customer_id>/block")
@owner_required
def block(customer_id):
    customer = customer_or_404(customer_id)
    if customer.blocked_at is None:
        set_blocked(customer, True, current_user._get_current_object(), client=request_client())
    flash(
        gettext(
            "%(name)s's account is paused: they are signed out and can't sign in or order.",
            name=customer.display_name,
        ),
        "success",
    )
    return redirect_after_post(url_for(".show", customer_id=customer.id))


@bp.post("/<id:customer_id>/unblock")
@owner_required
def unblock(customer_id):
    customer = customer_or_404(customer_id)
    if customer.blocked_at is not None:
        set_blocked(customer, False, current_user._get_current_object(), client=request_client())
    flash(gettext("%(name)s's account is active again.", name=customer.display_name), "success")
    return redirect_after_post(url_for(".show", customer_id=customer.id))
