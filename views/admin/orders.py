"""The shop's orders under /admin/orders: the filtered list with totals, an order's page and its actions.

Who may do what: staff and the owner see orders, dispatch and complete them,
and cancel unpaid ones (everyday shop work, no money moves). Money actions
are the owner's, after a fresh sign-in: marking a bank transfer received,
refunding, and cancelling a paid order (which refunds it).
"""

from flask import abort
from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user

from forms.orders import ConfirmForm
from forms.orders import DispatchForm
from forms.orders import OrderFilterForm
from forms.refunds import CancelPaidForm
from forms.refunds import OrderRefundForm
from models.orders.cancelling import cancel_order
from models.orders.fulfilment import awaits_bank_transfer
from models.orders.fulfilment import complete
from models.orders.fulfilment import CREDITED
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import receive_bank_transfer
from models.orders.fulfilment import REINSTATED
from models.orders.order import history_of
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderLine
from models.orders.order import OrderPayment
from models.orders.order import PENDING_PAYMENT
from models.orders.order import products_of
from models.orders.order import SHOP_CHANNEL
from models.orders.order import STATUS_LABELS
from models.orders.search import channels
from models.orders.search import matching
from models.orders.search import OrderFilters
from models.orders.search import PERIODS
from models.orders.search import totals
from models.refunds.orders import cancel_paid_order
from models.refunds.orders import OrderRefundError
from models.refunds.orders import refund_order
from models.refunds.orders import refundable
from models.refunds.orders import refunds_of
from models.shop.settings import shop_today
from models.users.user import User
from models.values import row_id
from payments import FAILED
from payments import PENDING
from views.formatting import money
from views.lookups import id_arg
from views.lookups import row_or_404
from views.pagination import counted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required

bp = Blueprint("orders", __name__, url_prefix="/orders")

PER_PAGE = 50
BULK_MAX = 200


@bp.context_processor
def order_helpers():
    return {
        "channel_label": channel_label,
        "status_label": lambda status: STATUS_LABELS.get(status, status),
    }


def channel_label(channel):
    """Where an order came from in words: the shop itself, or a marketplace by its name."""
    return gettext("Shop") if channel == SHOP_CHANNEL else channel.capitalize()


def _filters(form):
    return OrderFilters(
        status=form.status.data if form.status.data in STATUS_LABELS else "",
        channel=form.channel.data or "",
        period=_period(form),
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
        customer=(form.customer.data or "") if not form.customer.errors else "",
        customer_id=id_arg("customer_id"),
    )


def _period(form):
    """The chosen period; dates typed with "any time" mean the dates."""
    period = form.period.data if form.period.data in PERIODS else "all"
    if period == "all" and (form.date_from.data or form.date_to.data):
        return "custom"
    return period


