"""A customer's funds for the owner and staff: balance, limit, full ledger, adjustments."""

import uuid

from flask import Blueprint
from flask import flash
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from forms.credit import AdjustmentForm
from models.adjustments import adjust
from models.credit import effective_credit_limit
from models.groups import GroupError
from models.ledger import account_for
from models.ledger import Declined
from models.ledger import entries_of
from views.admin_customers import customer_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import requested_page
from views.security import fresh_password_required
from views.security import staff_required

bp = Blueprint("admin_funds", __name__, url_prefix="/admin/funds")

PAGE_SIZE = 50


@bp.before_request
@login_required
@staff_required
def require_staff():
    """Staff and owner; adjustments also need a fresh sign-in."""


@bp.get("/customers/<int:customer_id>")
def customer_funds(customer_id, form=None, status=200):
    customer = customer_or_404(customer_id)
    page = requested_page()
    entries = entries_of(customer, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    if form is None:
        form = AdjustmentForm(idempotency_key=uuid.uuid4().hex)
    return render(
        "admin/funds.html",
        customer=customer,
        account=account_for(customer),
        limit=effective_credit_limit(customer),
        entries=entries[:PAGE_SIZE],
        page=page,
        has_more=len(entries) > PAGE_SIZE,
        form=form,
        status=status,
    )


@bp.post("/customers/<int:customer_id>/adjust")
@fresh_password_required()
def adjust_balance(customer_id):
    customer = customer_or_404(customer_id)
    form = AdjustmentForm()
    if not form.validate_on_submit():
        return customer_funds(customer_id, form=form, status=422)
    try:
        outcome, _ = adjust(
            customer,
            form.signed_amount,
            form.reason_code.data,
            form.note.data or "",
            form.message.data or "",
            current_user._get_current_object(),
            form.idempotency_key.data or uuid.uuid4().hex,
        )
    except Declined:
        form.amount.errors.append("That would take the balance below what the customer's credit allows.")
        return customer_funds(customer_id, form=form, status=422)
    except GroupError as error:
        form.amount.errors.append(str(error))
        return customer_funds(customer_id, form=form, status=422)
    if outcome == "queued":
        flash("That is above the staff limit, so it waits in Approvals for the owner.", "info")
    else:
        flash("Balance adjusted.", "success")
    return redirect_after_post(url_for("admin_funds.customer_funds", customer_id=customer.id))
