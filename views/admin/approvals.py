"""The Approvals queue (/admin/approvals): group applications, credit requests, customers' refund
requests, withdrawals waiting for their refund, and balance adjustments above the staff limit.

Staff see the queue; deciding is the owner's (approving an adjustment or a refund after a fresh
sign-in, as they move money).
"""

from typing import NamedTuple

from flask import abort
from flask import Blueprint
from flask import flash
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.funds import CreditDecisionForm
from forms.groups import ApplicationDecisionForm
from forms.orders import ConfirmForm
from forms.refunds import RefundApprovalForm
from forms.refunds import RefundDeclineForm
from models.funds.adjustments import decide_adjustment
from models.funds.adjustments import pending_adjustments
from models.funds.adjustments import PendingAdjustment
from models.funds.adjustments import REASONS
from models.funds.credit_requests import CreditRequest
from models.funds.credit_requests import decide_credit
from models.funds.credit_requests import pending_credit_requests
from models.funds.ledger import Declined
from models.groups.applications import decide
from models.groups.applications import GroupApplication
from models.groups.applications import pending_applications
from models.groups.group import GroupError
from models.refunds.orders import OrderRefundError
from models.refunds.requests import AlreadyDecided
from models.refunds.requests import approve_refund_request
from models.refunds.requests import decline_refund_request
from models.refunds.requests import pending_refund_requests
from models.refunds.requests import RefundRequestError
from models.refunds.requests import RequestNotFound
from models.withdrawals.refunds import days_left
from models.withdrawals.refunds import pending_withdrawals
from models.withdrawals.refunds import refund_amount
from models.withdrawals.refunds import refund_withdrawal
from models.withdrawals.refunds import urgency
from models.withdrawals.statements import statement_lines
from models.withdrawals.statements import Withdrawal
from payments import FAILED
from payments import SUCCEEDED
from views.formatting import money
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


class Pending(NamedTuple):
    """A withdrawal as the queue shows it."""

    withdrawal: Withdrawal
    lines: list
    amount: int
    urgency: str
    days_left: int


@bp.context_processor
def approval_helpers():
    # An adjustment's reason in the words of the adjustment form (the code is what is stored).
    return {"adjustment_reason": lambda code: REASONS.get(code, code)}


