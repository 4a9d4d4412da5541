"""Ordering the same again: an old order's products back in a cart at today's prices."""

from dataclasses import dataclass

from flask_babel import gettext

from models.orders.order import OrderLine
from models.shop.language import format_money
from models.storefront.cart import add_to_cart
from models.storefront.cart import CartError
from models.storefront.cart import CartLine
from models.storefront.cart import find_cart
from models.storefront.cart import MAX_QUANTITY
from models.storefront.catalog import Product


@dataclass(frozen=True)
class Reorder:
    added: list  # "2 × Sencha": what went into the cart
    notes: list  # sentences about what didn't, or not as before (stock, price, no longer sold)


def order_again(order, user=None, visitor_key=None):
    """Put the order's products back in a cart (the customer's, or a visitor's) at today's prices.

    Quantities are capped by what is in stock (models/storefront/cart.py's rules); products
    no longer sold or sold out are skipped. Nothing is reserved, as with any cart.
    """
    added, notes = [], []
    for line in order.lines.where(OrderLine.kind == "product").order_by(OrderLine.id):
        product = Product.get_or_none(Product.id == line.product_id)
        if product is None or not product.active:
            notes.append(gettext("%(product)s is no longer sold, so it wasn't added.", product=line.name))
            continue
        if product.stock <= 0:
            notes.append(gettext("%(product)s is sold out, so it wasn't added.", product=product.name))
            continue
        cart = find_cart(user, visitor_key)
        before = (
            CartLine.get_or_none((CartLine.cart == cart) & (CartLine.product == product)) if cart else None
        )
        had = before.quantity if before else 0
        try:
            change = add_to_cart(
                product.id, min(line.quantity, MAX_QUANTITY), user=user, visitor_key=visitor_key
            )
        except CartError as problem:
            notes.append(str(problem))
            continue
        added.append(f"{change.quantity - had} × {product.name}")
        if change.capped:
            notes.append(change.message)
        if product.price != line.unit_price:
            notes.append(
                gettext(
                    "%(product)s now costs %(price)s (it was %(old_price)s on order %(number)s).",
                    product=product.name,
                    price=format_money(product.price),
                    old_price=format_money(line.unit_price),
                    number=order.number,
                )
            )
    return Reorder(added, notes)
