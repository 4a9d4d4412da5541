"""Orders: the tables, their statuses, their history and the reads every page needs.

Money (all through models/funds/ledger.py, keys in brackets):

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

How the funds discount and the split between funds, credit and the rest are worked out:
breakdown.py. What follows when an order is paid: paid.py. The keys of the hold, its capture and
its release, and how the customer's history reads a hold back (held, paid, released):
models/funds/holds.py.
"""

import re
from decimal import Decimal

from babel.numbers import format_decimal
from babel.numbers import get_currency_precision
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import lazy_ngettext
from flask_babel.speaklater import LazyString
from peewee import BooleanField
from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.funds.holds import journal_key
from models.shop.language import active_locale
from models.shop.language import country_name
from models.shop.language import format_money
from models.shop.settings import load_settings
from models.storefront.catalog import Product
from models.users.user import User
from payments import PENDING

PENDING_PAYMENT = "pending_payment"


PAID = "paid"


DISPATCHED = "dispatched"


COMPLETED = "completed"


CANCELLED = "cancelled"


# The statuses as people read them, in the page's or the message's language.
STATUS_LABELS = {
    PENDING_PAYMENT: lazy_gettext("Awaiting payment"),
    PAID: lazy_gettext("Paid"),
    DISPATCHED: lazy_gettext("Dispatched"),
    COMPLETED: lazy_gettext("Completed"),
    CANCELLED: lazy_gettext("Cancelled"),
}


# The notes the shop itself writes into an order's history (OrderEvent.note) and its cancellations:
# stored in English as they always were, shown in the reader's language (`note_text`). A note
# someone typed (staff cancelling with a reason) is shown as typed.
NOTES = {
    "Order placed": lazy_gettext("Order placed"),
    "Paid with account funds": lazy_gettext("Paid with account funds"),
    "Paid from your account": lazy_gettext("Paid from your account"),
    "Card payment received": lazy_gettext("Card payment received"),
    "Bank transfer received": lazy_gettext("Bank transfer received"),
    "Payment method changed to bank transfer": lazy_gettext("Payment method changed to bank transfer"),
    "Payment method changed to card": lazy_gettext("Payment method changed to card"),
    "Cancelled by you": lazy_gettext("Cancelled by you"),
    "Cancelled by the shop": lazy_gettext("Cancelled by the shop"),
    "Dispatched": lazy_gettext("Dispatched"),
    "Completed": lazy_gettext("Completed"),
    "Delivered": lazy_gettext("Delivered"),
    "Withdrawal received": lazy_gettext("Withdrawal received"),
    "Reinstated: a card payment arrived after cancellation": lazy_gettext(
        "Reinstated: a card payment arrived after cancellation"
    ),
    "Reinstated: the bank transfer arrived after cancellation": lazy_gettext(
        "Reinstated: the bank transfer arrived after cancellation"
    ),
}


NOT_PAID_WITHIN = re.compile(r"Not paid within (\d+) hours")


def note_text(note):
    """A history note as its reader reads it: the shop's own notes in the reader's language (a
    lazy string, read when the page or message is written), anything typed as it was typed."""
    if note in NOTES:
        return NOTES[note]
    match = NOT_PAID_WITHIN.fullmatch(note or "")
    if match:
        hours = int(match.group(1))
        return lazy_ngettext("Not paid within %(num)d hour", "Not paid within %(num)d hours", hours)
    for pattern, write in NOTES_WITH_AMOUNTS:
        match = pattern.fullmatch(note or "")
        if match and all(_minor_units(amount) is not None for amount in _amounts(match)):
            return LazyString(write, match)
    return note


# The shop's notes with amounts in them, stored in English with the amounts written out
# ("Card payment of €12.50 credited to account funds"): read back, the amounts are written again in
# the reader's language. A note that doesn't read back exactly is shown as stored.
def _card_payment_credited(m):
    return gettext("Card payment of %(amount)s credited to account funds", amount=_money(m["amount"]))


def _bank_transfer_credited(m):
    return gettext(
        "Bank transfer of %(amount)s received and credited to account funds", amount=_money(m["amount"])
    )


def _paid_from_funds_and_credit(m):
    return gettext(
        "Paid %(funds)s from account funds and %(credit)s on account",
        funds=_money(m["funds"]),
        credit=_money(m["credit"]),
    )


def _paid_from_funds(m):
    return gettext("Paid %(funds)s from account funds", funds=_money(m["funds"]))


def _paid_on_account(m):
    return gettext("Paid %(credit)s on account", credit=_money(m["credit"]))


def _card_refund_refused(m):
    return gettext(
        "The card refund of %(amount)s was refused by the payment provider: %(reason)s",
        amount=_money(m["amount"]),
        reason=m["reason"],
    )


REFUND_PARTS = (
    (
        re.compile(r"(?P<amount>.+?) to account funds"),
        lambda amount: gettext("%(amount)s to account funds", amount=amount),
    ),
    (
        re.compile(r"(?P<amount>.+?) to the card"),
        lambda amount: gettext("%(amount)s to the card", amount=amount),
    ),
    (
        re.compile(r"(?P<amount>.+?) to be paid back by bank transfer"),
        lambda amount: gettext("%(amount)s to be paid back by bank transfer", amount=amount),
    ),
)


