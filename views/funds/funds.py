"""My Account → Funds: balance at a glance, top-ups through the provider, asking for a refund of
deposited money, history with CSV.

Also the provider's notification endpoint: a machine endpoint, exempt from
CSRF because it authenticates by signature instead.
"""

from decimal import Decimal

from flask import abort
from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from forms.fields import currency_decimals
from forms.fields import new_key
from forms.funds import HistoryFilterForm
from forms.funds import TopUpForm
from forms.refunds import RefundRequestForm
from models.funds.credit import open_statement
from models.funds.credit import overdue_statement
from models.funds.credit import owed_by
from models.funds.customer_accounts import account_for
from models.funds.history import all_entries
from models.funds.history import CATEGORY_LABELS
from models.funds.history import COUNT_CAP
from models.funds.history import described
from models.funds.history import history
from models.funds.top_ups import FundsError
from models.funds.top_ups import KeyReused
from models.funds.top_ups import presets_for
from models.funds.top_ups import recent_top_ups
from models.funds.top_ups import refresh_top_up
from models.funds.top_ups import start_top_up
from models.funds.top_ups import top_up_of
from models.groups.group import settings_for
from models.orders.notifications import handle_notification
from models.orders.notifications import NotificationRejected
from models.refunds.requests import refund_offer
from models.refunds.requests import RefundRequestError
from models.refunds.requests import request_refund
from models.values import row_id
from payments import PaymentError
from payments import PROVIDERS
from views.downloads import csv_download
from views.downloads import spreadsheet_text
from views.formatting import local_time
from views.formatting import money
from views.rendering import redirect_after_post
from views.rendering import redirect_off_site
from views.rendering import render
from views.security import csrf

bp = Blueprint("funds", __name__)

PER_PAGE = 25


def top_up_status_url(top_up):
    """Where the card provider sends the payer back: the top-up's own page on this site."""
    return url_for("funds.top_up_status", top_up_id=top_up.id)


@bp.app_context_processor
def funds_context():
    def funds_account():
        return account_for(current_user) if current_user.is_authenticated else None

    return {"funds_account": funds_account}


@bp.get("/account/funds")
@login_required
def overview(form=None, status=200, refund_form=None):
    settings = settings_for(current_user)
    decimals = currency_decimals()
    presets = [
        (
            amount,
            f"{Decimal(amount).scaleb(-decimals):.{decimals}f}",
            settings.bonus_for(amount),
            TopUpForm(formdata=None),
        )
        for amount in presets_for(settings)
    ]
    account = account_for(current_user)
    owes = account.balance < 0
    refunds = refund_offer(current_user)
    if refund_form is None:
        refund_form = RefundRequestForm(
            formdata=None, prefix="refund", data={"amount": refunds.refundable or None}
        )
    return render(
        "funds/overview.html",
        refunds=refunds,
        refund_form=refund_form,
        account=account,
        owed=owed_by(current_user),
        statement=open_statement(current_user) if owes else None,
        overdue=overdue_statement(current_user) if owes else None,
        settings=settings,
        presets=presets,
        form=form or TopUpForm(formdata=None),
        top_ups=recent_top_ups(current_user),
        status=status,
    )


@bp.post("/account/funds/top-up")
@login_required
def top_up():
    form = TopUpForm()
    if form.validate_on_submit():
        try:
            started = start_top_up(
                current_user, form.amount.data, form.idempotency_key.data, return_url=top_up_status_url
            )
        except FundsError as error:
            form.amount.errors = [*form.amount.errors, str(error)]
            if isinstance(error, KeyReused):
                form.idempotency_key.data = new_key()  # the next try is a new top-up
        except PaymentError:
            form.amount.errors = [
                *form.amount.errors,
                gettext(
                    "The payment provider is not answering. Nothing was charged; please try again in a minute."
                ),
            ]
        else:
            if started.state != "pending":
                return redirect(url_for("funds.top_up_status", top_up_id=started.id), 303)
            return redirect_off_site(started.redirect_url)
    return overview(form=form, status=422)


@bp.post("/account/funds/refund-request")
@login_required
def ask_for_refund():
    """The customer asks for deposited money back; the owner decides in Approvals."""
    form = RefundRequestForm(prefix="refund")  # its own ids beside the top-up form's
    if form.validate_on_submit():
        try:
            request_refund(current_user, form.amount.data, form.note.data or "")
        except RefundRequestError as error:
            form.amount.errors = [*form.amount.errors, str(error)]
        else:
            flash(
                gettext("Your refund request is with the shop. We'll email you when it has decided."),
                "success",
            )
            return redirect_after_post(url_for("funds.overview", _anchor="refunds"))
    return overview(status=422, refund_form=form)


@bp.get("/account/funds/top-ups/<id:top_up_id>")
@login_required
def top_up_status(top_up_id):
    """Where the provider sends the payer back; also the fragment the page polls.

    While the top-up is pending each visit asks the provider for its status
    (the browser-return path of "whichever arrives first"); crediting is
    idempotent, so a reload or a second tab changes nothing more.
    """
    found = top_up_of(current_user, top_up_id)
    if found is None:
        abort(404)
    try:
        found = refresh_top_up(found)
    except PaymentError:
        pass  # the provider is unreachable: the page keeps saying "being confirmed"
    return render(
        "funds/top_up.html",
        fragment="funds/_top_up_status.html",
        top_up=found,
        account=account_for(current_user),
    )


@bp.get("/account/funds/history")
@login_required
def history_page():
    form = HistoryFilterForm(request.args)
    category, since, until = form.filters()
    page = history(
        current_user,
        category or None,
        since,
        until,
        # A link that is no page of the customer's (not an id, or another's entry) shows the newest.
        before=row_id(request.args.get("before")),
        after=row_id(request.args.get("after")),
        per_page=PER_PAGE,
    )
    return render(
        "funds/history.html",
        form=form,
        category=category,
        query={"category": category or None, "since": since, "until": until},
        rows=described(page.entries),
        labels=CATEGORY_LABELS,
        page=page,
        count_cap=COUNT_CAP,
    )


@bp.get("/account/funds/history.csv")
@login_required
def history_csv():
    form = HistoryFilterForm(request.args)
    category, since, until = form.filters()
    return csv_download(
        f"funds-{category}.csv" if category else "funds.csv",
        ["date", "description", "category", "amount", "balance_after", "amount_minor", "balance_after_minor"],
        (
            [
                local_time(entry.created_at, "yyyy-MM-dd HH:mm:ss"),
                spreadsheet_text(str(description)),
                entry.category,
                money(entry.amount),
                money(entry.balance_after),
                entry.amount,
                entry.balance_after,
            ]
            for entry, description in all_entries(current_user, category or None, since, until)
        ),
    )


@bp.post("/payments/<provider_name>/notifications")
@csrf.exempt
def provider_notification(provider_name):
    """The provider's signed notification. Anything not authentic or not matching moves nothing: 400."""
    header = PROVIDERS[provider_name].signature_header if provider_name in PROVIDERS else ""
    try:
        handle_notification(provider_name, request.get_data(), request.headers.get(header, ""))
    except NotificationRejected as error:
        return {"ok": False, "error": str(error)}, 400
    return {"ok": True}
