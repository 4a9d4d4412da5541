"""Carts: one for each visitor and one for each signed-in customer.

A visitor's cart is found by a random key kept in the (signed) Flask session:
the cookie carries that key and nothing else about the cart or the person.
A signed-in customer's cart belongs to their account, so it follows them to
every browser. At sign-in the visitor's cart is carried into the account's
(`carry_into_account`, called once, from `views.security.start_session`):
quantities of the same product add up, capped at what is in stock.

Quantities are whole numbers from 1 to MAX_QUANTITY and never more than the
product's stock; asking for more gives as many as there are, and says so.
Nothing is reserved: stock is taken at checkout, which checks again.

Visitor carts nobody touched for VISITOR_CART_DAYS are purged by the
housekeeping job; customers' carts stay with their account.
"""

import datetime
import secrets
from dataclasses import dataclass
from dataclasses import field

from flask_babel import gettext
from flask_babel import ngettext
from peewee import CharField
from peewee import Check
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError

from models.base import BaseModel
from models.base import db
from models.base import utcnow
from models.base import write_transaction
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import User

CART_SESSION_KEY = "cart"
MAX_QUANTITY = 99  # of one product in one cart; more is nearly always a typo
VISITOR_CART_DAYS = 30


class Cart(BaseModel):
    user = ForeignKeyField(User, null=True, unique=True, on_delete="CASCADE")
    visitor_key = CharField(null=True, unique=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)


class CartLine(BaseModel):
    cart = ForeignKeyField(Cart, on_delete="CASCADE", backref="lines")
    product = ForeignKeyField(Product, on_delete="CASCADE", index=True)
    quantity = IntegerField(constraints=[Check("quantity > 0")])
    added_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "cart_line"
        indexes = ((("cart", "product"), True),)


class CartError(Exception):
    """A cart change that can't be made; the message is for the customer."""


@dataclass(frozen=True)
class CartChange:
    product: Product
    quantity: int  # in the cart now; 0 when the line was removed
    message: str
    capped: bool = False  # fewer than asked for (stock, or the per-product limit)


@dataclass(frozen=True)
class CartItem:
    product: Product
    quantity: int
    problem: str = ""  # why it can't be bought as it is ("Out of stock"…)
    buyable: bool = True

    @property
    def line_total(self):
        return self.product.price * self.quantity


@dataclass(frozen=True)
class CartSummary:
    items: list = field(default_factory=list)

    @property
    def buyable_items(self):
        return [item for item in self.items if item.buyable]

    @property
    def count(self):
        """Items that can be bought (what the header shows)."""
        return sum(item.quantity for item in self.buyable_items)

    @property
    def subtotal(self):
        return sum(item.line_total for item in self.buyable_items)

    @property
    def problems(self):
        """Lines checkout must refuse until the customer changes them."""
        return [item for item in self.items if item.problem]

    @property
    def is_empty(self):
        return not self.items


def new_visitor_key():
    return secrets.token_urlsafe(24)


def find_cart(user=None, visitor_key=None):
    """The signed-in customer's cart, else the visitor's; None if there is none yet."""
    if user is not None:
        return Cart.get_or_none(Cart.user == user.id)
    if visitor_key:
        return Cart.get_or_none(Cart.visitor_key == visitor_key)
    return None


def _cart_to_change(user, visitor_key):
    """Find or make the cart, and hold it (inside the caller's write transaction)."""
    if user is None and not visitor_key:
        raise ValueError("a cart belongs to a customer or a visitor key")
    cart = find_cart(user, visitor_key)
    if cart is None:
        try:
            with db.atomic():  # a savepoint: a twin request making the same cart fails alone
                cart = Cart.create(
                    user=user.id if user is not None else None, visitor_key=None if user else visitor_key
                )
        except IntegrityError:
            cart = find_cart(user, visitor_key)
    _touch(cart)
    return cart


def _touch(cart):
    """Mark the cart as used now. Done first in every change: on PostgreSQL the UPDATE locks the
    row, so two changes to one cart (a double click) happen one after the other, as on SQLite."""
    Cart.update(updated_at=utcnow()).where(Cart.id == cart.id).execute()


def limit_for(product):
    """The most of `product` one cart may hold now."""
    return min(product.stock, MAX_QUANTITY) if product.active else 0


def _capped_message(product, quantity):
    if quantity == MAX_QUANTITY and product.stock > MAX_QUANTITY:
        return gettext(
            "You can have at most %(limit)s of one product in your cart; it now has %(quantity)s of %(name)s.",
            limit=MAX_QUANTITY,
            quantity=quantity,
            name=product.name,
        )
    return ngettext(
        "Only %(num)s of %(name)s in stock: your cart now has %(quantity)s.",
        "Only %(num)s of %(name)s in stock: your cart now has %(quantity)s.",
        product.stock,
        name=product.name,
        quantity=quantity,
    )