def _refund(m):
    parts = []
    for part in m["parts"].split(", "):
        for pattern, write in REFUND_PARTS:
            found = pattern.fullmatch(part)
            if found and _minor_units(found["amount"]) is not None:
                parts.append(write(_money(found["amount"])))
                break
        else:
            parts.append(part)
    if m["note"]:
        return gettext(
            "Refund of %(amount)s: %(parts)s. Note: %(note)s",
            amount=_money(m["amount"]),
            parts=", ".join(parts),
            note=m["note"],
        )
    return gettext("Refund of %(amount)s: %(parts)s", amount=_money(m["amount"]), parts=", ".join(parts))


def _referral_reward_taken_back(m):
    if m["left"]:
        return gettext(
            "Referral reward taken back from whoever referred this customer: %(taken)s of %(due)s; "
            "%(left)s was no longer in their balance and is not taken back.",
            taken=_money(m["taken"]),
            due=_money(m["due"]),
            left=_money(m["left"]),
        )
    return gettext(
        "Referral reward taken back from whoever referred this customer: %(taken)s of %(due)s.",
        taken=_money(m["taken"]),
        due=_money(m["due"]),
    )


NOTES_WITH_AMOUNTS = (
    (
        re.compile(
            r"Referral reward taken back from whoever referred this customer: (?P<taken>.+?) of (?P<due>.+?)"
            r"(?:; (?P<left>.+?) was no longer in their balance and is not taken back)?\."
        ),
        _referral_reward_taken_back,
    ),
    (re.compile(r"Card payment of (?P<amount>.+?) credited to account funds"), _card_payment_credited),
    (
        re.compile(r"Bank transfer of (?P<amount>.+?) received and credited to account funds"),
        _bank_transfer_credited,
    ),
    (
        re.compile(r"Paid (?P<funds>.+?) from account funds and (?P<credit>.+?) on account"),
        _paid_from_funds_and_credit,
    ),
    (re.compile(r"Paid (?P<funds>.+?) from account funds"), _paid_from_funds),
    (re.compile(r"Paid (?P<credit>.+?) on account"), _paid_on_account),
    (
        re.compile(
            r"The card refund of (?P<amount>.+?) was refused by the payment provider: (?P<reason>.*)", re.S
        ),
        _card_refund_refused,
    ),
    (re.compile(r"Refund of (?P<amount>.+?): (?P<parts>.+?)(?:\. Note: (?P<note>.*))?", re.S), _refund),
)


AMOUNT_NAMES = ("amount", "funds", "credit", "taken", "due", "left")


def _amounts(match):
    return [value for name, value in match.groupdict().items() if name in AMOUNT_NAMES]


def _minor_units(written):
    """An amount as format_money wrote it ("€1,234.50", "1 234,50 €") in minor units, or None when
    it doesn't read as one amount of the shop's currency."""
    digits = re.sub(r"[^\d.,]", "", written)
    if not digits or not re.search(r"\d", written) or len(re.findall(r"\d[^\d.,\s\u00a0\u202f]+\d", written)):
        return None
    precision = get_currency_precision(load_settings().currency)
    whole, fraction = digits, ""
    if precision:
        match = re.fullmatch(rf"(.*?)[.,](\d{{{precision}}})", digits)
        if match is None:
            return None
        whole, fraction = match.groups()
    whole = re.sub(r"[.,]", "", whole)
    if not whole.isdigit():
        return None
    return int(whole) * 10**precision + int(fraction or 0)


def _money(written):
    return format_money(_minor_units(written))


def discount_label(name):
    """The funds discount line's name ("Discount for paying with funds (2 %)", stored in English)
    in the reader's language, or None when `name` isn't one."""
    match = DISCOUNT_NAME.fullmatch(name or "")
    if match is None:
        return None
    return LazyString(_discount_text, match.group(1))


DISCOUNT_NAME = re.compile(r"Discount for paying with funds \(([\d.]+) %\)")


def _discount_text(percent):
    return gettext(
        "Discount for paying with funds (%(percent)s %%)",
        percent=format_decimal(Decimal(percent), locale=active_locale()),
    )


FUNDS, CARD, BANK = "funds", "card", "bank"
SHOP_CHANNEL = "shop"  # Order.channel of the shop's own orders; marketplaces have their own names


ADDRESS_PARTS = ("name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone")


