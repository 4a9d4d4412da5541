"""Checkout: signed-in customers choose addresses and how to pay, see the breakdown, place the order.

The breakdown is computed on the server (models/orders/breakdown.py `quote`). With
JavaScript, changing the funds amount or the credit box re-renders the form
fragment through htmx; without it the "Recalculate" button posts the same form
and gets the same page back. Placing the order is idempotent on the form's key.

Delivery: when the shop has delivery methods, the customer chooses among those offered for the
delivery address's country (models/storefront/delivery.py `offers_for`); changing the address or
the method recalculates like the funds field. A pickup needs no delivery address.

Terms (issue 24): the order is placed only with the terms of sale accepted (the box by the button
"Order with obligation to pay"); the order records their version (models/shop/legal.py). A
recalculation never asks for the box.
"""

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from forms.fields import new_key
from forms.orders import CheckoutForm
from models.accounts.addresses import address_of
from models.accounts.addresses import addresses_of
from models.orders.breakdown import quote
from models.orders.card_payments import start_card_payment
from models.orders.order import BANK
from models.orders.order import CartChanged
from models.orders.order import DeliveryChanged
from models.orders.order import OrderError
from models.orders.placing import cart_fingerprint
from models.orders.placing import place_order
from models.shop.settings import load_settings
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.storefront.delivery import country_label
from models.storefront.delivery import delivery_in_use
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from payments import PaymentError
from views.rendering import redirect_after_post
from views.rendering import redirect_off_site
from views.rendering import render

bp = Blueprint("checkout", __name__)


def _form(formdata=None):
    form = CheckoutForm(formdata=formdata) if formdata is not None else CheckoutForm()
    addresses = addresses_of(current_user)
    choices = [SelectChoice(a.id, ", ".join(a.lines())) for a in addresses]
    form.billing_address.choices = choices
    form.shipping_address.choices = choices
    if not load_settings().takes_bank_transfers:
        form.method.choices = [choice for choice in form.method.choices if choice.value != BANK]
    if formdata is None:
        form.billing_address.data = current_user.default_billing_id or (
            addresses[0].id if addresses else None
        )
        form.shipping_address.data = current_user.default_shipping_id or (
            addresses[0].id if addresses else None
        )
    return form, addresses


def _shipping(form, addresses):
    """The delivery address chosen on the form (one of the customer's), or None."""
    return next((a for a in addresses if a.id == form.shipping_address.data), None)


def _delivery(form, addresses, summary):
    """(offers for the chosen delivery address, the chosen offer) — (None, None) when the shop
    has no delivery step. A choice no longer offered falls back to the first offer."""
    if not delivery_in_use():
        return None, None
    shipping = _shipping(form, addresses)
    offers = offers_for(shipping.country if shipping else "", summary.subtotal)
    form.delivery.choices = [SelectChoice(offer.method_id, offer.name) for offer in offers]
    chosen = next((offer for offer in offers if offer.method_id == form.delivery.data), None)
    if chosen is None and offers and not form.delivery.errors:
        chosen = offers[0]
        form.delivery.data = chosen.method_id
    return offers, chosen


def _funds_left_at_default(form):
    """Whether the funds field still shows the default the last page filled in (the customer
    didn't change it): a recalculation then fills in the new default instead of keeping the old
    amount, which belonged to another delivery price or credit choice."""
    shown = request.form.get("funds_default")
    return bool(shown) and "funds" in request.form and request.form["funds"].strip() == shown


