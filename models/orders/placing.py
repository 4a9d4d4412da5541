"""Placing an order from the cart: exactly what the customer saw at checkout, in one transaction.

Delivery: when the shop has active delivery methods (models/storefront/delivery.py), the order
needs one, still offered for the delivery address's country at the price the page showed (the
offers' fingerprint, like the cart's); otherwise DeliveryChanged. The order keeps a copy of it
(Order.delivery_*) and a line of kind "delivery" with its price; a pickup keeps no delivery
address. The total is goods subtotal + delivery − funds discount (breakdown.py). A shop without
any active method places orders without delivery, as before.
"""

import datetime

from flask_babel import gettext
from flask_babel import ngettext
from peewee import IntegrityError

from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import Declined
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import settings_for
from models.orders.breakdown import quote
from models.orders.messages import tell_order_placed
from models.orders.order import add_funds_discount
from models.orders.order import ADDRESS_PARTS
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.order import CartChanged
from models.orders.order import DeliveryChanged
from models.orders.order import FUNDS
from models.orders.order import hold_key
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import OrderLine
from models.orders.order import PENDING_PAYMENT
from models.orders.order import record_event
from models.orders.owner_emails import tell_owner_new_order
from models.orders.paid import mark_paid
from models.orders.vat import line_rate_bp
from models.orders.vat import record_order_vat
from models.shop.language import active_language
from models.shop.language import format_money
from models.shop.language import supported
from models.shop.legal import terms_version
from models.shop.settings import load_settings
from models.shop.settings import shop_today
from models.storefront.cart import CartLine
from models.storefront.cart import find_cart
from models.storefront.catalog import Product
from models.storefront.delivery import checked_offer
from models.storefront.delivery import delivery_in_use
from models.storefront.delivery import DeliveryUnavailable
from models.storefront.delivery import parse_offers_fingerprint
from models.storefront.vat_rates import rate_bp_of


def cart_fingerprint(summary):
    """The cart as shown at checkout, 'product:quantity:price' joined by commas (a hidden field)."""
    return ",".join(f"{i.product.id}:{i.quantity}:{i.product.price}" for i in summary.items)


def parse_fingerprint(text):
    seen = {}
    for part in (text or "").split(","):
        try:
            product_id, quantity, price = (int(x) for x in part.split(":"))
        except ValueError:
            continue
        seen[product_id] = (quantity, price)
    return seen


def place_order(
    user,
    idempotency_key,
    seen,
    billing,
    shipping,
    funds_wanted=None,
    use_credit=False,
    method=CARD,
    now=None,
    delivery_method_id=None,
    delivery_seen="",
    terms_accepted=False,
):
    """Place the order the customer saw at checkout; the same form key returns the same order.

    `seen` is the cart fingerprint the checkout page showed; `billing` and
    `shipping` are the customer's Address rows (`shipping` may be None for a
    pickup). `delivery_method_id` is the method chosen and `delivery_seen` the
    offers' fingerprint the page showed (models/storefront/delivery.py). `terms_accepted`: the
    customer accepted the terms of sale at checkout; the order keeps their version (Order.terms_version,
    models/shop/legal.py). Everything happens in one
    write transaction: the order and its lines, the stock taken, the hold,
    the cart emptied, the payment if nothing else is due, the emails (the
    customer's receipt or bank details, the owner's new-order email).
    """
    now = now or utcnow()
    key = f"{user.id}:{idempotency_key}"
    existing = Order.get_or_none(Order.idempotency_key == key)
    if existing is not None:
        return existing
    if not settings_for(user).may_transact:
        raise OrderError(gettext("Your account can't place orders right now. Please contact the shop."))
    if method not in (CARD, BANK):
        raise OrderError(gettext("Choose how to pay the rest."), "method")
    if method == BANK and not load_settings().takes_bank_transfers:
        raise OrderError(
            gettext("The shop doesn't take bank transfers at the moment. Please pay by card."), "method"
        )
    try:
        with write_transaction():
            existing = Order.get_or_none(Order.idempotency_key == key)  # a twin request won
            if existing is not None:
                return existing
            lines = _check_cart(user, parse_fingerprint(seen))
            subtotal = sum(product.price * quantity for product, quantity in lines)
            offer = _check_delivery(subtotal, shipping, delivery_method_id, delivery_seen)
            if offer is not None and offer.pickup:
                shipping = None  # collected at the shop: no delivery address
            breakdown = quote(user, subtotal, funds_wanted, use_credit, delivery=offer.price if offer else 0)
            settings = load_settings()
            due = breakdown.remainder
            order = Order.create(
                user=user,
                status=PENDING_PAYMENT,
                payment_method=(method if due else FUNDS),
                currency=settings.currency,
                language=order_language(user),
                subtotal=subtotal,
                funds_discount=breakdown.discount,
                total=breakdown.total,
                funds_used=breakdown.funds_used,
                credit_used=breakdown.credit_used,
                card_amount=due if method == CARD else 0,
                bank_amount=due if method == BANK else 0,
                idempotency_key=key,
                created_at=now,
                auto_cancel_at=now + datetime.timedelta(hours=settings.auto_cancel_hours) if due else None,
                local_date=shop_today(now),
                **_address_copy("billing", billing),
                **_address_copy("shipping", shipping),
                **_delivery_copy(offer),
                terms_version=terms_version() if terms_accepted else "",
            )
            order.number = f"{order.local_date:%y%m}-{order.id:05d}"
            Order.update(number=order.number).where(Order.id == order.id).execute()
            for product, quantity in lines:
                taken = (
                    Product.update(stock=Product.stock - quantity)
                    .where((Product.id == product.id) & Product.active & (Product.stock >= quantity))
                    .execute()
                )
                if not taken:
                    raise CartChanged(
                        gettext(
                            "%(product)s has just sold out. Please check your cart.", product=product.name
                        )
                    )
                OrderLine.create(
                    order=order,
                    product_id=product.id,
                    name=product.name,
                    unit_price=product.price,
                    quantity=quantity,
                    line_total=product.price * quantity,
                    withdrawal_exclusion=product.withdrawal_exclusion,
                    vat_rate_bp=line_rate_bp(rate_bp_of(product)),
                )
            if offer is not None:
                OrderLine.create(
                    order=order,
                    product_id=0,
                    name=offer.name,
                    unit_price=offer.price,
                    quantity=1,
                    line_total=offer.price,
                    kind="delivery",
                )
            if breakdown.discount:
                add_funds_discount(order, breakdown.discount, breakdown.discount_bp)
            record_order_vat(order)
            if order.held:
                transfer(
                    hold_key(order, "hold"),
                    "order_hold",
                    [
                        Leg(account_for(user), -order.held, "hold"),
                        Leg(system_account(FUNDS_ON_HOLD), order.held, "hold"),
                    ],
                    memo=f"Order {order.number} (on hold)",
                    actor=user,
                    now=now,
                )
            CartLine.delete().where(CartLine.cart == find_cart(user)).execute()
            record_event(order, "", PENDING_PAYMENT, user, "Order placed", now)
            if not due:
                mark_paid(
                    order,
                    user,
                    now,
                    "Paid with account funds" if not order.credit_used else "Paid from your account",
                )
            order = Order.get_by_id(order.id)
            # Paid now: mark_paid sent the receipt. Bank transfer: the bank details. Card: nothing
            # yet, the customer is paying this minute (messages.py says when its email goes).
            tell_order_placed(order, now)
            tell_owner_new_order(order)
    except Declined:
        raise OrderError(
            gettext("Your balance has just changed. Please check the amounts and try again."), "funds"
        ) from None
    except IntegrityError:
        existing = Order.get_or_none(Order.idempotency_key == key)
        if existing is None:
            raise
        return existing
    return order


