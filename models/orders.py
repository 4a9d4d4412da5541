"""Orders: placing one from the cart, paying it, cancelling it, and its history.

Money (all through models/ledger.py, keys in brackets):

- Placing an order holds its funds and credit parts in one movement, customer →
  FUNDS_ON_HOLD, category `hold` [order-hold:<id>]. When nothing else is due the
  order is paid at once: FUNDS_ON_HOLD → SALES, category `capture`
  [order-capture:<id>].
- A card remainder never touches the customer's account: when the provider
  confirms it, PROVIDER_CLEARING → SALES, category `spend`, journal kind
  `order_card` [order-card:<payment id>], next to the capture of the hold.
  Reports tell the parts apart by category: `capture` into SALES is the
  customer's funds or credit, `spend` from PROVIDER_CLEARING is card money.
- Cancelling an unpaid order releases the hold, FUNDS_ON_HOLD → customer,
  category `release` [order-release:<id>]. A hold lives exactly as long as its
  unpaid order. If a cancelled order is reinstated (a card payment arrived
  late) its hold is taken again; the keys of that second round end in `:2`.
- A card payment that cannot pay its order (cancelled and not reinstatable,
  or already paid another way) goes to the customer's funds:
  PROVIDER_CLEARING → customer, category `refund_in` [order-card-refund:<payment id>].

The funds discount (the group's funds_discount_bp) applies to the part of the
order covered by positive balance only: covering value V costs
V − round_half_up(V × bp / 10000). It is a negative order line, not a ledger
movement; the order total is subtotal − discount, and funds + credit + card +
bank always add up to that total.
"""

import datetime
from dataclasses import dataclass

from flask import has_request_context
from flask import url_for
from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import db
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.cart import CartLine
from models.cart import find_cart
from models.catalog import Product
from models.credit import shop_today
from models.groups import settings_for
from models.ledger import account_for
from models.ledger import Declined
from models.ledger import FUNDS_ON_HOLD
from models.ledger import Leg
from models.ledger import PROVIDER_CLEARING
from models.ledger import SALES
from models.ledger import system_account
from models.ledger import transfer
from models.settings import format_money
from models.settings import load_settings
from models.user import User
from payments import configured_name as configured_provider
from payments import FAILED
from payments import PaymentError
from payments import PENDING
from payments import provider as payment_provider
from payments import SUCCEEDED

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
DISPATCHED = "dispatched"
COMPLETED = "completed"
CANCELLED = "cancelled"
STATUS_LABELS = {
    PENDING_PAYMENT: "Awaiting payment",
    PAID: "Paid",
    DISPATCHED: "Dispatched",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
}
FUNDS, CARD, BANK = "funds", "card", "bank"
RECONCILE_AFTER = datetime.timedelta(minutes=3)
ADDRESS_PARTS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone")


class Order(BaseModel):
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True, backref="orders")
    number = CharField(null=True, unique=True)
    status = CharField(default=PENDING_PAYMENT, index=True)
    channel = CharField(default="shop", index=True)
    payment_method = CharField(default=FUNDS)
    billing_name = CharField(default="")
    billing_company = CharField(default="")
    billing_line1 = CharField(default="")
    billing_line2 = CharField(default="")
    billing_city = CharField(default="")
    billing_region = CharField(default="")
    billing_postal_code = CharField(default="")
    billing_country = CharField(default="")
    billing_phone = CharField(default="")
    shipping_name = CharField(default="")
    shipping_company = CharField(default="")
    shipping_line1 = CharField(default="")
    shipping_line2 = CharField(default="")
    shipping_city = CharField(default="")
    shipping_region = CharField(default="")
    shipping_postal_code = CharField(default="")
    shipping_country = CharField(default="")
    shipping_phone = CharField(default="")
    currency = CharField(max_length=3)
    subtotal = IntegerField()
    funds_discount = IntegerField(default=0)
    total = IntegerField()
    funds_used = IntegerField(default=0)
    credit_used = IntegerField(default=0)
    card_amount = IntegerField(default=0)
    bank_amount = IntegerField(default=0)
    # What the customer paid on a marketplace (channel ≠ "shop"); it never went through the
    # shop's books, so no ledger movement matches it (models/marketplace.py).
    marketplace_amount = IntegerField(default=0)
    # The marketplace's own order number: UNIQUE with `channel` (migration 0013), NULL for shop orders.
    external_ref = CharField(null=True)
    hold_round = IntegerField(default=1)
    idempotency_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    paid_at = DateTimeField(null=True, index=True)
    cancelled_at = DateTimeField(null=True)
    auto_cancel_at = DateTimeField(null=True, index=True)
    local_date = DateField()  # indexed with what the reports add up (Meta)
    dispatched_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    refunded = IntegerField(default=0)  # refunds made (paid or being paid), see models/order_refunds.py

    class Meta:
        table_name = "order"
        indexes = (
            (
                (
                    "local_date",
                    "paid_at",
                    "user",
                    "total",
                    "funds_used",
                    "credit_used",
                    "card_amount",
                    "bank_amount",
                    "marketplace_amount",
                    "funds_discount",
                ),
                False,
            ),
        )

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_unpaid(self):
        return self.status == PENDING_PAYMENT

    @property
    def held(self):
        return self.funds_used + self.credit_used

    @property
    def due(self):
        """What is still to be paid by card or bank transfer."""
        return self.card_amount + self.bank_amount

    def address_lines(self, which):
        values = {part: getattr(self, f"{which}_{part}") for part in ADDRESS_PARTS}
        parts = [
            values["name"],
            values["company"],
            values["line1"],
            values["line2"],
            " ".join(p for p in (values["city"], values["region"], values["postal_code"]) if p),
            values["country"],
        ]
        return [p for p in parts if p]


