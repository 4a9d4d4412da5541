"""The owner's groups, the Approvals queue, staff roles and the audit list (/admin/…)."""

from flask import abort
from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from forms.accounts import EmailOnlyForm
from forms.funds import CreditDecisionForm
from forms.groups import ApplicationDecisionForm
from forms.groups import GroupForm
from forms.groups import RetireGroupForm
from models.accounts.staff import grant_staff
from models.accounts.staff import revoke_staff
from models.accounts.staff import staff_members
from models.funds.adjustments import decide_adjustment
from models.funds.adjustments import pending_adjustments
from models.funds.credit_requests import decide_credit
from models.funds.credit_requests import pending_credit_requests
from models.funds.ledger import Declined
from models.groups.applications import decide
from models.groups.applications import pending_applications
from models.groups.group import active_groups
from models.groups.group import CustomerGroup
from models.groups.group import GroupError
from models.groups.group import member_counts
from models.groups.group import SETTING_FIELDS
from models.groups.management import create_group
from models.groups.management import retire_group
from models.groups.management import update_group
from models.shop.audit import recent_entries
from views.lookups import row_or_404
from views.pagination import uncounted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required
from views.security import staff_required

bp = Blueprint("admin_groups", __name__, url_prefix="/admin")

AUDIT_PAGE_SIZE = 50
GROUP_FIELDS = (
    "name",
    "perks",
    "open_to_applications",
    "grants_referral_link",
    "is_default",
    "own_limits",
    *SETTING_FIELDS,
)


@bp.before_request
@login_required
@staff_required
def require_staff():
    """Staff and owner; owner-only views say so again."""


# Groups ---------------------------------------------------------------------


@bp.get("/groups")
def groups():
    retired = (
        CustomerGroup.select().where(CustomerGroup.retired_at.is_null(False)).order_by(CustomerGroup.name)
    )
    return render(
        "admin/groups/list.html", groups=active_groups(), retired=list(retired), counts=member_counts()
    )


@bp.route("/groups/new", methods=["GET", "POST"])
@owner_required
def new_group():
    form = GroupForm()
    if form.validate_on_submit():
        if name_taken(form.name.data):
            form.name.errors.append("Another group already has that name.")
        else:
            group = create_group(group_fields(form), current_user)
            flash(f"Group {group.name} created.", "success")
            return redirect_after_post(url_for("admin_groups.groups"))
    status = 422 if request.method == "POST" else 200
    return render("admin/groups/form.html", form=form, group=None, status=status)


