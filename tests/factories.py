"""The tests' factories: plain functions that make the data tests need (fixtures, in the
conftest.py files, call them). They need the test's database: ask for `app`. Those that place
or pay an order also need a request context for the links in its emails
(`app.test_request_context()`).

Made the shop's way, through its own operations:
- `make_category`, `make_product`: the catalogue ("Tea 1", "Tea 2"… in Tea unless told);
- `fund`: a customer with a balance (a top-up through the ledger);
- `change_default_group`, `address`, `shop` (the cart), `place`: the steps of checkout;
- `placed_order`, `paid_order`: an order placed as checkout places it, and one paid in full.

Rows written straight to the tables, `new_…` (no cart, no ledger movements), which is
all the payment reminder rules and the reports read: customers, groups, orders
(awaiting payment, paid, cancelled), card payments and reminder rows. Every time is an
aware datetime, usually built in shop time with `local(…)`; it is stored as naive UTC
like everything else.

`monday(10, 5)` (Monday 23 November 2026, 10:05 shop time) is inside the default
10:00–11:00 window before the 11:00 dispatch; `long_ago()` is a creation time
(Sunday 15:00) that makes an order old enough and far from its automatic
cancellation (72 hours later) at that moment.
"""

import datetime
import itertools
import uuid

from models.accounts.addresses import add_address
from models.base import to_naive_utc
from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import CustomerGroup
from models.groups.group import new_member
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.placing import cart_fingerprint
from models.orders.placing import place_order
from models.reminders.records import CANCELLED as REMINDER_CANCELLED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import update_reminder_settings
from models.shop.settings import load_settings
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import CUSTOMER
from payments import PENDING
from payments import sandbox
from payments.sandbox import SandboxPayment

ORDER_KEY = "order-key-0000000001"  # the checkout form's idempotency key, unless told


# Made the shop's way ----------------------------------------------------------------------------


def make_category(name="Tea", slug=None):
    """The category `name` (its slug: the name in lower case), made unless it is there."""
    slug = slug or name.lower()
    return Category.get_or_none(Category.slug == slug) or Category.create(name=name, slug=slug)


def make_product(category=None, *, price=1000, stock=10, name=None, stem=None):
    """A product in `category` (default: Tea), in stock and at `price` (minor units).

    Named "<stem> n" with the slug "<stem>-n": the stem is the category's name unless told
    ("Book" in Books) and n counts the category's products, so a test's are "Tea 1", "Tea 2"…
    `name` replaces the name, not the slug.
    """
    category = category or make_category()
    stem = stem or category.name
    n = Product.select().where(Product.category == category).count() + 1
    return Product.create(
        name=name or f"{stem} {n}", slug=f"{stem.lower()}-{n}", price=price, stock=stock, category=category
    )


def fund(user, amount, key="seed"):
    """`amount` more on the customer's account: a top-up through the ledger (money the provider holds).

    The idempotency key is "<key>:<user id>": the same key twice for one customer moves the money once.
    """
    transfer(
        f"{key}:{user.id}",
        "top_up",
        [
            Leg(account_for(user), amount, "deposit"),
            Leg(system_account(PROVIDER_CLEARING), -amount, "deposit"),
        ],
    )


def change_default_group(**changes):
    """Change the default customer group (funds discount, paying on account…)."""
    CustomerGroup.update(**changes).where(CustomerGroup.is_default == True).execute()  # noqa: E712


def address(user):
    """A new address in the customer's book (Ann Buyer, 1 High St, Town T1 1AA, GB)."""
    return add_address(
        user,
        {
            "full_name": "Ann Buyer",
            "line1": "1 High St",
            "city": "Town",
            "postal_code": "T1 1AA",
            "country": "GB",
        },
    )


def shop(user, *lines):
    """Put (product, quantity) lines in the cart; returns what checkout shows (the fingerprint)."""
    for product, quantity in lines:
        add_to_cart(product.id, quantity, user=user)
    return cart_fingerprint(cart_summary(find_cart(user)))


def place(user, seen, key=ORDER_KEY, **kwargs):
    """Place the cart checkout showed (`seen`), to a new address; kwargs go to place_order."""
    where = address(user)
    return place_order(user, key, seen, where, where, **kwargs)