class OrderLine(BaseModel):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="lines")
    product_id = IntegerField(index=True)  # a copy: the product may change or go
    name = CharField()
    unit_price = IntegerField()
    quantity = IntegerField()
    line_total = IntegerField()
    kind = CharField(default="product")  # product | discount (negative)

    class Meta:
        table_name = "order_line"


class OrderEvent(BaseModel):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="events")
    from_status = CharField(default="")
    to_status = CharField()
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    actor_label = CharField(default="system")
    note = TextField(default="")
    at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "order_event"


class OrderPayment(BaseModel):
    order = ForeignKeyField(Order, on_delete="RESTRICT", index=True, backref="payments")
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
    amount = IntegerField()
    currency = CharField(max_length=3)
    state = CharField(default=PENDING, index=True)
    provider = CharField(default="sandbox")
    provider_payment_id = CharField(null=True, unique=True)
    redirect_url = TextField(default="")
    outcome = CharField(default="")  # paid_order | reinstated | credited_to_funds
    idempotency_key = CharField(unique=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "order_payment"


class OrderError(Exception):
    """An order that can't be placed or paid as asked; the message is for the customer."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class CartChanged(OrderError):
    """The cart is not what the customer saw (prices, quantities, stock)."""


# The breakdown ---------------------------------------------------------------------


def round_half_up_bp(value, basis_points):
    """round_half_up(value × bp / 10000) for non-negative integers."""
    return (value * basis_points + 5000) // 10000


def funds_cost(value, basis_points):
    """What covering order value `value` with positive balance costs the customer."""
    return value - round_half_up_bp(value, basis_points)


def value_covered_by(funds, subtotal, basis_points):
    """The largest order value (≤ subtotal) that `funds` of positive balance covers.

    funds_cost is non-decreasing in the value (each extra cent costs 0 or 1), so
    a binary search finds it. No funds cover nothing, even where a first cent
    would round to free.
    """
    if funds <= 0:
        return 0
    low, high = 0, subtotal
    while low < high:
        middle = (low + high + 1) // 2
        if funds_cost(middle, basis_points) <= funds:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class Breakdown:
    subtotal: int
    discount: int  # the funds discount (shown as a negative line)
    total: int
    funds_used: int  # from positive balance
    credit_used: int  # below zero, on account
    remainder: int  # by card or bank transfer
    funds_available: int  # positive balance the customer could use
    credit_available: int  # 0 unless the group allows paying on account
    funds_max: int  # the most funds this order can use
    discount_bp: int

    @property
    def paid_from_account(self):
        return self.funds_used + self.credit_used


def available(user):
    """(positive balance usable, credit usable) for this customer now."""
    account = account_for(user)
    funds = max(0, account.balance)
    credit = max(0, account.balance + account.credit_limit) - funds
    if not settings_for(user).pay_on_account:
        credit = 0
    return funds, credit


def quote(user, subtotal, funds_wanted=None, use_credit=False):
    """The breakdown of an order of `subtotal` when the customer uses `funds_wanted` of their
    balance (None: as much as possible) and credit if `use_credit`. Raises OrderError(field=…)."""
    basis_points = settings_for(user).funds_discount_bp
    funds_available, credit_available = available(user)
    funds_max = min(funds_available, funds_cost(subtotal, basis_points))
    if funds_wanted is None:
        funds_wanted = funds_max
    if funds_wanted < 0:
        raise OrderError("Enter an amount of 0 or more.", "funds")
    if funds_wanted > funds_available:
        raise OrderError(
            f"You have {format_money(funds_available)} of funds to use; enter at most that.", "funds"
        )
    if funds_wanted > funds_max:
        raise OrderError(f"This order needs at most {format_money(funds_max)} of funds.", "funds")
    covered = value_covered_by(funds_wanted, subtotal, basis_points)
    funds_used = funds_cost(covered, basis_points)
    discount = covered - funds_used
    total = subtotal - discount
    rest = total - funds_used
    credit_used = min(rest, credit_available) if use_credit else 0
    return Breakdown(
        subtotal=subtotal,
        discount=discount,
        total=total,
        funds_used=funds_used,
        credit_used=credit_used,
        remainder=rest - credit_used,
        funds_available=funds_available,
        credit_available=credit_available,
        funds_max=funds_max,
        discount_bp=basis_points,
    )


# What the customer saw ----------------------------------------------------------------


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


# Placing an order ------------------------------------------------------------------------


def _hold_key(order, what):
    return f"order-{what}:{order.id}" + (f":{order.hold_round}" if order.hold_round > 1 else "")


def record_event(order, from_status, to_status, actor=None, note="", now=None):
    OrderEvent.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=getattr(actor, "id", None),
        actor_label="system" if actor is None else ("customer" if actor.id == order.user_id else "staff"),
        note=note,
        at=now or utcnow(),
    )


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
):
    """Place the order the customer saw at checkout; the same form key returns the same order.

    `seen` is the cart fingerprint the checkout page showed; `billing` and
    `shipping` are the customer's Address rows. Everything happens in one
    write transaction: the order and its lines, the stock taken, the hold,
    the cart emptied, the payment if nothing else is due, the email.
    """
    now = now or utcnow()
    key = f"{user.id}:{idempotency_key}"
    existing = Order.get_or_none(Order.idempotency_key == key)
    if existing is not None:
        return existing
    if not settings_for(user).may_transact:
        raise OrderError("Your account can't place orders right now. Please contact the shop.")
    if method not in (CARD, BANK):
        raise OrderError("Choose how to pay the rest.", "method")
    try:
        with write_transaction():
            existing = Order.get_or_none(Order.idempotency_key == key)  # a twin request won
            if existing is not None:
                return existing
            lines = _check_cart(user, parse_fingerprint(seen))
            subtotal = sum(product.price * quantity for product, quantity in lines)
            breakdown = quote(user, subtotal, funds_wanted, use_credit)
            settings = load_settings()
            due = breakdown.remainder
            order = Order.create(
                user=user,
                status=PENDING_PAYMENT,
                payment_method=(method if due else FUNDS),
                currency=settings.currency,
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
                    raise CartChanged(f"{product.name} has just sold out. Please check your cart.")
                OrderLine.create(
                    order=order,
                    product_id=product.id,
                    name=product.name,
                    unit_price=product.price,
                    quantity=quantity,
                    line_total=product.price * quantity,
                )
            if breakdown.discount:
                OrderLine.create(
                    order=order,
                    product_id=0,
                    name=f"Discount for paying with funds ({breakdown.discount_bp / 100:g} %)",
                    unit_price=-breakdown.discount,
                    quantity=1,
                    line_total=-breakdown.discount,
                    kind="discount",
                )
            if order.held:
                transfer(
                    _hold_key(order, "hold"),
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
            mail_customer(order, "order_placed", f"Order {order.number}: thank you")
    except Declined:
        raise OrderError(
            "Your balance has just changed. Please check the amounts and try again.", "funds"
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
        raise CartChanged("Your cart is empty.")
    if {line.product_id for line in lines} != set(seen) or any(
        seen[row.product_id][0] != row.quantity for row in lines
    ):
        raise CartChanged("Your cart changed since you opened checkout. Please check it again.")
    for line in lines:
        product = line.product
        old_price = seen[product.id][1]
        if product.price != old_price:
            raise CartChanged(
                f"The price of {product.name} changed from {format_money(old_price)} to "
                f"{format_money(product.price)}. Please check your order again."
            )
        if not product.active:
            raise CartChanged(f"{product.name} is no longer available. Please remove it from your cart.")
        if product.stock < line.quantity:
            raise CartChanged(
                f"Only {product.stock} of {product.name} left in stock. Please lower the quantity in your cart."
            )
    return [(line.product, line.quantity) for line in lines]


def _address_copy(which, address):
    if address is None:
        return {}
    values = address.as_dict()
    values["name"] = values.pop("full_name")
    return {f"{which}_{name}": values.get(name) or "" for name in ADDRESS_PARTS}


# Functions(order, now) run inside the transaction that marks an order paid
# (affiliate rewards register here).
paid_hooks = []


def mark_paid(order, actor, now, note):
    """Capture the hold and mark the order paid (inside the caller's transaction)."""
    changed = (
        Order.update(status=PAID, paid_at=now, auto_cancel_at=None)
        .where((Order.id == order.id) & (Order.status == PENDING_PAYMENT))
        .execute()
    )
    if not changed:
        return False
    if order.held:
        transfer(
            f"order-capture:{order.id}",
            "order_capture",
            [
                Leg(system_account(FUNDS_ON_HOLD), -order.held, "capture"),
                Leg(system_account(SALES), order.held, "capture"),
            ],
            memo=f"Order {order.number}",
            actor=actor,
            now=now,
        )
    record_event(order, PENDING_PAYMENT, PAID, actor, note, now)
    for hook in paid_hooks:
        hook(Order.get_by_id(order.id), now)
    return True


def mail_customer(order, kind, subject, **extra):
    from models.mailer import send_templated

    user = User.get_by_id(order.user_id)
    send_templated(
        user.email,
        kind,
        subject,
        kind,
        user=user,
        order=order,
        order_url=_order_url(order),
        pay_url=pay_link(order),  # works without signing in: see pay_link
        **extra,
    )


def _order_url(order):
    from models.mailer import absolute_url

    return absolute_url("orders.show", order_id=order.id)


# Cancelling ----------------------------------------------------------------------------


def cancel_order(order, actor=None, note="", now=None, notify=True):
    """Cancel an unpaid order: release its hold, put the stock back. Returns True if it changed."""
    now = now or utcnow()
    with write_transaction():
        order = Order.get_by_id(order.id)
        changed = (
            Order.update(status=CANCELLED, cancelled_at=now, auto_cancel_at=None)
            .where((Order.id == order.id) & (Order.status == PENDING_PAYMENT))
            .execute()
        )
        if not changed:
            return False
        if order.held:
            transfer(
                _hold_key(order, "release"),
                "order_release",
                [
                    Leg(system_account(FUNDS_ON_HOLD), -order.held, "release"),
                    Leg(account_for(order.user), order.held, "release"),
                ],
                memo=f"Order {order.number} cancelled (hold released)",
                actor=actor,
                now=now,
            )
        for line in order.lines.where(OrderLine.kind == "product"):
            Product.update(stock=Product.stock + line.quantity).where(Product.id == line.product_id).execute()
        record_event(order, PENDING_PAYMENT, CANCELLED, actor, note, now)
        if notify:
            mail_customer(
                Order.get_by_id(order.id), "order_cancelled", f"Order {order.number} cancelled", note=note
            )
    return True


def auto_cancel_due(now):
    """Cancel unpaid orders whose time is up; returns how many. `now` is timezone-aware."""
    cutoff = to_naive_utc(now) if now.tzinfo else now
    due = Order.select().where((Order.status == PENDING_PAYMENT) & (Order.auto_cancel_at <= cutoff))
    count = 0
    for order in due:
        hours = load_settings().auto_cancel_hours
        count += cancel_order(order, None, f"Not paid within {hours} hours", now=cutoff)
    return count


# Card payments --------------------------------------------------------------------------


def start_card_payment(order, idempotency_key, return_url=None):
    """Record a card payment for the order's remainder, then create it at the provider.

    The same form key returns the same payment. Only an unpaid order with a
    remainder can be paid by card; switching from bank transfer moves the due
    amount to card.
    """
    key = f"{order.user_id}:{idempotency_key}"
    payment = OrderPayment.get_or_none(OrderPayment.idempotency_key == key)
    if payment is None:
        payment = _still_open_payment(order)
    if payment is None:
        with write_transaction():
            order = Order.get_by_id(order.id)
            if order.status != PENDING_PAYMENT or not order.due:
                raise OrderError("This order has nothing left to pay.")
            if order.payment_method != CARD:
                Order.update(payment_method=CARD, card_amount=order.due, bank_amount=0).where(
                    Order.id == order.id
                ).execute()
            try:
                with db.atomic():
                    payment = OrderPayment.create(
                        order=order,
                        user=order.user_id,
                        amount=order.due,
                        currency=order.currency,
                        provider=configured_provider(),
                        idempotency_key=key,
                    )
            except IntegrityError:
                payment = OrderPayment.get(OrderPayment.idempotency_key == key)
    if payment.provider_payment_id is None and payment.state == PENDING:
        url = (return_url or _default_return_url)(payment)
        payment_id, redirect_url = payment_provider(payment.provider).create_payment(
            payment.amount, payment.currency, f"order-{order.number}", f"order-payment:{payment.id}", url
        )
        with write_transaction():
            OrderPayment.update(
                provider_payment_id=payment_id, redirect_url=redirect_url, updated_at=utcnow()
            ).where(OrderPayment.id == payment.id).execute()
        payment = OrderPayment.get_by_id(payment.id)
    return payment


def _still_open_payment(order):
    """An earlier card payment of the order the provider may still take: never start a second
    charge while one can succeed (ask the provider first; a decided one is acted on)."""
    earlier = (
        OrderPayment.select()
        .where((OrderPayment.order == order.id) & (OrderPayment.state == PENDING))
        .order_by(OrderPayment.id.desc())
        .first()
    )
    if earlier is None:
        return None
    earlier = refresh_card_payment(earlier)
    fresh = Order.get_by_id(order.id)
    if earlier.state == PENDING and earlier.amount == fresh.due and fresh.status == PENDING_PAYMENT:
        return earlier
    return None


def _default_return_url(payment):
    if has_request_context():
        return url_for("orders.payment_status", order_id=payment.order_id, payment_id=payment.id)
    from models.mailer import absolute_url

    return absolute_url("orders.payment_status", order_id=payment.order_id, payment_id=payment.id)


def complete_card_payment(payment, now=None):
    """The provider says the payment succeeded: act on it exactly once; returns the fresh payment.

    Pays the unpaid order; reinstates a cancelled one if stock and the
    customer's funds allow; otherwise the money goes to the customer's funds.
    """
    now = now or utcnow()
    with write_transaction():
        payment = OrderPayment.get_by_id(payment.id)
        if payment.state == SUCCEEDED:
            return payment
        order = Order.get_by_id(payment.order_id)
        clearing = system_account(PROVIDER_CLEARING)
        outcome = "credited_to_funds"
        if order.status == CANCELLED:
            if reinstate(order, now):
                order = Order.get_by_id(order.id)
                outcome = "reinstated"
        if order.status == PENDING_PAYMENT and payment.amount == order.due:
            transfer(
                f"order-card:{payment.id}",
                "order_card",
                [
                    Leg(clearing, -payment.amount, "spend"),
                    Leg(system_account(SALES), payment.amount, "spend"),
                ],
                memo=f"Order {order.number} by card",
                actor=order.user,
                now=now,
            )
            mark_paid(order, None, now, "Card payment received")
            if outcome != "reinstated":
                outcome = "paid_order"
        else:
            outcome = "credited_to_funds"
            transfer(
                f"order-card-refund:{payment.id}",
                "order_card_refund",
                [
                    Leg(clearing, -payment.amount, "refund_in"),
                    Leg(account_for(order.user), payment.amount, "refund_in"),
                ],
                memo=f"Card payment for order {order.number}, which was {order.status_label.lower()}",
                now=now,
            )
            record_event(
                order,
                order.status,
                order.status,
                None,
                f"Card payment of {format_money(payment.amount)} credited to account funds",
            )
        OrderPayment.update(state=SUCCEEDED, outcome=outcome, updated_at=now).where(
            OrderPayment.id == payment.id
        ).execute()
        if outcome in ("reinstated", "credited_to_funds"):
            _tell_about_late_payment(Order.get_by_id(order.id), payment, outcome)
    return OrderPayment.get_by_id(payment.id)


def reinstate(order, now, why="a card payment arrived after cancellation"):
    """Take the stock and the hold again for a cancelled order; False (nothing changed) if either fails."""
    try:
        with db.atomic():  # a savepoint: all or nothing
            for line in order.lines.where(OrderLine.kind == "product"):
                taken = (
                    Product.update(stock=Product.stock - line.quantity)
                    .where((Product.id == line.product_id) & (Product.stock >= line.quantity))
                    .execute()
                )
                if not taken:
                    raise _NotReinstated
            Order.update(status=PENDING_PAYMENT, cancelled_at=None, hold_round=Order.hold_round + 1).where(
                Order.id == order.id
            ).execute()
            order = Order.get_by_id(order.id)
            if order.held:
                transfer(
                    _hold_key(order, "hold"),
                    "order_hold",
                    [
                        Leg(account_for(order.user), -order.held, "hold"),
                        Leg(system_account(FUNDS_ON_HOLD), order.held, "hold"),
                    ],
                    memo=f"Order {order.number} reinstated (on hold)",
                    now=now,
                )
            record_event(
                order,
                CANCELLED,
                PENDING_PAYMENT,
                None,
                f"Reinstated: {why}",
                now,
            )
    except (_NotReinstated, Declined):
        return False
    return True


class _NotReinstated(Exception):
    pass


# What a card payment that didn't simply pay its unpaid order did (the late-payment emails' cases).
LATE_REINSTATED = "reinstated"  # the order was cancelled; it is back and paid
LATE_CANCELLED = "cancelled"  # the order was cancelled and couldn't come back: money to funds
LATE_ALREADY_PAID = "already_paid"  # the order was paid another way meanwhile: money to funds
LATE_MISMATCH = "mismatch"  # the order still waits, for another amount: money to funds
LATE_SUBJECTS = {
    LATE_REINSTATED: ("Order {n} is reinstated and paid", "Late card payment reinstated order {n}"),
    LATE_CANCELLED: (
        "Order {n}: your payment is in your account funds",
        "Late card payment for cancelled order {n} credited to funds",
    ),
    LATE_ALREADY_PAID: (
        "Order {n}: your second payment is in your account funds",
        "Second payment for order {n} credited to funds",
    ),
    LATE_MISMATCH: (
        "Order {n}: your payment is in your account funds",
        "Card payment for order {n} didn't match the amount due: credited to funds",
    ),
}


def late_payment_case(order, outcome):
    """Which of the LATE_* cases a card payment with this outcome is, from the order as it is now."""
    if outcome == "reinstated":
        return LATE_REINSTATED
    if order.status == CANCELLED:
        return LATE_CANCELLED
    if order.status == PENDING_PAYMENT:
        return LATE_MISMATCH
    return LATE_ALREADY_PAID


def _paid_how(order, payment):
    """How an order was paid other than by `payment`, in words ("by bank transfer")."""
    other_card = (
        OrderPayment.select()
        .where(
            (OrderPayment.order == order.id)
            & (OrderPayment.id != payment.id)
            & (OrderPayment.state == SUCCEEDED)
            & (OrderPayment.outcome.in_(("paid_order", "reinstated")))
        )
        .exists()
    )
    if other_card:
        return "by an earlier card payment"
    if order.payment_method == BANK and order.bank_amount:
        return "by bank transfer"
    if getattr(order, "marketplace_amount", 0):
        return "on the marketplace"
    return "from your account"


def _tell_about_late_payment(order, payment, outcome):
    """Email the customer (and the shop) what happened to a card payment that didn't simply pay its
    unpaid order: the order reinstated, or the money in the customer's funds (the order was
    cancelled for good, was already paid another way, or waits for a different amount)."""
    from models.mailer import absolute_url
    from models.mailer import send_templated

    settings = load_settings()
    case = late_payment_case(order, outcome)
    customer_subject, owner_subject = (s.format(n=order.number) for s in LATE_SUBJECTS[case])
    details = {
        "payment": payment,
        "outcome": outcome,
        "case": case,
        "reason": cancel_reason(order),
        "paid_how": _paid_how(order, payment) if case == LATE_ALREADY_PAID else "",
    }
    mail_customer(
        order, "order_late_payment", customer_subject, funds_url=absolute_url("funds.overview"), **details
    )
    if settings.contact_email:
        send_templated(
            settings.contact_email,
            "order_late_payment_owner",
            owner_subject,
            "order_late_payment_owner",
            order=order,
            customer_url=absolute_url("admin_customers.show", customer_id=order.user_id),
            **details,
        )


def fail_card_payment(payment, now=None):
    """A pending payment failed. A succeeded one stays succeeded (`paid` is terminal)."""
    with write_transaction():
        OrderPayment.update(state=FAILED, updated_at=now or utcnow()).where(
            (OrderPayment.id == payment.id) & (OrderPayment.state == PENDING)
        ).execute()
    return OrderPayment.get_by_id(payment.id)


def apply_payment_status(payment, status, now=None):
    if status == SUCCEEDED:
        return complete_card_payment(payment, now)
    if status == FAILED:
        return fail_card_payment(payment, now)
    return OrderPayment.get_by_id(payment.id)


def refresh_card_payment(payment, now=None):
    if payment.state != PENDING or payment.provider_payment_id is None:
        return payment
    status = payment_provider(payment.provider).get_status(payment.provider_payment_id)
    return apply_payment_status(payment, status, now)


def payment_for_notification(provider_name, event):
    """The notification hook for models/funds.py: act on an order payment, or None if not ours."""
    payment = OrderPayment.get_or_none(
        (OrderPayment.provider == provider_name)
        & (OrderPayment.provider_payment_id == event.provider_payment_id)
    )
    if payment is None:
        return None
    if event.amount != payment.amount or event.currency != payment.currency:
        from models.funds import NotificationRejected

        raise NotificationRejected("amount or currency mismatch")
    return apply_payment_status(payment, event.status)


def reconcile_order_payments(now):
    """Ask the provider about order payments still pending after a few minutes; returns how many changed."""
    cutoff = to_naive_utc(now) if now.tzinfo else now
    pending = OrderPayment.select().where(
        (OrderPayment.state == PENDING) & (OrderPayment.created_at <= cutoff - RECONCILE_AFTER)
    )
    changed = 0
    for payment in pending:
        if payment.provider_payment_id is None:
            continue
        try:
            status = payment_provider(payment.provider).get_status(payment.provider_payment_id)
        except PaymentError:
            continue
        if status != PENDING:
            apply_payment_status(payment, status, cutoff)
            changed += 1
    return changed


# The emailed pay link ------------------------------------------------------------------
#
# One signed link per order, for every email that asks for or is about a payment (order
# placed, cancelled, payment reminders): it opens the order's payment page, or a clear
# "already paid" or "cancelled" page, without signing in. It never expires: it is only
# good for paying that order (or ordering the same again), for as long as the order can
# be paid. The token is the order id and its customer's id, signed with the app's
# SECRET_KEY under its own salt; anything else (tampered, truncated, another salt) is no
# order at all.

PAY_LINK_SALT = "order-pay-link"


def _pay_link_signer():
    from flask import current_app
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PAY_LINK_SALT)


def pay_link_token(order):
    return _pay_link_signer().dumps([order.id, order.user_id])


def order_for_pay_link(token):
    """The order a pay-link token names, or None for a token that isn't one of ours."""
    from itsdangerous import BadData

    if not token or len(token) > 200:
        return None
    try:
        order_id, user_id = _pay_link_signer().loads(token)
    except (BadData, TypeError, ValueError):
        return None
    if not all(type(value) is int for value in (order_id, user_id)):
        return None
    return Order.get_or_none((Order.id == order_id) & (Order.user == user_id))


def pay_link(order):
    """The absolute URL (from the shop's public address) of the order's signed pay link."""
    from models.mailer import absolute_url

    return absolute_url("orders.link", token=pay_link_token(order))


# Switching how to pay -----------------------------------------------------------------

# A card payment row without the provider's id yet is a start still on its way to the
# provider for this long; after that nobody was ever sent to pay it, so it can't succeed.
CARD_START_GRACE = datetime.timedelta(minutes=2)


class CardPaymentPending(OrderError):
    """A card payment of the order may still succeed: no other way to pay until it is decided."""

    def __init__(self, payment=None):
        amount = f" of {format_money(payment.amount)}" if payment is not None else ""
        super().__init__(
            f"A card payment{amount} for this order is being confirmed. You can choose bank transfer "
            "once it is decided, so you never pay twice."
        )
        self.payment = payment


def _may_still_succeed(order, now):
    """The order's pending card payments for what it owes that someone may be paying right now."""
    return (
        OrderPayment.select()
        .where(
            (OrderPayment.order == order.id)
            & (OrderPayment.state == PENDING)
            & (OrderPayment.amount == order.due)
            & (
                OrderPayment.provider_payment_id.is_null(False)
                | (OrderPayment.created_at >= now - CARD_START_GRACE)
            )
        )
        .order_by(OrderPayment.id.desc())
    )


def card_payment_in_progress(order, now=None):
    """The order's card payment that may still succeed, or None.

    As start_card_payment's `_still_open_payment` does, the provider is asked
    first, about every pending payment of the order (normally one at most): a
    payment it has decided is acted on here (the order paid, or the payment
    failed). A payment the provider can't be asked about stays pending and
    counts as in progress: unknown is never "failed".
    """
    now = now or utcnow()
    pending = OrderPayment.select().where(
        (OrderPayment.order == order.id)
        & (OrderPayment.state == PENDING)
        & OrderPayment.provider_payment_id.is_null(False)
    )
    for payment in list(pending.order_by(OrderPayment.id)):
        try:
            refresh_card_payment(payment)
        except PaymentError:
            pass
    fresh = Order.get_by_id(order.id)
    if fresh.status != PENDING_PAYMENT or not fresh.due:
        return None
    return _may_still_succeed(fresh, now).first()


def switch_to_bank(order, actor=None, now=None):
    """Pay the order's remainder by bank transfer instead of card; returns the fresh order.

    Idempotent: an order already waiting for a transfer comes back as it is.
    Refused with CardPaymentPending while a card payment may still succeed (the
    provider is asked first), and with OrderError when nothing is left to pay.
    """
    now = now or utcnow()
    order = Order.get_by_id(order.id)
    if order.status == PENDING_PAYMENT and order.payment_method == BANK and order.due:
        return order
    pending = card_payment_in_progress(order, now) if order.status == PENDING_PAYMENT else None
    if pending is not None:
        raise CardPaymentPending(pending)
    with write_transaction():
        order = Order.get_by_id(order.id)
        if order.status != PENDING_PAYMENT or not order.due:
            raise OrderError("This order has nothing left to pay.")
        if order.payment_method == BANK:
            return order
        # A card payment started since the provider was asked (another tab): let it be decided first.
        started = _may_still_succeed(order, now).first()
        if started is not None:
            raise CardPaymentPending(started)
        Order.update(payment_method=BANK, bank_amount=order.due, card_amount=0).where(
            (Order.id == order.id) & (Order.status == PENDING_PAYMENT) & (Order.payment_method != BANK)
        ).execute()
        record_event(
            order, PENDING_PAYMENT, PENDING_PAYMENT, actor, "Payment method changed to bank transfer", now
        )
    return Order.get_by_id(order.id)


def pay_order_by_card(order, idempotency_key, return_url=None, actor=None, now=None):
    """start_card_payment (which moves a bank-transfer remainder to card), recording the switch."""
    was_bank = Order.get_by_id(order.id).payment_method == BANK
    payment = start_card_payment(order, idempotency_key, return_url)
    if was_bank and Order.get_by_id(order.id).payment_method == CARD:
        with write_transaction():
            record_event(
                order, PENDING_PAYMENT, PENDING_PAYMENT, actor, "Payment method changed to card", now
            )
    return payment


# Ordering the same again ----------------------------------------------------------------


@dataclass(frozen=True)
class Reorder:
    added: list  # "2 × Sencha": what went into the cart
    notes: list  # sentences about what didn't, or not as before (stock, price, no longer sold)


def order_again(order, user=None, visitor_key=None):
    """Put the order's products back in a cart (the customer's, or a visitor's) at today's prices.

    Quantities are capped by what is in stock (models/cart.py's rules); products
    no longer sold or sold out are skipped. Nothing is reserved, as with any cart.
    """
    from models.cart import add_to_cart
    from models.cart import CartError
    from models.cart import MAX_QUANTITY

    added, notes = [], []
    for line in order.lines.where(OrderLine.kind == "product").order_by(OrderLine.id):
        product = Product.get_or_none(Product.id == line.product_id)
        if product is None or not product.active:
            notes.append(f"{line.name} is no longer sold, so it wasn't added.")
            continue
        if product.stock <= 0:
            notes.append(f"{product.name} is sold out, so it wasn't added.")
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
                f"{product.name} now costs {format_money(product.price)} "
                f"(it was {format_money(line.unit_price)} on order {order.number})."
            )
    return Reorder(added, notes)


