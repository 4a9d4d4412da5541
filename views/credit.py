"""My Account → Credit: the customer's limit, what they owe, and requests for a higher limit."""

from flask import Blueprint
from flask import flash
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from forms.credit import CreditRequestForm
from models.credit import effective_credit_limit
from models.credit import request_credit
from models.credit import requests_of
from models.groups import group_of
from models.groups import GroupError
from models.ledger import account_for
from views.rendering import redirect_after_post
from views.rendering import render

bp = Blueprint("credit", __name__, url_prefix="/account/credit")


@bp.get("/")
@login_required
def overview(form=None, status=200):
    account = account_for(current_user)
    return render(
        "credit/overview.html",
        account=account,
        limit=effective_credit_limit(current_user),
        offers_credit=group_of(current_user).pay_on_account,
        requests=requests_of(current_user),
        form=form or CreditRequestForm(),
        status=status,
    )


@bp.post("/request")
@login_required
def ask():
    form = CreditRequestForm()
    if not form.validate_on_submit():
        return overview(form=form, status=422)
    try:
        request_credit(current_user, form.amount.data, form.reason.data)
    except GroupError as error:
        form.amount.errors.append(str(error))
        return overview(form=form, status=422)
    flash("Your request is with the shop; we'll email you the decision.", "success")
    return redirect_after_post(url_for("credit.overview"))