class Order(BaseModel):
    user = ForeignKeyField(User, on_delete="RESTRICT", index=True, backref="orders")
    number = CharField(null=True, unique=True)
    status = CharField(default=PENDING_PAYMENT, index=True)
    channel = CharField(default=SHOP_CHANNEL, index=True)
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
    # The customer's language when the order was placed ("" before issue 23): its messages' language.
    language = CharField(max_length=8, default="")
    subtotal = IntegerField()
    funds_discount = IntegerField(default=0)
    total = IntegerField()
    funds_used = IntegerField(default=0)
    credit_used = IntegerField(default=0)
    card_amount = IntegerField(default=0)
    bank_amount = IntegerField(default=0)
    # What the customer paid on a marketplace (channel ≠ "shop"); it never went through the
    # shop's books, so no ledger movement matches it (models/marketplace/).
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
    # When the owner marked it delivered (a pickup: collected); ends the withdrawal period
    # (models/orders/withdrawal_period.py, migration 0040).
    delivered_at = DateTimeField(null=True)
    refunded = IntegerField(default=0)  # refunds made (paid or being paid), see models/refunds/orders.py
    # When the order's first email to its customer was queued: the receipt, the bank details, "your
    # card payment didn't go through" or "waiting for payment", whichever came first (messages.py).
    placed_email_at = DateTimeField(null=True)
    # The delivery method as chosen at checkout (models/storefront/delivery.py), copied: the method
    # may change or go. delivery_price is part of `total`; the order also has a "delivery" line.
    delivery_method_id = IntegerField(null=True)
    delivery_name = CharField(default="")
    delivery_price = IntegerField(default=0)
    delivery_estimate = CharField(default="")
    delivery_pickup = BooleanField(default=False)
    delivery_details = TextField(default="")  # a pickup's where and when, copied (migration 0031)
    delivery_max_days = IntegerField(null=True)  # the method's longest delivery time, copied (0040)
    # The terms of sale accepted at checkout (models/shop/legal.py `terms_version`); "" for orders
    # placed elsewhere (marketplace) or before migration 0041.
    terms_version = CharField(default="")

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
                    "delivery_price",
                ),
                False,
            ),
            (("placed_email_at", "status"), False),  # unpaid orders still without it (waiting_email.py)
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

    @property
    def has_delivery(self):
        """Whether the order was placed with a delivery method (shops without any have none)."""
        return bool(self.delivery_name)

    def address_lines(self, which):
        """The `which` (billing | shipping) address as the lines of an envelope, the country by its
        name in the shop's language ("United Kingdom", never "GB"): pages, invoices and emails."""
        values = {part: getattr(self, f"{which}_{part}") for part in ADDRESS_PARTS}
        parts = [
            values["name"],
            values["company"],
            values["line1"],
            values["line2"],
            " ".join(p for p in (values["city"], values["region"], values["postal_code"]) if p),
            country_name(values["country"]),
        ]
        return [p for p in parts if p]


class OrderLine(BaseModel):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="lines")
    product_id = IntegerField(index=True)  # a copy: the product may change or go
    name = CharField()
    unit_price = IntegerField()
    quantity = IntegerField()
    line_total = IntegerField()
    # product | delivery (the chosen method, its price; 0 when free) | discount (negative) |
    # shipping (a marketplace order's shipping cost)
    kind = CharField(default="product")
    # Why the product was excluded from the right of withdrawal when ordered ("" = it wasn't),
    # copied from Product.withdrawal_exclusion so a later change doesn't alter the order's rights.
    withdrawal_exclusion = CharField(default="")
    # A product line's VAT rate when the order was placed (basis points; None before VAT was
    # recorded, and on delivery, shipping and discount lines): models/orders/vat.py.
    vat_rate_bp = IntegerField(null=True)

    class Meta:
        table_name = "order_line"

    @property
    def label(self):
        """The line's name as people read it: a product's or delivery method's name as it was
        copied, the funds discount's in the reader's language (its stored name is English)."""
        if self.kind == "discount":
            return discount_label(self.name) or self.name
        return self.name


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


class DeliveryChanged(CartChanged):
    """The delivery chosen is not what the customer saw (gone, hidden, another price, not to there)."""


def hold_key(order, what):
    """The key of the order's `hold`, `capture` or `release` journal in its current round."""
    return journal_key(what, order.id, order.hold_round)


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
    return note_text(event.note) if event is not None else ""


def orders_of(user, limit=50, offset=0):
    return list(
        Order.select().where(Order.user == user).order_by(Order.id.desc()).limit(limit).offset(offset)
    )


def order_of(user, order_id):
    """The customer's own order, or None (another customer's id is simply not found)."""
    return Order.get_or_none((Order.id == order_id) & (Order.user == user))


def payment_of(order, payment_id):
    return OrderPayment.get_or_none((OrderPayment.id == payment_id) & (OrderPayment.order == order))


def products_of(lines):
    """{product id: Product} for the product lines still in the catalogue (for their pictures)."""
    ids = {line.product_id for line in lines if line.kind == "product"}
    return {product.id: product for product in Product.select().where(Product.id.in_(ids))} if ids else {}


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


def add_funds_discount(order, discount, basis_points):
    """The order's funds discount line grows by `discount` (created with the first one)."""
    line = OrderLine.get_or_none((OrderLine.order == order.id) & (OrderLine.kind == "discount"))
    if line is None:
        OrderLine.create(
            order=order,
            product_id=0,
            name=f"Discount for paying with funds ({basis_points / 100:g} %)",
            unit_price=-discount,
            quantity=1,
            line_total=-discount,
            kind="discount",
        )
        return
    OrderLine.update(
        unit_price=OrderLine.unit_price - discount, line_total=OrderLine.line_total - discount
    ).where(OrderLine.id == line.id).execute()