def placed_order(user, *lines, key=ORDER_KEY, funds=0, **kwargs):
    """An order placed as checkout places it: the (product, quantity) lines in the cart, a new address.

    `funds` are topped up first (key "seed-<key>"); kwargs go to place_order (method, use_credit…).
    """
    if funds:
        fund(user, funds, key=f"seed-{key}")
    return place(user, shop(user, *lines), key=key, **kwargs)


def paid_order(user, *lines, funds=0, key=ORDER_KEY, pay_key="pay-key-000000000001"):
    """An order paid in full: `funds` from the balance (topped up first), the rest by card,
    approved at the sandbox provider. Returns the order as it is now."""
    order = placed_order(user, *lines, key=key, funds=funds, method=CARD)
    if order.status != PAID:
        payment = start_card_payment(order, pay_key)
        sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == payment.provider_payment_id), "approve")
        complete_card_payment(payment)
    order = Order.get_by_id(order.id)
    assert order.status == PAID, order.status
    return order


# Rows written straight to the tables ------------------------------------------------------------

MARKETPLACE = "marketplace-x"
_serial = itertools.count(1)


def tz():
    return load_settings().tz


def local(year, month, day, hour=0, minute=0, second=0, fold=0):
    """An aware datetime in the shop's time zone."""
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=tz(), fold=fold)


def monday(hour=10, minute=5):
    """Monday 23 November 2026 at hour:minute, shop time."""
    return local(2026, 11, 23, hour, minute)


def long_ago():
    """Sunday 22 November 2026, 15:00 shop time: an order placed then is old enough on Monday."""
    return local(2026, 11, 22, 15, 0)


def _unique():
    return f"{next(_serial)}-{uuid.uuid4().hex[:8]}"


def new_customer(group=None, opted_out_at=None, first_name="Rena", **fields):
    """A customer (no password); in the default group unless `group` (a CustomerGroup) is given."""
    if group is not None:
        fields["group"] = group
    return new_member(
        email=f"reminded-{_unique()}@example.com",
        role=CUSTOMER,
        first_name=first_name,
        last_name="Tester",
        reminders_opted_out_at=to_naive_utc(opted_out_at) if opted_out_at else None,
        **fields,
    )


def new_group(reminders_enabled=True):
    return CustomerGroup.create(name=f"Group {_unique()}", reminders_enabled=reminders_enabled)


def new_order(
    customer,
    created_at=None,
    *,
    status=PENDING_PAYMENT,
    channel="shop",
    paid_at=None,
    cancelled_at=None,
    auto_cancel_at="72 hours",
    total=2500,
):
    """An order row as placing one leaves it, awaiting payment by bank transfer unless told otherwise.

    `auto_cancel_at` defaults to 72 hours after `created_at` for an order awaiting payment (the
    shop's default) and to None otherwise; pass an aware datetime or None to choose.
    """
    created_at = created_at or long_ago()
    if auto_cancel_at == "72 hours":
        auto_cancel_at = created_at + datetime.timedelta(hours=72) if status == PENDING_PAYMENT else None
    number = f"R{_unique()}"
    return Order.create(
        user=customer,
        number=number,
        status=status,
        channel=channel,
        external_ref=None if channel == "shop" else f"EXT-{number}",
        payment_method=BANK,
        currency=load_settings().currency,
        subtotal=total,
        total=total,
        bank_amount=total if channel == "shop" else 0,
        marketplace_amount=0 if channel == "shop" else total,
        idempotency_key=f"reminder-test-{number}",
        created_at=to_naive_utc(created_at),
        local_date=created_at.astimezone(tz()).date(),
        auto_cancel_at=to_naive_utc(auto_cancel_at) if auto_cancel_at else None,
        paid_at=to_naive_utc(paid_at) if paid_at else None,
        cancelled_at=to_naive_utc(cancelled_at) if cancelled_at else None,
    )


