"""My Account → Credit: the customer's limit, what they owe, paying it back, and requests
for a higher limit; for a customer whose group doesn't offer paying on account, the groups
that do and that they may apply for (only those). My Account's Credit card reads
`credit_at_a_glance`."""

from dataclasses import dataclass

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from forms.fields import new_key
from forms.funds import CreditRequestForm
from forms.funds import RepaymentForm
from models.funds.credit import amount_owed
from models.funds.credit import open_statement
from models.funds.credit import overdue_statement
from models.funds.credit import owed_by
from models.funds.credit import repayment_reference
from models.funds.credit_requests import request_credit
from models.funds.credit_requests import requests_of
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import effective_credit_limit
from models.funds.top_ups import FundsError
from models.funds.top_ups import KeyReused
from models.funds.top_ups import REPAYMENT
from models.funds.top_ups import start_top_up
from models.groups.applications import applications_of
from models.groups.applications import credit_groups_open_to
from models.groups.applications import PENDING
from models.groups.group import group_of
from models.groups.group import GroupError
from models.shop.settings import load_settings
from models.values import minor_units
from payments import PaymentError
from views.funds.funds import top_up_status_url
from views.rendering import redirect_after_post
from views.rendering import redirect_off_site
from views.rendering import render

bp = Blueprint("credit", __name__, url_prefix="/account/credit")


@dataclass(frozen=True)
class CreditGlance:
    """My Account's Credit card in one line: the limit and what is owed by when, or an offer
    to ask for credit (`ask`) when the customer has none but can ask for some."""

    ask: bool = False
    limit: int = 0
    owed: int = 0
    statement: object = None  # the oldest statement not yet paid
    overdue: object = None  # the oldest one past its due date


def credit_at_a_glance(user):
    """What My Account says about credit; None when there is nothing to say (no limit, no debt,
    and neither the customer's group nor a group they may apply for offers paying on account)."""
    limit = effective_credit_limit(user)
    owed = owed_by(user).amount
    if limit or owed:
        return CreditGlance(
            limit=limit, owed=owed, statement=open_statement(user), overdue=overdue_statement(user)
        )
    if group_of(user).pay_on_account or credit_groups_open_to(user):
        return CreditGlance(ask=True)
    return None


@bp.get("/")
@login_required
def overview(form=None, status=200):
    account = account_for(current_user)
    group = group_of(current_user)
    return render(
        "funds/credit/overview.html",
        account=account,
        owed=owed_by(current_user),
        limit=effective_credit_limit(current_user),
        group=group,
        offers_credit=group.pay_on_account,
        credit_groups=[] if group.pay_on_account else credit_groups_open_to(current_user),
        credit_applications=[
            application
            for application in applications_of(current_user)
            if application.state == PENDING and application.group.pay_on_account
        ],
        requests=requests_of(current_user),
        form=form or CreditRequestForm(),
        statement=open_statement(current_user),
        overdue=overdue_statement(current_user),
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
    flash(gettext("Your request is with the shop; we'll email you the decision."), "success")
    return redirect_after_post(url_for("credit.overview"))


def repayment_form(**options):
    """The repayment form offering only the ways the shop takes now (bank transfer once it has
    published its bank details)."""
    form = RepaymentForm(**options)
    if not load_settings().takes_bank_transfers:
        form.method.choices = [choice for choice in form.method.choices if choice.value != "bank"]
    return form


@bp.get("/repay")
@login_required
def repay(form=None, status=200):
    owed = owed_by(current_user)
    if form is None:
        form = repayment_form(formdata=None)
        form.amount.data = owed.amount or None
    return render(
        "funds/credit/repay.html",
        form=form,
        owed=owed,
        statement=open_statement(current_user),
        overdue=overdue_statement(current_user),
        status=status,
    )


@bp.post("/repay")
@login_required
def start_repayment():
    form = repayment_form()
    if not form.validate_on_submit():
        return repay(form=form, status=422)
    if form.method.data == "bank":
        return redirect_after_post(url_for("credit.bank_transfer", amount=form.amount.data))
    try:
        started = start_top_up(
            current_user,
            form.amount.data,
            form.idempotency_key.data,
            return_url=top_up_status_url,
            purpose=REPAYMENT,
        )
    except FundsError as error:
        form.amount.errors = [*form.amount.errors, str(error)]
        if isinstance(error, KeyReused):
            form.idempotency_key.data = new_key()
        return repay(form=form, status=422)
    except PaymentError:
        form.amount.errors = [
            *form.amount.errors,
            gettext(
                "The payment provider is not answering. Nothing was charged; please try again in a minute."
            ),
        ]
        return repay(form=form, status=422)
    if started.state != "pending":
        return redirect(url_for("funds.top_up_status", top_up_id=started.id), 303)
    return redirect_off_site(started.redirect_url)


@bp.get("/repay/bank-transfer")
@login_required
def bank_transfer():
    if not load_settings().takes_bank_transfers:
        return redirect(url_for("credit.repay"))
    owed = amount_owed(current_user)
    amount = minor_units(request.args.get("amount", ""), 0)  # cents, as start_repayment put them
    if amount is None or not 0 < amount <= owed:
        amount = owed
    return render(
        "funds/credit/bank_transfer.html",
        amount=amount,
        owed=owed,
        reference=repayment_reference(current_user),
    )
