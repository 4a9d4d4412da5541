"""The withdrawal function (/withdraw): "Withdraw from contract here".

Three ways in, one statement page:
- the footer of every page, for anyone: the order number and the email it was placed with
  (`find`); a wrong pair gets one neutral message, whichever half is wrong, and counts against
  the client address like other public forms (views/throttling.py);
- the order's page in My Account, and the link in the order emails: both open the statement by
  the order's signed token (models/orders/withdrawal_period.py), without signing in.

The statement (`statement`) is pre-filled (name, email, every item that can be withdrawn
ticked). Its button shows a summary with "Confirm withdrawal"; nothing is saved before that
second button (`confirm`), which records it, emails the acknowledgement and shows it (`done`).
Every step is a plain form: it works without JavaScript.
"""

from flask import abort
from flask import Blueprint
from flask import request
from flask import url_for
from flask_babel import gettext

from forms.withdrawals import FindOrderForm
from forms.withdrawals import WithdrawalForm
from models.orders.order import Order
from models.orders.order import SHOP_CHANNEL
from models.orders.withdrawal_period import last_day
from models.orders.withdrawal_period import order_for_withdrawal_token
from models.orders.withdrawal_period import period_closed
from models.orders.withdrawal_period import withdrawal_token
from models.shop import throttle
from models.users.user import User
from models.withdrawals.statements import can_withdraw
from models.withdrawals.statements import choosable_lines
from models.withdrawals.statements import record_withdrawal
from models.withdrawals.statements import statement_lines
from models.withdrawals.statements import Withdrawal
from models.withdrawals.statements import WithdrawalError
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.throttling import keys_for
from views.throttling import refuse_if_throttled

bp = Blueprint("withdrawal", __name__, url_prefix="/withdraw")


def _private(response):
    """These pages show an order to whoever holds its link: never kept in a shared cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET", "POST"])
def find():
    form = FindOrderForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render("withdrawal/find.html", form=form, status=status)
    keys = keys_for("withdrawal-find", form.email.data)
    refuse_if_throttled(keys)
    order = _order_by_number_and_email(form.number.data, form.email.data)
    if order is None:
        throttle.record_failure(keys)
        form.number.errors = [
            gettext(
                "We can't find an order with this number and email address. Check both against "
                "your order confirmation."
            )
        ]
        return render_invalid("withdrawal/find.html", form=form)
    return redirect_after_post(url_for(".statement", token=withdrawal_token(order)))


def _order_by_number_and_email(number, email):
    return (
        Order.select()
        .join(User, on=(Order.user == User.id))
        .where((Order.number == number) & (User.email == email) & (Order.channel == SHOP_CHANNEL))
        .first()
    )


def _order_or_404(token):
    order = order_for_withdrawal_token(token)
    if order is None:
        abort(404)
    return order


def _unavailable(order):
    """The page for an order the customer can't withdraw from now, or None when they can."""
    if can_withdraw(order):
        return None
    return _private(
        render(
            "withdrawal/closed.html",
            order=order,
            closed=period_closed(order),
            last_day=last_day(order),
        )
    )


def _statement_page(order, token, form, ticked=None, typed=None, status=200):
    choices = choosable_lines(order)
    if ticked is None:  # first showing: everything that can be withdrawn, in full
        ticked = {c.line.id for c in choices if c.choosable}
        typed = {c.line.id: str(c.available) for c in choices}
    return _private(
        render(
            "withdrawal/statement.html",
            order=order,
            token=token,
            form=form,
            choices=choices,
            ticked=ticked,
            typed=typed,
            last_day=last_day(order),
            status=status,
        )
    )


def _typed_items():
    ticked = {
        int(key[5:])
        for key, value in request.form.items()
        if key.startswith("line-") and value == "1" and key[5:].isdigit()
    }
    typed = {
        int(key[9:]): value[:10]
        for key, value in request.form.items()
        if key.startswith("quantity-") and key[9:].isdigit()
    }
    return ticked, typed


@bp.route("/<token>", methods=["GET", "POST"])
def statement(token):
    order = _order_or_404(token)
    unavailable = _unavailable(order)
    if unavailable is not None:
        return unavailable
    if request.method == "GET":
        customer = User.get_by_id(order.user_id)
        form = WithdrawalForm(formdata=None, data={"name": customer.display_name, "email": customer.email})
        return _statement_page(order, token, form)
    form = WithdrawalForm()
    ticked, typed = _typed_items()
    choices = choosable_lines(order)
    items = form.chosen_items(request.form, choices)
    valid = form.validate_on_submit()
    if request.form.get("change") or not valid or form.items_error:
        status = 200 if request.form.get("change") else 422
        return _statement_page(order, token, form, ticked, typed, status=status)
    lines = {c.line.id: c.line for c in choices}
    return _private(
        render(
            "withdrawal/summary.html",
            order=order,
            token=token,
            form=form,
            items=[(lines[line_id], quantity) for line_id, quantity in items.items()],
        )
    )


@bp.post("/<token>/confirm")
def confirm(token):
    order = _order_or_404(token)
    form = WithdrawalForm()
    ticked, typed = _typed_items()
    items = form.chosen_items(request.form, choosable_lines(order))
    earlier = Withdrawal.get_or_none(Withdrawal.idempotency_key == (form.idempotency_key.data or ""))
    if earlier is not None and earlier.order_id == order.id:  # a double click
        return redirect_after_post(url_for(".done", token=token, withdrawal_id=earlier.id))
    unavailable = _unavailable(order)
    if unavailable is not None:
        return unavailable
    if not form.validate_on_submit() or form.items_error:
        return _statement_page(order, token, form, ticked, typed, status=422)
    try:
        withdrawal = record_withdrawal(
            order, form.name.data, form.email.data, items, form.destination.data, form.idempotency_key.data
        )
    except WithdrawalError as problem:
        form.items_error = str(problem)
        return _statement_page(order, token, form, ticked, typed, status=422)
    return redirect_after_post(url_for(".done", token=token, withdrawal_id=withdrawal.id))


@bp.get("/<token>/done/<id:withdrawal_id>")
def done(token, withdrawal_id):
    order = _order_or_404(token)
    withdrawal = row_or_404(Withdrawal, withdrawal_id, Withdrawal.order == order.id)
    return _private(
        render("withdrawal/done.html", order=order, withdrawal=withdrawal, items=statement_lines(withdrawal))
    )
