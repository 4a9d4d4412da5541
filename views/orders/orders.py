"""My Account → Orders: the list, an order's page, paying an unpaid order (by card or bank transfer,
switching between them), its card payment status, ordering the same again, the printable invoice.

Who may see what
    The list, an order's page and its invoice are the signed-in customer's own
    (another customer's order id is "not found"). The payment pages (pay,
    switch to bank transfer, the card payment's status) and "Order again" are
    also open to whoever opened the order's signed pay link (models.orders.pay_link)
    from an email in this browser: the link lands on `link`, which remembers the
    order in the session (`ORDER_LINKS`) and goes on to the payment page. That
    works signed out (a phone) and shows nothing else of the account: no
    addresses, no other orders, no history. Signing in or out starts a new
    session, so the remembered links go with it.
"""

from flask import abort
from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required

from forms.orders import CancelOrderForm
from forms.orders import OrderAgainForm
from forms.orders import PayForm
from forms.orders import PayFromAccountForm
from forms.orders import SwitchToBankForm
from models.base import utcnow
from models.orders.account_payment import account_quote
from models.orders.account_payment import can_pay_from_account
from models.orders.account_payment import pay_from_account as pay_order_from_account
from models.orders.card_payments import cancel_by_customer
from models.orders.card_payments import card_payment_in_progress
from models.orders.card_payments import CardPaymentBlocksCancel
from models.orders.card_payments import CardPaymentPending
from models.orders.card_payments import pay_order_by_card
from models.orders.card_payments import refresh_card_payment
from models.orders.card_payments import switch_to_bank
from models.orders.order import cancel_reason
from models.orders.order import CANCELLED
from models.orders.order import history_of
from models.orders.order import note_text
from models.orders.order import Order
from models.orders.order import order_of
from models.orders.order import OrderError
from models.orders.order import OrderLine
from models.orders.order import OrderPayment
from models.orders.order import orders_of
from models.orders.order import payment_of
from models.orders.order import products_of
from models.orders.order import STATUS_LABELS
from models.orders.pay_link import order_for_pay_link
from models.orders.pay_link import pay_link_token
from models.orders.progress import next_step
from models.orders.progress import PREPARING
from models.orders.reorder import order_again as put_back_in_cart
from models.orders.withdrawal_period import withdrawal_token
from models.reminders.windows import next_dispatch_to_announce
from models.withdrawals.statements import can_withdraw
from payments import PaymentError
from views.formatting import money
from views.lookups import id_arg
from views.rendering import redirect_after_post
from views.rendering import redirect_off_site
from views.rendering import render
from views.storefront.storefront import cart_owner_for_adding

bp = Blueprint("orders", __name__, url_prefix="/account/orders")

ORDER_LINKS = "order_links"  # session: ids of orders whose pay link was opened in this browser
MAX_ORDER_LINKS = 20


def _order_or_404(order_id):
    order = order_of(current_user, order_id)
    if order is None:
        abort(404)
    return order


def _remember_link(order_id):
    opened = [i for i in session.get(ORDER_LINKS, []) if i != order_id]
    session[ORDER_LINKS] = [*opened, order_id][-MAX_ORDER_LINKS:]


def _payable_order(order_id):
    """The order whose payment pages this browser may use: the signed-in customer's own, or one whose
    pay link was opened here. Otherwise: signed out → sign in; signed in → not found."""
    if current_user.is_authenticated:
        order = order_of(current_user, order_id)
        if order is not None:
            return order
    if order_id in session.get(ORDER_LINKS, []):
        order = Order.get_or_none(Order.id == order_id)
        if order is not None:
            return order
    if not current_user.is_authenticated:
        abort(current_app.login_manager.unauthorized())
    abort(404)


def _is_owner(order):
    return current_user.is_authenticated and current_user.id == order.user_id


