"""Credit for the owner and staff: customers with overdue debt, and bank transfers that paid debt back.

Recording a bank payment credits a customer's account, so it is the owner's
alone, after a fresh sign-in, and at most what the customer owes.
"""

from flask import Blueprint
from flask import flash
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.funds import BankPaymentForm
from models.funds.credit import amount_owed
from models.funds.credit import overdue_customers
from models.funds.credit import record_bank_payment
from models.funds.credit import repayment_reference
from models.groups.group import GroupError
from views.admin.customers import customer_or_404
from views.formatting import money
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required

bp = Blueprint("credit", __name__, url_prefix="/credit")


@bp.get("/overdue")
def overdue():
    return render("admin/credit/overdue.html", rows=overdue_customers())


@bp.get("/customers/<id:customer_id>/bank-payment")
@owner_required
def bank_payment(customer_id, form=None, status=200):
    customer = customer_or_404(customer_id)
    return render(
        "admin/credit/bank_payment.html",
        customer=customer,
        owed=amount_owed(customer),
        reference=repayment_reference(customer),
        form=form or BankPaymentForm(formdata=None),
        status=status,
    )


@bp.post("/customers/<id:customer_id>/bank-payment")
@owner_required
@fresh_password_required()
def record_payment(customer_id):
    customer = customer_or_404(customer_id)
    form = BankPaymentForm()
    if not form.validate_on_submit():
        return bank_payment(customer_id, form=form, status=422)
    try:
        record_bank_payment(
            customer,
            form.amount.data,
            form.reference.data,
            current_user._get_current_object(),
            form.idempotency_key.data,
        )
    except GroupError as error:
        form.amount.errors.append(str(error))
        return bank_payment(customer_id, form=form, status=422)
    flash(gettext("Recorded a bank payment of %(amount)s.", amount=money(form.amount.data)), "success")
    return redirect_after_post(url_for("admin.funds.customer_funds", customer_id=customer.id))
