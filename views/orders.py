"""My Account → Orders: the list, an order's page, paying an unpaid order, its card payment status."""

from flask import abort
from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from forms.checkout import CancelForm
from forms.checkout import PayForm
from models.orders import cancel_order
from models.orders import history_of
from models.orders import order_of
from models.orders import OrderError
from models.orders import OrderLine
from models.orders import OrderPayment
from models.orders import orders_of
from models.orders import payment_of
from models.orders import refresh_card_payment
from models.orders import start_card_payment
from payments import PaymentError
from views.rendering import redirect_after_post
from views.rendering import redirect_off_site
from views.rendering import render

bp = Blueprint("orders", __name__, url_prefix="/account/orders")


def _order_or_404(order_id):
    order = order_of(current_user, order_id)
    if order is None:
        abort(404)
    return order


@bp.get("")
@login_required
def index():
    return render("orders/index.html", orders=orders_of(current_user))


@bp.get("/<int:order_id>")
@login_required
def show(order_id):
    order = _order_or_404(order_id)
    return render(
        "orders/show.html",
        order=order,
        lines=list(order.lines.order_by(OrderLine.id)),
        events=history_of(order),
        payments=list(order.payments.order_by(OrderPayment.id)),
        placed=request.args.get("placed") == "1",
        cancel_form=CancelForm(),
    )


@bp.get("/<int:order_id>/pay")
@login_required
def pay(order_id, form=None, status=200):
    order = _order_or_404(order_id)
    return render("orders/pay.html", order=order, form=form or PayForm(formdata=None), status=status)


@bp.post("/<int:order_id>/pay")
@login_required
def pay_by_card(order_id):
    order = _order_or_404(order_id)
    form = PayForm()
    if not form.validate_on_submit():
        return pay(order_id, form=form, status=422)
    try:
        payment = start_card_payment(order, form.idempotency_key.data)
    except OrderError as problem:
        flash(str(problem), "info")
        return redirect_after_post(url_for("orders.show", order_id=order.id))
    except PaymentError:
        form.idempotency_key.errors = [
            "The payment provider is not answering. Nothing was charged; please try again in a minute."
        ]
        return pay(order_id, form=form, status=422)
    if payment.state == "pending":
        return redirect_off_site(payment.redirect_url)
    return redirect_after_post(url_for("orders.payment_status", order_id=order.id, payment_id=payment.id))


@bp.post("/<int:order_id>/cancel")
@login_required
def cancel(order_id):
    order = _order_or_404(order_id)
    form = CancelForm()
    if form.validate_on_submit() and cancel_order(
        order, current_user._get_current_object(), "Cancelled by you"
    ):
        flash(f"Order {order.number} is cancelled.", "success")
    return redirect_after_post(url_for("orders.show", order_id=order.id))


@bp.get("/<int:order_id>/payments/<int:payment_id>")
@login_required
def payment_status(order_id, payment_id):
    """Where the provider sends the payer back; also the fragment the page polls."""
    order = _order_or_404(order_id)
    payment = payment_of(order, payment_id)
    if payment is None:
        abort(404)
    try:
        payment = refresh_card_payment(payment)
    except PaymentError:
        pass  # the provider is unreachable: the page keeps saying "being confirmed"
    return render(
        "orders/payment.html",
        fragment="orders/_payment_status.html",
        order=order_of(current_user, order_id),
        payment=payment,
    )