@bp.get("")
def index():
    form = OrderFilterForm(request.args)
    form.channel.choices = [("", gettext("Any channel"))] + [(c, channel_label(c)) for c in channels()]
    form.validate()
    filters = _filters(form)
    if filters.period == "custom" and not (filters.date_from or filters.date_to):
        form.date_from.errors = list(form.date_from.errors) + [
            gettext("Enter a first day, a last day or both.")
        ]
    query = matching(filters, shop_today())
    summary = totals(query)
    page = counted_page(summary.count, PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render(
        "admin/orders/index.html",
        form=form,
        filters=filters,
        customer=User.get_or_none(User.id == filters.customer_id) if filters.customer_id else None,
        orders=list(query.paginate(page.number, page.size)),
        summary=summary,
        page=page,
        filter_args=args,
        dispatch_form=DispatchForm(formdata=None, prefix="dispatch"),
        all_customers_url=url_for(".index", **{k: v for k, v in args.items() if k != "customer_id"}),
    )


@bp.post("/dispatch")
def dispatch_many():
    """Bulk dispatch from the list: the ticked paid orders."""
    form = DispatchForm(prefix="dispatch")
    # A tick that is no order id is skipped, like one of an order that doesn't exist.
    ids = [number for value in request.form.getlist("order") if (number := row_id(value))][:BULK_MAX]
    back = request.form.get("back", "")
    back = back if back.startswith(url_for(".index")) else url_for(".index")
    if not form.validate_on_submit():
        flash(
            gettext("The note is too long or has characters we can't send. Nothing was dispatched."), "error"
        )
        return redirect_after_post(back)
    if not ids:
        flash(gettext("Tick the paid orders to dispatch first."), "error")
        return redirect_after_post(back)
    chosen = list(Order.select().where(Order.id.in_(ids)))
    done = dispatch(chosen, current_user._get_current_object(), form.note.data or "")
    skipped = len(chosen) - len(done)
    message = ngettext("%(num)d order marked dispatched.", "%(num)d orders marked dispatched.", len(done))
    if skipped:
        message += " " + ngettext(
            "%(num)d skipped: only paid orders can be dispatched.",
            "%(num)d skipped: only paid orders can be dispatched.",
            skipped,
        )
    flash(message, "success" if done else "error")
    return redirect_after_post(back)


def _page(order, refund_form=None, cancel_form=None, status=200):
    left = refundable(order)
    if refund_form is None:
        refund_form = OrderRefundForm(formdata=None, prefix="refund")
    lines = list(order.lines.order_by(OrderLine.id))
    return render(
        "admin/orders/show.html",
        order=order,
        customer=User.get_by_id(order.user_id),
        lines=lines,
        products=products_of(lines),  # pictures help whoever packs the order
        payments=list(order.payments.order_by(OrderPayment.id)),
        refunds=refunds_of(order),
        events=history_of(order),
        left=left,
        awaits_bank=awaits_bank_transfer(order) and order.status in (PENDING_PAYMENT, "cancelled"),
        refund_form=refund_form,
        cancel_paid_form=cancel_form or CancelPaidForm(formdata=None, prefix="cancel"),
        dispatch_form=DispatchForm(formdata=None, prefix="dispatch"),
        confirm_form=ConfirmForm(),
        status=status,
    )


@bp.get("/<id:order_id>")
def show(order_id):
    return _page(row_or_404(Order, order_id))


@bp.post("/<id:order_id>/dispatch")
def dispatch_one(order_id):
    order = row_or_404(Order, order_id)
    form = DispatchForm(prefix="dispatch")
    if form.validate_on_submit() and dispatch(
        [order], current_user._get_current_object(), form.note.data or ""
    ):
        flash(
            gettext("Order %(number)s is marked dispatched; the customer is told.", number=order.number),
            "success",
        )
    elif not form.errors:
        flash(
            gettext(
                "Order %(number)s is %(status)s: only paid orders can be dispatched.",
                number=order.number,
                status=str(order.status_label).lower(),
            ),
            "error",
        )
    else:
        flash(gettext("The note is too long or has characters we can't send. Nothing changed."), "error")
    return redirect_after_post(url_for(".show", order_id=order.id))


@bp.post("/<id:order_id>/complete")
def complete_one(order_id):
    order = row_or_404(Order, order_id)
    if ConfirmForm().validate_on_submit() and complete([order], current_user._get_current_object()):
        flash(gettext("Order %(number)s is marked delivered.", number=order.number), "success")
    else:
        flash(gettext("Only a dispatched order can be marked delivered."), "error")
    return redirect_after_post(url_for(".show", order_id=order.id))


@bp.post("/<id:order_id>/cancel")
def cancel(order_id):
    """Cancel an unpaid order (its hold is released); paid ones go through cancel_paid."""
    order = row_or_404(Order, order_id)
    if ConfirmForm().validate_on_submit() and cancel_order(
        order, current_user._get_current_object(), "Cancelled by the shop"
    ):
        flash(gettext("Order %(number)s is cancelled; the customer is told.", number=order.number), "success")
    else:
        flash(gettext("Only an unpaid order can be cancelled this way."), "error")
    return redirect_after_post(url_for(".show", order_id=order.id))


@bp.post("/<id:order_id>/bank-transfer")
@owner_required
@fresh_password_required()
def bank_transfer(order_id):
    order = row_or_404(Order, order_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outcome = receive_bank_transfer(order, current_user._get_current_object())
    except OrderError as problem:
        flash(str(problem), "error")
    else:
        flash(_bank_message(order, outcome), "success")
    return redirect_after_post(url_for(".show", order_id=order.id))


def _bank_message(order, outcome):
    amount = money(order.bank_amount)
    if outcome == REINSTATED:
        return gettext(
            "%(amount)s received. Order %(number)s was cancelled; it is reinstated and paid.",
            amount=amount,
            number=order.number,
        )
    if outcome == CREDITED:
        return gettext(
            "%(amount)s received for cancelled order %(number)s, which couldn't be reinstated: "
            "it is in the customer's account funds.",
            amount=amount,
            number=order.number,
        )
    return gettext(
        "%(amount)s received. Order %(number)s is paid; the customer is told.",
        amount=amount,
        number=order.number,
    )


@bp.post("/<id:order_id>/refund")
@owner_required
@fresh_password_required()
def refund(order_id):
    order = row_or_404(Order, order_id)
    form = OrderRefundForm(prefix="refund")
    if not form.validate_on_submit():
        return _page(order, refund_form=form, status=422)
    try:
        result = refund_order(
            order,
            form.amount.data,
            form.destination.data,
            form.note.data or "",
            current_user._get_current_object(),
            form.idempotency_key.data,
        )
    except OrderRefundError as problem:
        form.amount.errors.append(str(problem))
        return _page(Order.get_by_id(order.id), refund_form=form, status=422)
    flash(_refund_message(order, result), "success" if result.card_state != FAILED else "error")
    return redirect_after_post(url_for(".show", order_id=order.id))


@bp.post("/<id:order_id>/cancel-paid")
@owner_required
@fresh_password_required()
def cancel_paid(order_id):
    order = row_or_404(Order, order_id)
    form = CancelPaidForm(prefix="cancel")
    if not form.validate_on_submit():
        return _page(order, cancel_form=form, status=422)
    try:
        result = cancel_paid_order(
            order,
            form.destination.data,
            form.note.data or "",
            current_user._get_current_object(),
            form.idempotency_key.data,
        )
    except OrderRefundError as problem:
        flash(str(problem), "error")
        return redirect_after_post(url_for(".show", order_id=order.id))
    message = gettext("Order %(number)s is cancelled and its stock put back.", number=order.number)
    if result is not None:
        message += " " + _refund_message(order, result)
    flash(message, "success")
    return redirect_after_post(url_for(".show", order_id=order.id))


def _refund_message(order, result):
    """ "Refund of €30.00: €10.00 into the customer's account, €20.00 to the card (refunded)."."""
    parts = []
    if result.to_account:
        parts.append(gettext("%(amount)s into the customer's account", amount=money(result.to_account)))
    if result.to_card:
        amount = money(result.to_card)
        if result.card_state == PENDING:
            parts.append(gettext("%(amount)s to the card (being confirmed by the provider)", amount=amount))
        elif result.card_state == FAILED:
            parts.append(gettext("%(amount)s to the card (refused by the provider)", amount=amount))
        else:
            parts.append(gettext("%(amount)s to the card (refunded)", amount=amount))
    if result.to_bank:
        parts.append(gettext("%(amount)s for you to pay back by bank transfer", amount=money(result.to_bank)))
    return gettext("Refund of %(amount)s: %(parts)s.", amount=money(result.amount), parts=", ".join(parts))
