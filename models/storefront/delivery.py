"""Delivery methods: how an order reaches the customer, and what that costs.

The owner defines them (Admin → Delivery): a name, a price, free from a goods value, the
countries served (none listed: every country), an estimate shown to the customer ("2–4 working
days"), and whether it is a pickup at the shop (no delivery address needed; `details` says where
and when to collect). An order keeps a copy of the method it was placed with (Order.delivery_*),
so later changes never rewrite it.

The rules, in one place (`offers_for`), used by the cart's estimate, the checkout's choice and
placing the order:

- Only active (shown) methods are offered, in the owner's order (position, then name).
- A method is offered for a country when its list is empty (every country) or names it; the
  cart and checkout never show a method the customer cannot use.
- A pickup is offered whenever it is active, whatever the country (the customer comes to the
  shop); with no delivery address at all, only pickups are offered.
- The price is the method's price, or 0 when the goods value (the cart's subtotal, before the
  funds discount and without delivery) is at or above `free_above`.
- A shop with no active method at all has no delivery step: checkout places orders without one,
  as before delivery methods existed (`delivery_in_use`).

Money: delivery is paid at face value. The funds discount applies to goods only (funds pay the
goods first, and the delivery after them at its price: models/orders/breakdown.py). An order
refund may include delivery: the refund cap is the order's total, which includes it
(models/refunds/orders.py). Marketplace orders have no delivery method (delivery_price 0; their
shipping is a "shipping" line of their own total). Reports read Order.delivery_price to show
delivery apart from the goods; the order-value report counts goods only.
"""

from dataclasses import dataclass

from flask_babel import gettext
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit
from models.shop.language import active_locale
from models.shop.language import format_money
from models.values import country_names
from models.values import MONEY_MAX

NAME_MAX = 60
ESTIMATE_MAX = 60
DETAILS_MAX = 500
MAX_DAYS = 90


class DeliveryMethod(BaseModel):
    name = CharField()
    price = IntegerField(default=0)  # minor units
    free_above = IntegerField(null=True)  # goods value from which it costs nothing; None: never free
    countries = CharField(default="")  # ISO codes separated by spaces; "" = every country
    estimate = CharField(default="")  # "2–4 working days", shown as written
    pickup = BooleanField(default=False)
    details = TextField(default="")  # a pickup's where and when (migration 0031)
    # The longest delivery time in days (migration 0040): a dispatched order not marked delivered
    # counts as delivered this many days after dispatch (models/orders/withdrawal_period.py).
    max_days = IntegerField(null=True)
    active = BooleanField(default=True, index=True)
    position = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "delivery_method"

    @property
    def country_codes(self):
        return self.countries.split()

    def serves(self, country):
        """Whether the method can be used for a delivery address in `country` ("" = no address)."""
        if self.pickup:
            return True
        if not country:
            return False
        return not self.countries or country in self.country_codes

    def price_for(self, goods_value):
        if self.free_above is not None and goods_value >= self.free_above:
            return 0
        return self.price


@dataclass(frozen=True)
class Offer:
    """A method as offered for one country and goods value: what the customer sees and pays."""

    method_id: int
    name: str
    price: int  # for this goods value (0 when free)
    regular_price: int
    free_above: int | None
    estimate: str
    pickup: bool
    details: str
    max_days: int | None = None

    @classmethod
    def of(cls, method, goods_value):
        return cls(
            method_id=method.id,
            name=method.name,
            price=method.price_for(goods_value),
            regular_price=method.price,
            free_above=method.free_above,
            estimate=method.estimate,
            pickup=method.pickup,
            details=method.details,
            max_days=method.max_days,
        )


class DeliveryInvalid(Exception):
    """Changes that break a delivery rule: {field name: message for the person typing}."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class DeliveryUnavailable(Exception):
    """The delivery the customer chose can't be used as they saw it; the message is for them."""


# Reading ------------------------------------------------------------------------


def _in_order(query):
    return query.order_by(DeliveryMethod.position, DeliveryMethod.name, DeliveryMethod.id)


def all_methods():
    """Every method, shown and hidden, in the owner's order (the admin page)."""
    return list(_in_order(DeliveryMethod.select()))


def active_methods():
    return list(_in_order(DeliveryMethod.select().where(DeliveryMethod.active)))


def delivery_in_use():
    """Whether the shop has any active method: without one checkout has no delivery step."""
    return DeliveryMethod.select().where(DeliveryMethod.active).exists()


