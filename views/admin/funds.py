"""A customer's funds for the owner and staff: balance, limit, full ledger, adjustments, refunds.

Refunds to the card of a top-up are the owner's alone (not staff), after a
fresh sign-in; the rules (what is refundable, the bonus taken back, what
happens when the provider refuses or doesn't answer) are in models/refunds/top_ups.py.
"""

from functools import partial

from flask import abort
from flask import Blueprint
from flask import flash
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from forms.fields import new_key
from forms.funds import AdjustmentForm
from forms.refunds import TopUpRefundForm
from models.funds.adjustments import adjust
from models.funds.credit import owed_by
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import effective_credit_limit
from models.funds.history import entries_of
from models.funds.ledger import Declined
from models.groups.group import GroupError
from models.refunds.top_ups import paid_top_up_of
from models.refunds.top_ups import refund_summary
from models.refunds.top_ups import refund_to_card
from models.refunds.top_ups import RefundError
from models.refunds.top_ups import RefundKeyReused
from models.refunds.top_ups import RefundNotFound
from models.refunds.top_ups import refunds_of
from payments import FAILED
from payments import SUCCEEDED
from views.admin.customers import customer_or_404
from views.formatting import local_date
from views.formatting import money
from views.pagination import uncounted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required

bp = Blueprint("funds", __name__, url_prefix="/funds")

PAGE_SIZE = 50


def _page(customer, form=None, refund_form=None, status=200, fragment=None):
    page, entries = uncounted_page(partial(entries_of, customer), PAGE_SIZE)
    summary = refund_summary(customer)
    if form is None:
        form = AdjustmentForm(formdata=None)
    if refund_form is None:
        refund_form = _refund_form(summary, formdata=None)
    return render(
        "admin/funds/customer.html",
        fragment=fragment,
        customer=customer,
        account=account_for(customer),
        owed=owed_by(customer),
        limit=effective_credit_limit(customer),
        entries=entries,
        page=page,
        form=form,
        refund_form=refund_form,
        summary=summary,
        refunds=refunds_of(customer),
        status=status,
    )


def _refund_form(summary, **kwargs):
    """The refund form, offering the top-ups that still have something to give back."""
    form = TopUpRefundForm(prefix="refund", **kwargs)  # its own ids beside the adjust form's
    # What can still be refunded, and the one the owner chose even if it has nothing left (a 422
    # keeps every typed value).
    offered = [
        item for item in summary.top_ups if summary.cap_for(item) > 0 or item.top_up.id == form.top_up.data
    ]
    form.top_up.choices = [SelectChoice("", gettext("Choose a top-up"))] + [
        SelectChoice(
            str(item.top_up.id),
            gettext(
                "Top-up %(number)s of %(date)s: up to %(amount)s",
                number=item.top_up.id,
                date=local_date(item.top_up.created_at),
                amount=money(summary.cap_for(item)),
            ),
        )
        for item in offered
    ]
    if form.top_up.data is None and len(offered) == 1:
        form.top_up.data = offered[0].top_up.id
    return form


@bp.get("/customers/<id:customer_id>")
def customer_funds(customer_id):
    return _page(customer_or_404(customer_id))


@bp.post("/customers/<id:customer_id>/adjust")
@fresh_password_required()
def adjust_balance(customer_id):
    customer = customer_or_404(customer_id)
    form = AdjustmentForm()
    if not form.validate_on_submit():
        return _page(customer, form=form, status=422)
    try:
        outcome, _ = adjust(
            customer,
            form.signed_amount,
            form.reason_code.data,
            form.note.data or "",
            form.message.data or "",
            current_user._get_current_object(),
            form.idempotency_key.data or new_key(),
        )
    except Declined:
        form.amount.errors.append(
            gettext("That would take the balance below what the customer's credit allows.")
        )
        return _page(customer, form=form, status=422)
    except GroupError as error:
        form.amount.errors.append(str(error))
        return _page(customer, form=form, status=422)
    if outcome == "queued":
        flash(gettext("That is above the staff limit, so it waits in Approvals for the owner."), "info")
    else:
        flash(gettext("Balance adjusted."), "success")
    return redirect_after_post(url_for("admin.funds.customer_funds", customer_id=customer.id))


@bp.post("/customers/<id:customer_id>/refund")
@owner_required
@fresh_password_required()
def refund(customer_id):
    customer = customer_or_404(customer_id)
    form = _refund_form(refund_summary(customer))
    valid = form.validate_on_submit()
    if not form.top_up.errors and paid_top_up_of(customer, form.top_up_id) is None:
        abort(404)  # another customer's top-up, or one that was never paid: not found

    def invalid():
        return _page(customer, refund_form=form, status=422, fragment="admin/funds/_refund_form.html")

    if not valid:
        return invalid()
    try:
        result = refund_to_card(
            customer,
            form.top_up_id,
            form.amount.data,
            form.note.data or "",
            current_user._get_current_object(),
            form.idempotency_key.data,
        )
    except RefundNotFound:
        abort(404)
    except RefundKeyReused as error:
        form.amount.errors.append(str(error))
        form.idempotency_key.data = new_key()
        return invalid()
    except RefundError as error:
        form.amount.errors.append(str(error))
        return invalid()
    flash(*_outcome_message(result))
    return redirect_after_post(url_for("admin.funds.customer_funds", customer_id=customer.id))


def _outcome_message(result):
    """The flash after a refund to a card: sentences of their own, joined with spaces."""
    amount, top_up = money(result.amount), result.top_up_id
    if result.state == SUCCEEDED:
        sentences = [
            gettext("Refunded %(amount)s to the card of top-up %(top_up)s.", amount=amount, top_up=top_up)
        ]
        if result.bonus_reversal:
            sentences.append(gettext("Bonus taken back: %(amount)s.", amount=money(result.bonus_reversal)))
        if result.bonus_shortfall:
            sentences.append(
                gettext(
                    "%(amount)s more bonus was due back, but the balance didn't hold it.",
                    amount=money(result.bonus_shortfall),
                )
            )
        sentences.append(gettext("The customer has been emailed."))
        return " ".join(sentences), "success"
    if result.state == FAILED:
        return (
            gettext(
                "The payment provider refused the refund of %(amount)s to the card of top-up %(top_up)s: "
                "%(reason)s Nothing was refunded, and the money is back in the customer's balance.",
                amount=amount,
                top_up=top_up,
                reason=result.failure,
            ),
            "error",
        )
    return (
        gettext(
            "The refund of %(amount)s to the card of top-up %(top_up)s is being confirmed: the payment "
            "provider hasn't answered yet. The money is set aside, and the provider is asked again "
            "automatically until it answers; it is never refunded twice.",
            amount=amount,
            top_up=top_up,
        ),
        "info",
    )