def _private(response):
    """Payment pages may be seen signed out: they must never sit in a shared cache either."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _return_url(order):
    """Where the card provider sends the payer back: through the pay link, so the payment's status
    answers even in a browser that has neither the session nor a sign-in (a phone's in-app browser)."""
    token = pay_link_token(order)
    return lambda payment: url_for("orders.link", token=token, payment=payment.id)


@bp.get("")
@login_required
def index():
    return render("orders/index.html", orders=orders_of(current_user))


@bp.get("/<id:order_id>")
@login_required
def show(order_id):
    order = _order_or_404(order_id)
    paying = None
    if order.is_unpaid:
        paying = card_payment_in_progress(order)  # asks the provider; may pay the order
        order = Order.get_by_id(order.id)
    step = next_step(order, paying)
    lines = list(order.lines.order_by(OrderLine.id))
    return render(
        "orders/show.html",
        order=order,
        step=step,
        next_dispatch=next_dispatch_to_announce(utcnow()) if step == PREPARING else None,
        cancelled_because=cancel_reason(order).rstrip(".") if order.status == CANCELLED else "",
        paying=paying,  # a card payment being confirmed: no cancelling meanwhile
        lines=lines,
        products=products_of(lines),
        events=history_of(order),
        note_text=note_text,  # the shop's own notes in the reader's language
        status_labels=STATUS_LABELS,
        payments=list(order.payments.order_by(OrderPayment.id)),
        placed=request.args.get("placed") == "1",
        cancel_form=CancelOrderForm(),
        again_form=OrderAgainForm(),
        withdraw_url=url_for("withdrawal.statement", token=withdrawal_token(order))
        if can_withdraw(order)
        else None,
    )


@bp.get("/link/<token>")
def link(token):
    """The emailed pay link: remember the order for this browser, then its payment page (which says
    "already paid" or "cancelled" when there is nothing to pay), or a card payment's status when the
    provider sends the payer back here. Changes nothing: mail scanners open links."""
    order = order_for_pay_link(token)
    if order is None:
        abort(404)
    _remember_link(order.id)
    payment_id = id_arg("payment")
    if payment_id is not None and payment_of(order, payment_id) is not None:
        target = url_for("orders.payment_status", order_id=order.id, payment_id=payment_id)
    else:
        target = url_for("orders.pay", order_id=order.id)
    return _private(redirect(target))


@bp.get("/<id:order_id>/pay")
def pay(order_id, form=None, status=200, account_form=None):
    """Pay an unpaid order from the account, by card or by bank transfer, or the clear
    "already paid" / "cancelled" page.

    While a card payment is being confirmed the page offers nothing that could charge
    twice, and (with htmx) asks again by itself every few seconds.
    """
    order = _payable_order(order_id)
    pending = None
    if order.is_unpaid:
        pending = card_payment_in_progress(order)  # asks the provider; may pay the order
        order = Order.get_by_id(order.id)
    return _private(
        render(
            "orders/pay.html",
            fragment="orders/_pay_body.html",
            status=status,
            order=order,
            lines=list(order.lines.order_by(OrderLine.id)),
            pending=pending,
            owner=_is_owner(order),
            form=form or PayForm(formdata=None),
            account=_from_account(order, pending, account_form),
            switch_form=SwitchToBankForm(formdata=None),
            again_form=OrderAgainForm(formdata=None),
            reason=cancel_reason(order) if order.status == "cancelled" else "",
            payments=list(order.payments.order_by(OrderPayment.id)),
        )
    )


def _from_account(order, pending, form=None):
    """The "pay from your account" part of the pay page for the order's own customer, or None."""
    if pending or not _is_owner(order) or not can_pay_from_account(order):
        return None
    form = form or PayFromAccountForm(formdata=None)
    try:
        breakdown = account_quote(
            order, form.funds.data if not form.funds.errors else None, form.use_credit.data
        )
    except OrderError as problem:
        form.funds.errors = [*form.funds.errors, str(problem)]
        breakdown = account_quote(order, None, form.use_credit.data)
    if form.funds.data is None and not form.funds.raw_data:
        form.funds.data = breakdown.funds_used  # the default: as much as possible, shown
    return {"form": form, "breakdown": breakdown}


@bp.post("/<id:order_id>/pay/account")
@login_required
def pay_from_account(order_id):
    """Pay the order's remainder, or part of it, from the customer's funds (with their discount)
    and credit. "Recalculate" (or htmx on a change) only shows the breakdown again."""
    order = _order_or_404(order_id)
    form = PayFromAccountForm()
    valid = form.validate_on_submit()
    if "recalculate" in request.form or not valid:
        return pay(order_id, status=200 if valid else 422, account_form=form)
    try:
        order = pay_order_from_account(
            order, form.idempotency_key.data, form.funds.data, bool(form.use_credit.data)
        )
    except CardPaymentPending as problem:
        flash(str(problem), "info")
        return redirect_after_post(url_for("orders.pay", order_id=order.id))
    except OrderError as problem:
        getattr(form, problem.field or "funds").errors = [str(problem)]
        return pay(order_id, status=422, account_form=form)
    if order.due:
        flash(
            gettext(
                "Paid from your account. Please pay the remaining %(amount)s below.", amount=money(order.due)
            ),
            "success",
        )
        return redirect_after_post(url_for("orders.pay", order_id=order.id))
    flash(gettext("Your order is paid from your account. Thank you!"), "success")
    return redirect_after_post(url_for("orders.show", order_id=order.id))


@bp.post("/<id:order_id>/pay")
def pay_by_card(order_id):
    order = _payable_order(order_id)
    form = PayForm()
    if not form.validate_on_submit():
        return pay(order_id, form=form, status=422)
    try:
        payment = pay_order_by_card(
            order, form.idempotency_key.data, return_url=_return_url(order), actor=order.user
        )
    except OrderError as problem:
        flash(str(problem), "info")
        return redirect_after_post(url_for("orders.pay", order_id=order.id))
    except PaymentError:
        form.idempotency_key.errors = [
            gettext(
                "The payment provider is not answering. Nothing was charged; please try again in a minute."
            )
        ]
        return pay(order_id, form=form, status=422)
    if payment.state == "pending":
        return redirect_off_site(payment.redirect_url)
    return redirect_after_post(url_for("orders.payment_status", order_id=order.id, payment_id=payment.id))


@bp.post("/<id:order_id>/pay/bank")
def pay_by_bank(order_id):
    """Switch the remainder to bank transfer; refused while a card payment may still succeed."""
    order = _payable_order(order_id)
    if SwitchToBankForm().validate_on_submit():
        try:
            switch_to_bank(order, actor=order.user)
        except CardPaymentPending as problem:
            flash(str(problem), "info")
        except OrderError as problem:
            flash(str(problem), "info")
        else:
            flash(
                gettext("You're paying by bank transfer: our bank details and your reference are below."),
                "success",
            )
    return redirect_after_post(url_for("orders.pay", order_id=order.id))


@bp.post("/<id:order_id>/cancel")
@login_required
def cancel(order_id):
    order = _order_or_404(order_id)
    if CancelOrderForm().validate_on_submit():
        try:
            cancelled = cancel_by_customer(order, current_user._get_current_object())
        except CardPaymentBlocksCancel as problem:
            flash(str(problem), "error")
        else:
            if cancelled:
                flash(gettext("Order %(number)s is cancelled.", number=order.number), "success")
            elif Order.get_by_id(order.id).status == CANCELLED:
                flash(gettext("Order %(number)s is already cancelled.", number=order.number), "info")
            else:  # paid meanwhile (a card payment the provider had just confirmed)
                flash(
                    gettext(
                        "Order %(number)s is paid, so it can't be cancelled here. "
                        "Please contact us if you need to change it.",
                        number=order.number,
                    ),
                    "info",
                )
    return redirect_after_post(url_for("orders.show", order_id=order.id))


@bp.post("/<id:order_id>/order-again")
def order_again(order_id):
    """The order's products back in the cart (this browser's: the customer's, or a visitor's)."""
    order = _payable_order(order_id)
    if OrderAgainForm().validate_on_submit():
        result = put_back_in_cart(order, **cart_owner_for_adding())
        if result.added:
            flash(
                gettext(
                    "Added to your cart from order %(number)s: %(products)s.",
                    number=order.number,
                    products=", ".join(result.added),
                ),
                "success",
            )
        else:
            flash(
                gettext("Nothing from order %(number)s could go in your cart.", number=order.number), "error"
            )
        for note in result.notes:
            flash(note, "info")
    return redirect_after_post(url_for("storefront.cart"))


@bp.get("/<id:order_id>/invoice")
@login_required
def invoice(order_id):
    """A printable invoice (a pro forma one while the order is unpaid)."""
    order = _order_or_404(order_id)
    return render(
        "orders/invoice.html",
        order=order,
        lines=list(order.lines.order_by(OrderLine.id)),
        marketplace_amount=getattr(order, "marketplace_amount", 0) or 0,
        refunded=getattr(order, "refunded", 0) or 0,
    )


@bp.get("/<id:order_id>/payments/<id:payment_id>")
def payment_status(order_id, payment_id):
    """Where the provider sends the payer back; also the fragment the page polls."""
    order = _payable_order(order_id)
    payment = payment_of(order, payment_id)
    if payment is None:
        abort(404)
    try:
        payment = refresh_card_payment(payment)
    except PaymentError:
        pass  # the provider is unreachable: the page keeps saying "being confirmed"
    order = Order.get_by_id(order.id)
    step = (
        next_step(order) if payment.state == "succeeded" and payment.outcome != "credited_to_funds" else None
    )
    return _private(
        render(
            "orders/payment.html",
            fragment="orders/_payment_status.html",
            order=order,
            payment=payment,
            owner=_is_owner(order),
            step=step,
            next_dispatch=next_dispatch_to_announce(utcnow()) if step == PREPARING else None,
        )
    )