def offers_for(country, goods_value):
    """[Offer] of the active methods that serve `country` ("" = no delivery address: pickups
    only), priced for `goods_value`, in the owner's order. The one rule for cart, checkout and
    placing."""
    return [Offer.of(method, goods_value) for method in active_methods() if method.serves(country)]


def country_label(code):
    """A country's name in the shop's language ("" stays "")."""
    if not code:
        return ""
    return country_names(active_locale()).get(code, code)


@dataclass(frozen=True)
class Estimate:
    """What the cart says about delivery to one country."""

    country: str
    cheapest: Offer | None  # the cheapest delivered (not pickup) offer for this goods value
    free_from: int | None  # the lowest goods value from which a delivered offer is free, if above now
    pickup: Offer | None  # the first pickup, if there is one

    @property
    def country_name(self):
        return country_label(self.country)

    @property
    def serves(self):
        return self.cheapest is not None or self.pickup is not None


def estimate_for(country, goods_value):
    """The cart's delivery estimate for `country`, or None when the shop has no delivery step."""
    offers = offers_for(country, goods_value)
    if not offers and not delivery_in_use():
        return None
    delivered = [offer for offer in offers if not offer.pickup]
    cheapest = min(delivered, key=lambda offer: offer.price, default=None)
    thresholds = [
        offer.free_above
        for offer in delivered
        if offer.price and offer.free_above is not None and offer.free_above > goods_value
    ]
    free_from = min(thresholds) if thresholds and cheapest is not None and cheapest.price else None
    pickup = next((offer for offer in offers if offer.pickup), None)
    return Estimate(country=country, cheapest=cheapest, free_from=free_from, pickup=pickup)


def offers_fingerprint(offers):
    """The offers as the checkout page showed them, 'method:price' joined by commas (a hidden field)."""
    return ",".join(f"{offer.method_id}:{offer.price}" for offer in offers)


def parse_offers_fingerprint(text):
    seen = {}
    for part in (text or "").split(","):
        try:
            method_id, price = (int(x) for x in part.split(":"))
        except ValueError:
            continue
        seen[method_id] = price
    return seen


def checked_offer(method_id, country, goods_value, seen_prices):
    """The offer the customer chose, as it is now, when it is still what they saw.

    Raises DeliveryUnavailable when the method is gone or hidden, doesn't serve `country` (the
    delivery address's; "" = none), or costs other than the page showed (`seen_prices`, from
    `parse_offers_fingerprint`)."""
    method = DeliveryMethod.get_or_none(DeliveryMethod.id == method_id) if method_id else None
    if method is None or not method.active:
        raise DeliveryUnavailable(
            gettext("The delivery method you chose is no longer offered. Please choose another one.")
        )
    if not method.serves(country):
        if not country:
            raise DeliveryUnavailable(
                gettext("%(method)s needs a delivery address. Please choose one.", method=method.name)
            )
        raise DeliveryUnavailable(
            gettext(
                "%(method)s doesn't deliver to %(country)s. Please choose another delivery method or address.",
                method=method.name,
                country=country_label(country),
            )
        )
    offer = Offer.of(method, goods_value)
    shown = seen_prices.get(method.id)
    if shown is None:
        raise DeliveryUnavailable(
            gettext("Please check the delivery of your order again: %(method)s changed.", method=method.name)
        )
    if shown != offer.price:
        raise DeliveryUnavailable(
            gettext(
                "The delivery price of %(method)s changed from %(before)s to %(after)s. "
                "Please check your order again.",
                method=method.name,
                before=format_money(shown),
                after=format_money(offer.price),
            )
        )
    return offer


# The owner's changes --------------------------------------------------------------


def _snapshot(method):
    return {
        "name": method.name,
        "price": method.price,
        "free_above": method.free_above,
        "countries": method.countries,
        "estimate": method.estimate,
        "pickup": method.pickup,
        "details": method.details,
        "max_days": method.max_days,
        "active": method.active,
    }


def problems_of(fields):
    """{field: message} of every rule the owner's `fields` break (none: {})."""
    try:
        _checked(fields)
    except DeliveryInvalid as invalid:
        return invalid.errors
    return {}