def approvals_page(form=None, status=200, failed_id=None, refund_form=None, failed_refund=None):
    """The queue; `refund_form` is the decision on refund request `failed_refund` that failed,
    shown with what was typed."""
    refund_requests = []
    for item, refundable in pending_refund_requests():
        prefix = f"refund-{item.id}"  # each request's fields have their own ids
        approve = RefundApprovalForm(
            formdata=None, prefix=prefix, data={"amount": min(item.amount, refundable) or None}
        )
        decline = RefundDeclineForm(formdata=None, prefix=prefix)
        if item.id == failed_refund:
            approve, decline = (refund_form, decline) if "amount" in refund_form else (approve, refund_form)
        refund_requests.append((item, refundable, approve, decline))
    return render(
        "admin/approvals/index.html",
        applications=pending_applications(),
        credit_requests=pending_credit_requests(),
        refund_requests=refund_requests,
        refund_errors=bool(refund_form and refund_form.errors),
        adjustments=pending_adjustments(),
        withdrawals=[
            Pending(w, statement_lines(w), refund_amount(w), urgency(w), days_left(w))
            for w in pending_withdrawals()
        ],
        confirm_form=ConfirmForm(),
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
    # An unknown id is 404 before anything else (the models' messages are in the reader's language,
    # so no view tells "not found" from their words).
    row_or_404(GroupApplication, application_id)
    form = ApplicationDecisionForm()
    if not form.validate_on_submit():
        return approvals_page(form, 422)
    try:
        application = decide(application_id, decision == "approve", current_user, form.reason.data or "")
    except GroupError as error:
        form.reason.errors.append(str(error))
        return approvals_page(form, 422, failed_id=application_id)
    if decision == "approve":
        message = gettext(
            "Application from %(email)s approved; they have been emailed.", email=application.user.email
        )
    else:
        message = gettext(
            "Application from %(email)s rejected; they have been emailed.", email=application.user.email
        )
    flash(message, "success")
    return redirect_after_post(url_for(".index"))


@bp.post("/credit/<id:request_id>/<any(approve, decline):decision>")
@owner_required
def decide_credit_request(request_id, decision):
    row_or_404(CreditRequest, request_id)
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
        flash(str(error), "error")
        return approvals_page(status=422)
    if decision == "approve":
        message = gettext(
            "Credit request from %(email)s approved; they have been emailed.", email=request_row.user.email
        )
    else:
        message = gettext(
            "Credit request from %(email)s declined; they have been emailed.", email=request_row.user.email
        )
    flash(message, "success")
    return redirect_after_post(url_for(".index"))


@bp.post("/adjustments/<id:adjustment_id>/<any(approve, decline):decision>")
@owner_required
@fresh_password_required()
def decide_adjustment_request(adjustment_id, decision):
    row_or_404(PendingAdjustment, adjustment_id)
    try:
        decide_adjustment(adjustment_id, decision == "approve", current_user._get_current_object())
    except Declined:
        flash(
            gettext("That adjustment would take the balance below the customer's credit; it stays waiting."),
            "error",
        )
        return approvals_page(status=422)
    except GroupError as error:
        flash(str(error), "error")
        return approvals_page(status=422)
    flash(
        gettext("Adjustment approved.") if decision == "approve" else gettext("Adjustment declined."),
        "success",
    )
    return redirect_after_post(url_for(".index"))


@bp.post("/refunds/<id:request_id>/approve")
@owner_required
@fresh_password_required()
def approve_refund(request_id):
    form = RefundApprovalForm(prefix=f"refund-{request_id}")
    if not form.validate_on_submit():
        return approvals_page(status=422, refund_form=form, failed_refund=request_id)
    try:
        request_row, refunds = approve_refund_request(
            request_id, current_user._get_current_object(), form.amount.data
        )
    except RequestNotFound:
        abort(404)
    except AlreadyDecided as error:  # its form is gone from the queue: say it at the top
        flash(str(error), "error")
        return approvals_page(status=422)
    except RefundRequestError as error:
        form.amount.errors = [*form.amount.errors, str(error)]
        return approvals_page(status=422, refund_form=form, failed_refund=request_id)
    paid = sum(refund.amount for refund in refunds if refund.state == SUCCEEDED)
    refused = [refund for refund in refunds if refund.state == FAILED]
    waiting = sum(refund.amount for refund in refunds if refund.state not in (SUCCEEDED, FAILED))
    who = request_row.user.email
    if refused:
        flash(
            gettext(
                "The payment provider refused %(amount)s of the refund for %(email)s; that money is back "
                "in their balance. See their funds page to try again.",
                amount=money(sum(refund.amount for refund in refused)),
                email=who,
            ),
            "error",
        )
    elif waiting:
        flash(
            gettext(
                "Refund for %(email)s approved: %(amount)s is being confirmed by the payment provider; "
                "we keep asking. They have been emailed.",
                email=who,
                amount=money(waiting),
            ),
            "success",
        )
    else:
        flash(
            gettext(
                "Refunded %(amount)s to the card of %(email)s; they have been emailed.",
                amount=money(paid),
                email=who,
            ),
            "success",
        )
    return redirect_after_post(url_for(".index"))


@bp.post("/refunds/<id:request_id>/decline")
@owner_required
def decline_refund(request_id):
    form = RefundDeclineForm(prefix=f"refund-{request_id}")
    if not form.validate_on_submit():
        return approvals_page(status=422, refund_form=form, failed_refund=request_id)
    try:
        request_row = decline_refund_request(request_id, current_user._get_current_object(), form.reason.data)
    except RequestNotFound:
        abort(404)
    except AlreadyDecided as error:
        flash(str(error), "error")
        return approvals_page(status=422)
    except RefundRequestError as error:
        form.reason.errors = [*form.reason.errors, str(error)]
        return approvals_page(status=422, refund_form=form, failed_refund=request_id)
    flash(
        gettext(
            "Refund request from %(email)s declined; they have been emailed.", email=request_row.user.email
        ),
        "success",
    )
    return redirect_after_post(url_for(".index"))


@bp.post("/withdrawals/<id:withdrawal_id>/refund")
@owner_required
@fresh_password_required()
def refund_withdrawal_now(withdrawal_id):
    withdrawal = row_or_404(Withdrawal, withdrawal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        refund = refund_withdrawal(withdrawal, current_user._get_current_object())
    except OrderRefundError as problem:
        flash(str(problem), "error")
        return approvals_page(status=422)
    message = gettext(
        "Withdrawal from order %(number)s refunded: %(amount)s; the customer is emailed.",
        number=withdrawal.order.number,
        amount=money(refund.amount),
    )
    flash(message, "error" if refund.card_state == FAILED else "success")
    return redirect_after_post(url_for(".index"))