def new_paid_order(customer, paid_at, created_at=None, channel="shop"):
    """An order the customer paid at `paid_at` (placed an hour earlier unless told)."""
    created_at = created_at or paid_at - datetime.timedelta(hours=1)
    return new_order(customer, created_at, status=PAID, paid_at=paid_at, channel=channel)


def new_sale(
    customer,
    paid_at,
    *,
    goods=2500,
    delivery=0,
    discount=0,
    paid_by=None,
    channel="shop",
    status=PAID,
    created_at=None,
):
    """A paid order row with its goods (subtotal), delivery price and funds discount, paid at
    `paid_at` (placed an hour earlier unless told).

    `paid_by` ({"funds_used": …, "credit_used": …, "card_amount": …, "bank_amount": …,
    "marketplace_amount": …}, parts left out are 0) must add up to the total, goods + delivery −
    discount; by default it is all by bank transfer (all on the marketplace for another channel).
    """
    total = goods + delivery - discount
    created_at = created_at or paid_at - datetime.timedelta(hours=1)
    order = new_order(customer, created_at, status=status, channel=channel, paid_at=paid_at, total=total)
    parts = dict.fromkeys(
        ("funds_used", "credit_used", "card_amount", "bank_amount", "marketplace_amount"), 0
    )
    parts.update(paid_by or {("bank_amount" if channel == "shop" else "marketplace_amount"): total})
    assert sum(parts.values()) == total, (parts, total)
    Order.update(subtotal=goods, delivery_price=delivery, funds_discount=discount, **parts).where(
        Order.id == order.id
    ).execute()
    return Order.get_by_id(order.id)


def new_cancelled_order(customer, cancelled_at, created_at=None):
    created_at = created_at or cancelled_at - datetime.timedelta(hours=1)
    return new_order(customer, created_at, status=CANCELLED, cancelled_at=cancelled_at)


def new_card_payment(order, created_at, provider_payment_id=True, state=PENDING):
    """A card payment of `order` started at `created_at` (with the provider's id unless told)."""
    key = _unique()
    return OrderPayment.create(
        order=order,
        user=order.user_id,
        amount=order.total,
        currency=order.currency,
        state=state,
        provider="sandbox",
        provider_payment_id=f"test-payment-{key}" if provider_payment_id else None,
        idempotency_key=f"reminder-test-payment-{key}",
        created_at=to_naive_utc(created_at),
        updated_at=to_naive_utc(created_at),
    )


def reminder_row(order, at, state=SENT, number=None, window_minutes=60):
    """A reminder about `order` decided at `at`, in a batch of its own (a window ending after `at`).

    `number` defaults to the next one for the order among rows that count.
    """
    if number is None:
        number = (
            Reminder.select()
            .where((Reminder.order == order.id) & (Reminder.state != REMINDER_CANCELLED))
            .count()
            + 1
        )
    local_at = at.astimezone(tz())
    batch = ReminderBatch.create(
        window_key=f"test:{_unique()}",
        mode="dispatch",
        window_start=to_naive_utc(at - datetime.timedelta(minutes=5)),
        window_end=to_naive_utc(at + datetime.timedelta(minutes=window_minutes)),
        dispatch_at=None,
        local_date=local_at.date(),
        planned_at=to_naive_utc(at),
        finished_at=to_naive_utc(at) if state != "planned" else None,
    )
    return Reminder.create(
        batch=batch,
        user=order.user_id,
        order=order.id,
        segment="new",
        template="new",
        reminder_number=number,
        local_date=local_at.date(),
        state=state,
        planned_at=to_naive_utc(at),
        decided_at=to_naive_utc(at) if state != "planned" else None,
    )


def set_reminder_settings(**changes):
    """Change the reminder settings (the owner's way); returns the fresh row."""
    return update_reminder_settings(changes)


def reasons(the_plan):
    """{order id: reason, or "reminded"} for every order in the plan."""
    result = {item.order_id: item.reason for item in the_plan.excluded}
    for item in the_plan.reminders:
        assert item.order_id not in result, f"order {item.order_id} both reminded and excluded"
        result[item.order_id] = "reminded"
    return result


def reminded(the_plan):
    """{order id: Planned}."""
    return {item.order_id: item for item in the_plan.reminders}