def _check_cart(user, seen):
    """[(product, quantity)] of the cart, refused if it isn't what the customer saw."""
    lines = list(
        CartLine.select(CartLine, Product)
        .join(Product)
        .where(CartLine.cart == find_cart(user))
        .order_by(CartLine.id)
    )
    if not lines:
        raise CartChanged(gettext("Your cart is empty."))
    if {line.product_id for line in lines} != set(seen) or any(
        seen[row.product_id][0] != row.quantity for row in lines
    ):
        raise CartChanged(gettext("Your cart changed since you opened checkout. Please check it again."))
    for line in lines:
        product = line.product
        old_price = seen[product.id][1]
        if product.price != old_price:
            raise CartChanged(
                gettext(
                    "The price of %(product)s changed from %(old)s to %(new)s. Please check your order again.",
                    product=product.name,
                    old=format_money(old_price),
                    new=format_money(product.price),
                )
            )
        if not product.active:
            raise CartChanged(
                gettext(
                    "%(product)s is no longer available. Please remove it from your cart.",
                    product=product.name,
                )
            )
        if product.stock < line.quantity:
            raise CartChanged(
                ngettext(
                    "Only %(num)d of %(product)s left in stock. Please lower the quantity in your cart.",
                    "Only %(num)d of %(product)s left in stock. Please lower the quantity in your cart.",
                    product.stock,
                    product=product.name,
                )
            )
    return [(line.product, line.quantity) for line in lines]


def _check_delivery(subtotal, shipping, method_id, seen):
    """The delivery offer the customer chose, checked against what the page showed; None when the
    shop has no delivery step."""
    if not delivery_in_use():
        if method_id is not None or seen:  # the page offered delivery; the owner has since hidden it all
            raise DeliveryChanged(
                gettext("Delivery has just changed at the shop. Please check your order again."), "delivery"
            )
        if shipping is None:
            raise OrderError(gettext("Choose a delivery address."), "shipping_address")
        return None
    if method_id is None:
        raise OrderError(gettext("Choose how your order reaches you."), "delivery")
    country = shipping.country if shipping is not None else ""
    try:
        offer = checked_offer(method_id, country, subtotal, parse_offers_fingerprint(seen))
    except DeliveryUnavailable as problem:
        raise DeliveryChanged(str(problem), "delivery") from None
    if not offer.pickup and shipping is None:
        raise OrderError(gettext("Choose a delivery address."), "shipping_address")
    return offer


def order_language(user):
    """The language the order's messages are written in: the customer's account language when
    set, else the language of the page they placed it from."""
    return supported(user.language) or active_language()


def _delivery_copy(offer):
    if offer is None:
        return {}
    return {
        "delivery_method_id": offer.method_id,
        "delivery_name": offer.name,
        "delivery_price": offer.price,
        "delivery_estimate": offer.estimate,
        "delivery_pickup": offer.pickup,
        "delivery_details": offer.details,
        "delivery_max_days": offer.max_days,
    }


def _address_copy(which, address):
    if address is None:
        return {}
    values = address.as_dict()
    values["name"] = values.pop("full_name")
    return {f"{which}_{name}": values.get(name) or "" for name in ADDRESS_PARTS}