def add_to_cart(product_id, quantity, user=None, visitor_key=None):
    """Put `quantity` more of a product in the cart (as many as there are, if fewer)."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(gettext("Choose a quantity from 1 to %(limit)s.", limit=MAX_QUANTITY))
    with write_transaction():
        product = Product.get_or_none((Product.id == product_id) & Product.active)
        if product is None:
            raise CartError(gettext("That product is no longer available."))
        if product.stock == 0:
            raise CartError(gettext("%(name)s is out of stock.", name=product.name))
        cart = _cart_to_change(user, visitor_key)
        line = CartLine.get_or_none((CartLine.cart == cart) & (CartLine.product == product))
        have = line.quantity if line else 0
        limit = limit_for(product)
        if have >= limit:
            raise CartError(
                gettext(
                    "Your cart already has %(quantity)s of %(name)s, all we have in stock.",
                    quantity=have,
                    name=product.name,
                )
                if limit == product.stock
                else gettext(
                    "Your cart already has %(quantity)s of %(name)s, the most one order can have.",
                    quantity=have,
                    name=product.name,
                )
            )
        total = min(have + quantity, limit)
        if line is None:
            CartLine.create(cart=cart, product=product, quantity=total)
        else:
            CartLine.update(quantity=total).where(CartLine.id == line.id).execute()
    if total < have + quantity:
        return CartChange(product, total, _capped_message(product, total), capped=True)
    return CartChange(
        product,
        total,
        gettext("Added %(quantity)s × %(name)s to your cart.", quantity=quantity, name=product.name),
    )


def set_quantity(product_id, quantity, user=None, visitor_key=None):
    """Change a line to `quantity` (0 removes it), capped at the stock."""
    if not 0 <= quantity <= MAX_QUANTITY:
        raise CartError(gettext("Choose a quantity from 0 to %(limit)s.", limit=MAX_QUANTITY))
    with write_transaction():
        cart = find_cart(user, visitor_key)
        line = None
        if cart is not None:
            _touch(cart)
            line = (
                CartLine.select(CartLine, Product)
                .join(Product)
                .where((CartLine.cart == cart) & (CartLine.product == product_id))
                .first()
            )
        if line is None:
            if quantity == 0:
                return CartChange(None, 0, gettext("That item is no longer in your cart."))
            raise CartError(gettext("That item is no longer in your cart."))
        product = line.product
        if quantity == 0:
            line.delete_instance()
            return CartChange(product, 0, gettext("Removed %(name)s from your cart.", name=product.name))
        if not product.active:
            raise CartError(
                gettext(
                    "%(name)s is no longer available. Please remove it from your cart.", name=product.name
                )
            )
        if product.stock == 0:
            raise CartError(
                gettext("%(name)s is out of stock. Please remove it from your cart.", name=product.name)
            )
        total = min(quantity, limit_for(product))
        CartLine.update(quantity=total).where(CartLine.id == line.id).execute()
    if total < quantity:
        return CartChange(product, total, _capped_message(product, total), capped=True)
    return CartChange(
        product,
        total,
        gettext("Your cart now has %(quantity)s of %(name)s.", quantity=total, name=product.name),
    )


def remove_from_cart(product_id, user=None, visitor_key=None):
    return set_quantity(product_id, 0, user=user, visitor_key=visitor_key)


def cart_summary(cart):
    """The cart's lines with what can be bought, and the totals."""
    if cart is None:
        return CartSummary()
    lines = (
        CartLine.select(CartLine, Product, Category)
        .join(Product)
        .join(Category)
        .where(CartLine.cart == cart)
        .order_by(CartLine.added_at, CartLine.id)
    )
    items = []
    for line in lines:
        product = line.product
        if not product.active:
            items.append(CartItem(product, line.quantity, gettext("No longer available"), buyable=False))
        elif product.stock == 0:
            items.append(CartItem(product, line.quantity, gettext("Out of stock"), buyable=False))
        elif line.quantity > product.stock:
            items.append(
                CartItem(
                    product,
                    line.quantity,
                    ngettext(
                        "Only %(num)s left: please lower the quantity",
                        "Only %(num)s left: please lower the quantity",
                        product.stock,
                    ),
                )
            )
        else:
            items.append(CartItem(product, line.quantity))
    return CartSummary(items)


def cart_item_count(user=None, visitor_key=None):
    """What the header shows: items in the cart that can be bought (one query, none for a new visitor)."""
    if user is None and not visitor_key:
        return 0
    owner = Cart.user == user.id if user is not None else Cart.visitor_key == visitor_key
    total = (
        CartLine.select(fn.SUM(CartLine.quantity))
        .join(Cart)
        .switch(CartLine)
        .join(Product)
        .where(owner & Product.active & (Product.stock > 0))
        .scalar()
    )
    return total or 0


def carry_into_account(visitor_key, user):
    """Sign-in: move the visitor's cart into the account's, adding quantities up to the stock.

    Returns notes for the customer about anything that didn't fit. The visitor
    cart is gone afterwards (its key in the old session means nothing).
    """
    if not visitor_key:
        return []
    notes = []
    with write_transaction():
        visitor_cart = Cart.get_or_none((Cart.visitor_key == visitor_key) & Cart.user.is_null())
        if visitor_cart is None:
            return []
        lines = list(CartLine.select(CartLine, Product).join(Product).where(CartLine.cart == visitor_cart))
        if lines:
            cart = _cart_to_change(user, None)
            for line in lines:
                product = line.product
                existing = CartLine.get_or_none((CartLine.cart == cart) & (CartLine.product == product))
                have = existing.quantity if existing else 0
                total = min(have + line.quantity, max(limit_for(product), have))
                if total < have + line.quantity and product.active and product.stock > 0:
                    notes.append(_capped_message(product, total))
                if total == have:
                    continue
                if existing is None:
                    CartLine.create(cart=cart, product=product, quantity=total, added_at=line.added_at)
                else:
                    CartLine.update(quantity=total).where(CartLine.id == existing.id).execute()
        visitor_cart.delete_instance(recursive=False)
    return notes


def purge_visitor_carts(now, days=VISITOR_CART_DAYS):
    """Forget visitor carts nobody touched for `days` (their lines go with them)."""
    cutoff = now - datetime.timedelta(days=days)
    with write_transaction():
        return Cart.delete().where(Cart.user.is_null() & (Cart.updated_at < cutoff)).execute()