def _checked(fields):
    """The columns to store from the owner's `fields`, or DeliveryInvalid with every problem."""
    errors = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = gettext("Give the method a name, like Standard delivery.")
    elif len(name) > NAME_MAX:
        errors["name"] = gettext("Use at most %(number)s characters.", number=NAME_MAX)
    price = fields.get("price")
    if price is None:
        errors["price"] = gettext("Enter a price, like 4.90, or 0 if it is free.")
    elif not 0 <= price <= MONEY_MAX:
        errors["price"] = gettext("Enter a price from 0 to 1,000,000.")
    free_above = fields.get("free_above")
    if free_above is not None and not 0 < free_above <= MONEY_MAX:
        errors["free_above"] = gettext("Enter an order value above zero, or leave it empty.")
    pickup = bool(fields.get("pickup"))
    codes = sorted(set(fields.get("countries") or []))
    known = country_names(active_locale())
    if any(code not in known for code in codes):
        errors["countries"] = gettext("Choose countries from the list.")
    if pickup:
        codes = []  # a pickup is offered wherever the customer lives
    elif fields.get("everywhere") is False and not codes:
        errors["countries"] = gettext("Choose at least one country, or choose every country.")
    elif fields.get("everywhere"):
        codes = []
    estimate = (fields.get("estimate") or "").strip()
    if len(estimate) > ESTIMATE_MAX:
        errors["estimate"] = gettext("Use at most %(number)s characters.", number=ESTIMATE_MAX)
    details = (fields.get("details") or "").strip()
    if len(details) > DETAILS_MAX:
        errors["details"] = gettext("Keep it under %(number)s characters.", number=DETAILS_MAX)
    if pickup and not details:
        errors["details"] = gettext("Say where and when customers collect their order.")
    max_days = fields.get("max_days")
    if max_days is not None and not 0 < max_days <= MAX_DAYS:
        errors["max_days"] = gettext("Enter a number of days from 1 to %(number)s.", number=MAX_DAYS)
    if errors:
        raise DeliveryInvalid(errors)
    return {
        "name": name,
        "price": price,
        "free_above": free_above,
        "countries": " ".join(codes),
        "estimate": estimate,
        "pickup": pickup,
        "details": details if pickup else "",
        "max_days": max_days,
    }


def next_position():
    return (DeliveryMethod.select(fn.MAX(DeliveryMethod.position)).scalar() or 0) + 10


def create_method(fields, actor):
    """A new method, shown at once unless `fields["active"]` is False; audited."""
    with write_transaction():
        columns = _checked(fields)
        method = DeliveryMethod.create(
            **columns, active=fields.get("active", True) is not False, position=next_position()
        )
        audit(actor, "delivery_method_created", f"delivery method {method.id}", after=_snapshot(method))
    return method


def update_method(method, fields, actor):
    with write_transaction():
        method = DeliveryMethod.get_by_id(method.id)
        columns = _checked(fields)
        before = _snapshot(method)
        for name, value in columns.items():
            setattr(method, name, value)
        method.updated_at = utcnow()
        method.save()
        after = _snapshot(method)
        if after != before:
            audit(
                actor, "delivery_method_changed", f"delivery method {method.id}", before=before, after=after
            )
    return method


def set_method_active(method, active, actor):
    """Show or hide a method at checkout (orders placed with it keep their copy)."""
    with write_transaction():
        changed = DeliveryMethod.update(active=active, updated_at=utcnow()).where(
            (DeliveryMethod.id == method.id) & (DeliveryMethod.active != active)
        )
        if changed.execute():
            audit(
                actor,
                "delivery_method_shown" if active else "delivery_method_hidden",
                f"delivery method {method.id}",
                before={"active": not active},
                after={"active": active},
            )
    return DeliveryMethod.get_by_id(method.id)


def move_method(method, step, actor):
    """Move a method one place up (step -1) or down (+1) in the owner's order; audited."""
    with write_transaction():
        methods = all_methods()
        ids = [m.id for m in methods]
        index = ids.index(method.id)
        other = index + step
        if not 0 <= other < len(methods):
            return method
        methods[index], methods[other] = methods[other], methods[index]
        for position, row in enumerate(methods, start=1):
            if row.position != position * 10:
                DeliveryMethod.update(position=position * 10).where(DeliveryMethod.id == row.id).execute()
        audit(
            actor,
            "delivery_method_moved",
            f"delivery method {method.id}",
            before={"position": index + 1},
            after={"position": other + 1},
        )
    return DeliveryMethod.get_by_id(method.id)
