"""The Approvals queue (/admin/approvals): group applications, credit requests, and balance
adjustments above the staff limit.

Staff see the queue; deciding is the owner's (an adjustment after a fresh sign-in, as it moves money).
"""

from flask import abort
from flask import Blueprint
from flask import flash
from flask import url_for
from flask_login import current_user

from forms.funds import CreditDecisionForm
from forms.groups import ApplicationDecisionForm
from models.funds.adjustments import decide_adjustment
from models.funds.adjustments import pending_adjustments
from models.funds.credit_requests import decide_credit
from models.funds.credit_requests import pending_credit_requests
from models.funds.ledger import Declined
from models.groups.applications import decide
from models.groups.applications import pending_applications
from models.groups.group import GroupError
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


def approvals_page(form=None, status=200, failed_id=None):
    return render(
        "admin/approvals/index.html",
        applications=pending_applications(),
        credit_requests=pending_credit_requests(),
        adjustments=pending_adjustments(),
        form=form or ApplicationDecisionForm(),
        failed_id=failed_id,
        status=status,
    )


@bp.get("")
def index():
    return approvals_page()


@bp.post("/applications/<id:application_id>/<any(approve, reject):decision>")
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
    return redirect_after_post(url_for(".index"))


@bp.post("/credit/<id:request_id>/<any(approve, decline):decision>")
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
    return redirect_after_post(url_for(".index"))


@bp.post("/adjustments/<id:adjustment_id>/<any(approve, decline):decision>")
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
    return redirect_after_post(url_for(".index"))