def _page(form, addresses, summary, status=200, error=None, delivery_error=False):
    breakdown = None
    offers, chosen = _delivery(form, addresses, summary)
    delivery = chosen.price if chosen else 0
    if _funds_left_at_default(form):  # "as much as possible" again, for the new delivery or credit
        form.funds.data, form.funds.raw_data = None, []
    if not summary.is_empty and not summary.problems:
        wanted = form.funds.data if not form.funds.errors else None
        use_credit = bool(form.use_credit.data)
        try:
            breakdown = quote(current_user, summary.subtotal, wanted, use_credit, delivery=delivery)
        except OrderError as problem:
            form.funds.errors = [*form.funds.errors, str(problem)]
            status = 422
            breakdown = quote(current_user, summary.subtotal, None, use_credit, delivery=delivery)
    funds_default = request.form.get("funds_default", "")
    if breakdown is not None and form.funds.data is None and not form.funds.raw_data:
        form.funds.data = breakdown.funds_used  # the default: as much as possible, shown
        funds_default = form.funds._value()
    if not form.seen.data or status == 200:
        form.seen.data = cart_fingerprint(summary)
    if offers is not None:  # the offers as this page shows them, whatever the last one showed
        form.delivery_seen.data = offers_fingerprint(offers)
    shipping = _shipping(form, addresses)
    form.shipping_address.flags.required = not (chosen and chosen.pickup)  # "(optional)" for a pickup
    return render(
        "orders/checkout/checkout.html",
        fragment="orders/checkout/_form.html",
        form=form,
        addresses=addresses,
        summary=summary,
        breakdown=breakdown,
        error=error,
        delivery_error=delivery_error,
        offers=offers,
        chosen=chosen,
        funds_default=funds_default,
        shipping_country=country_label(shipping.country) if shipping else "",
        status=status,
    )


@bp.get("/checkout")
@login_required
def checkout():
    summary = cart_summary(find_cart(current_user))
    if summary.is_empty:
        flash(gettext("Your cart is empty."), "info")
        return redirect(url_for("storefront.cart"))
    if summary.problems:
        flash(gettext("Some items in your cart need a change before you can check out."), "error")
        return redirect(url_for("storefront.cart"))
    form, addresses = _form()
    return _page(form, addresses, summary)


@bp.post("/checkout")
@login_required
def place():
    summary = cart_summary(find_cart(current_user))
    form, addresses = _form(request.form)
    valid = form.validate_on_submit()
    if "recalculate" in request.form:  # the button, or htmx on a change (its hx-vals)
        form.seen.data = cart_fingerprint(summary)
        return _page(form, addresses, summary, status=200 if valid else 422)
    if not form.accept_terms.data:
        form.accept_terms.errors = [gettext("Tick the box to accept the terms of sale.")]
    if not valid or form.accept_terms.errors:
        return _page(form, addresses, summary, status=422)
    if delivery_in_use() and request.form.get("delivery_quoted") != str(form.delivery.data or ""):
        # Without JavaScript the total shown was for another delivery: show the new one first.
        return _page(
            form,
            addresses,
            summary,
            status=422,
            error=gettext(
                "Your delivery choice changes the total. Please check it and place your order again."
            ),
            delivery_error=True,
        )
    billing = address_of(current_user, form.billing_address.data)
    shipping = address_of(current_user, form.shipping_address.data) if form.shipping_address.data else None
    if shipping is None and not delivery_in_use():
        form.shipping_address.errors = [gettext("Choose one of your addresses.")]
        return _page(form, addresses, summary, status=422)
    try:
        order = place_order(
            current_user,
            form.idempotency_key.data,
            form.seen.data,
            billing,
            shipping,
            funds_wanted=form.funds.data,
            use_credit=bool(form.use_credit.data),
            method=form.method.data,
            delivery_method_id=form.delivery.data,
            delivery_seen=form.delivery_seen.data,
            terms_accepted=True,
        )
    except CartChanged as problem:
        form.idempotency_key.data = new_key()  # the next try is a new order
        form.seen.data = cart_fingerprint(summary)
        return _page(
            form,
            addresses,
            summary,
            status=422,
            error=str(problem),
            delivery_error=isinstance(problem, DeliveryChanged),
        )
    except OrderError as problem:
        getattr(form, problem.field or "funds").errors = [str(problem)]
        return _page(form, addresses, summary, status=422)
    if order.is_unpaid and order.card_amount and order.payment_method != BANK:
        try:
            payment = start_card_payment(
                order,
                form.idempotency_key.data,
                return_url=lambda payment: url_for(
                    "orders.payment_status", order_id=payment.order_id, payment_id=payment.id
                ),
            )
        except (PaymentError, OrderError):
            flash(
                gettext("The payment provider is not answering. Your order is saved: pay it from this page."),
                "error",
            )
            return redirect_after_post(url_for("orders.show", order_id=order.id))
        if payment.state == "pending":
            return redirect_off_site(payment.redirect_url)
    return redirect_after_post(url_for("orders.show", order_id=order.id, placed=1))