# What a customer is told about their order ------------------------------------------------


def cancel_reason(order):
    """Why the order was cancelled (the note of its latest cancellation), or ""."""
    event = (
        OrderEvent.select()
        .where(
            (OrderEvent.order == order.id)
            & (OrderEvent.to_status == CANCELLED)
            & (OrderEvent.from_status != CANCELLED)  # not a note added to a cancelled order
        )
        .order_by(OrderEvent.at.desc(), OrderEvent.id.desc())
        .first()
    )
    return event.note if event is not None else ""


# Reading ----------------------------------------------------------------------------------


def orders_of(user, limit=50, offset=0):
    return list(
        Order.select().where(Order.user == user).order_by(Order.id.desc()).limit(limit).offset(offset)
    )


def order_of(user, order_id):
    """The customer's own order, or None (another customer's id is simply not found)."""
    return Order.get_or_none((Order.id == order_id) & (Order.user == user))


def payment_of(order, payment_id):
    return OrderPayment.get_or_none((OrderPayment.id == payment_id) & (OrderPayment.order == order))


def history_of(order):
    return list(order.events.order_by(OrderEvent.at, OrderEvent.id))


def payments_total(order):
    """What the order's payments add up to (funds + credit + card + bank + paid on a marketplace)."""
    return (
        order.funds_used
        + order.credit_used
        + order.card_amount
        + order.bank_amount
        + order.marketplace_amount
    )


def _register_hooks():
    """Provider notifications and reconciliation reach order payments through models/funds.py."""
    from models import funds

    if payment_for_notification not in funds.notification_hooks:
        funds.notification_hooks.append(payment_for_notification)
    if reconcile_order_payments not in funds.reconcile_hooks:
        funds.reconcile_hooks.append(reconcile_order_payments)


_register_hooks()