@bp.route("/groups/<int:group_id>", methods=["GET", "POST"])
@owner_required
def edit_group(group_id):
    group = active_group(group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        if name_taken(form.name.data, group):
            form.name.errors.append("Another group already has that name.")
        elif group.is_default and not form.is_default.data:
            form.is_default.errors.append("Make another group the default instead; there must always be one.")
        else:
            update_group(group, group_fields(form), current_user)
            flash(f"Group {group.name} saved.", "success")
            return redirect_after_post(url_for("admin_groups.groups"))
    status = 422 if request.method == "POST" else 200
    return render("admin/groups/form.html", form=form, group=group, status=status)


@bp.route("/groups/<int:group_id>/retire", methods=["GET", "POST"])
@owner_required
def retire(group_id):
    group = active_group(group_id)
    form = RetireGroupForm()
    form.move_to.choices = [(g.id, g.name) for g in active_groups() if g.id != group.id]
    if form.validate_on_submit():
        try:
            moved = retire_group(group, CustomerGroup.get_by_id(form.move_to.data), current_user)
        except GroupError as error:
            form.move_to.errors.append(str(error))
        else:
            flash(f"{group.name} is retired; {moved} member(s) moved.", "success")
            return redirect_after_post(url_for("admin_groups.groups"))
    status = 422 if request.method == "POST" else 200
    return render(
        "admin/groups/retire.html",
        form=form,
        group=group,
        members=member_counts().get(group.id, 0),
        status=status,
    )


def active_group(group_id):
    return row_or_404(CustomerGroup, group_id, CustomerGroup.retired_at.is_null())


def name_taken(name, group=None):
    query = CustomerGroup.select().where(CustomerGroup.name == name)
    if group is not None:
        query = query.where(CustomerGroup.id != group.id)
    return query.exists()


def group_fields(form):
    return {name: form[name].data for name in GROUP_FIELDS}


# Approvals ------------------------------------------------------------------


def approvals_page(form=None, status=200, failed_id=None):
    return render(
        "admin/approvals.html",
        applications=pending_applications(),
        credit_requests=pending_credit_requests(),
        adjustments=pending_adjustments(),
        form=form or ApplicationDecisionForm(),
        failed_id=failed_id,
        status=status,
    )


@bp.get("/approvals")
def approvals():
    return approvals_page()


@bp.post("/approvals/applications/<int:application_id>/<any(approve, reject):decision>")
@owner_required
def decide_application(application_id, decision):
    form = ApplicationDecisionForm()
    if not form.validate_on_submit():
        return approvals_page(form, 422)
    try:
        application = decide(application_id, decision == "approve", current_user, form.reason.data or "")
    except GroupError as error:
        if "doesn't exist" in str(error):
            abort(404)
        form.reason.errors.append(str(error))
        return approvals_page(form, 422, failed_id=application_id)
    verb = "approved" if decision == "approve" else "rejected"
    flash(f"Application from {application.user.email} {verb}; they have been emailed.", "success")
    return redirect_after_post(url_for("admin_groups.approvals"))


@bp.post("/approvals/credit/<int:request_id>/<any(approve, decline):decision>")
@owner_required
def decide_credit_request(request_id, decision):
    form = CreditDecisionForm()
    if not form.validate_on_submit():
        return approvals_page(status=422)
    try:
        request_row = decide_credit(
            request_id,
            decision == "approve",
            current_user,
            amount=form.amount.data,
            note=form.note.data or "",
        )
    except GroupError as error:
        if "doesn't exist" in str(error):
            abort(404)
        flash(str(error), "error")
        return approvals_page(status=422)
    flash(f"Credit request from {request_row.user.email} {decision}d; they have been emailed.", "success")
    return redirect_after_post(url_for("admin_groups.approvals"))


@bp.post("/approvals/adjustments/<int:adjustment_id>/<any(approve, decline):decision>")
@owner_required
@fresh_password_required()
def decide_adjustment_request(adjustment_id, decision):
    try:
        decide_adjustment(adjustment_id, decision == "approve", current_user._get_current_object())
    except Declined:
        flash(
            "That adjustment would take the balance below the customer's credit; it stays waiting.", "error"
        )
        return approvals_page(status=422)
    except GroupError as error:
        if "doesn't exist" in str(error):
            abort(404)
        flash(str(error), "error")
        return approvals_page(status=422)
    flash(f"Adjustment {decision}d.", "success")
    return redirect_after_post(url_for("admin_groups.approvals"))


# Staff ----------------------------------------------------------------------


@bp.route("/staff", methods=["GET", "POST"])
@owner_required
def staff():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        try:
            user = grant_staff(form.email.data, current_user)
        except GroupError as error:
            form.email.errors.append(str(error))
        else:
            flash(f"{user.email} is now staff.", "success")
            return redirect_after_post(url_for("admin_groups.staff"))
    status = 422 if request.method == "POST" else 200
    return render("admin/staff.html", form=form, members=staff_members(), status=status)


@bp.post("/staff/<int:user_id>/revoke")
@owner_required
def revoke(user_id):
    try:
        user = revoke_staff(user_id, current_user)
        flash(f"{user.email} is no longer staff.", "success")
    except GroupError as error:
        flash(str(error), "error")
    return redirect_after_post(url_for("admin_groups.staff"))


# Audit ----------------------------------------------------------------------


@bp.get("/audit")
@owner_required
def audit_list():
    page, entries = uncounted_page(recent_entries, AUDIT_PAGE_SIZE)
    return render("admin/audit.html", entries=entries, page=page)
