"""Placing an order (models.orders.placing.place_order) against an independent model of its rules.

Hypothesis draws a catalogue and a cart, the customer's balance (owing, nothing
or in credit), credit limit, the group's funds discount and whether it allows
paying on account, how much of the funds the customer asks to use (all, a share,
or any number, valid or not), whether to use credit, card or bank transfer, and
whether the order is then paid by card or cancelled. The breakdown is checked
against the module's rules, computed here with Decimal rather than the module's
own helpers: covering order value V with positive balance costs
V − round_half_up(V × bp / 10000), the value covered is the largest the funds
pay for, credit covers what it can of the rest when asked, and card or bank the
remainder. After paying or cancelling, the ledger check passes and nothing is
left on hold.

On SQLite every example gets its own copy of the migrated template database
(as tests/funds/test_ledger_model.py does), so each starts from a shop with no money
on hold; on PostgreSQL the examples share the test's database with a fresh
customer each and the hold is compared with where the example began.
"""

import itertools
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from decimal import Decimal
from decimal import ROUND_HALF_UP
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.accounts.administration import create_user
from models.base import bind_database
from models.base import db
from models.base import is_sqlite
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import check_ledger
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.group import CustomerGroup
from models.orders.breakdown import quote
from models.orders.cancelling import cancel_order
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.order import BANK
from models.orders.order import CANCELLED
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderError
from models.orders.order import PAID
from models.orders.order import payments_total
from models.orders.order import PENDING_PAYMENT
from models.orders.placing import cart_fingerprint
from models.orders.placing import place_order
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_summary
from models.storefront.cart import CartLine
from models.storefront.cart import find_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from tests.factories import address
from tests.factories import fund

_names = itertools.count(1)


# The rules, written independently of models/orders/ ---------------------------------------


def discount_of(value, bp):
    """round_half_up(value × bp / 10000), by Decimal."""
    return int((Decimal(value) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cost_of(value, bp):
    """What covering order value `value` with positive balance costs."""
    return value - discount_of(value, bp)


# What Hypothesis draws -------------------------------------------------------------------------

line = st.integers(1, 20_000).flatmap(  # price, stock, quantity (at most the stock)
    lambda price: st.integers(1, 5).flatmap(
        lambda stock: st.tuples(st.just(price), st.just(stock), st.integers(1, stock))
    )
)
# Up to 50 %, the most the group form allows (see test_no_discount_without_funds_from_half_price_up).
basis_points = st.one_of(
    st.integers(0, 5000), st.sampled_from([0, 1, 250, 1000, 2500, 4999, 5000])
)  # the form allows 50 % at most
# A balance, or one that just covers the order's funds cost, or a cent either side of it.
balances = st.one_of(st.integers(-60_000, 120_000), st.sampled_from(["exact", "exact-1", "exact+1"]))
# None: as much as possible; a float: that share of the most; an int: typed as is (maybe refused).
funds_choices = st.one_of(st.none(), st.floats(0, 1), st.integers(-5, 130_000))


@contextmanager
def own_database(template, workdir):
    """The example's own copy of the migrated template (SQLite); elsewhere the test's database."""
    if template is None:
        yield False
        return
    shared = db.obj
    path = workdir / f"example-{uuid.uuid4().hex}.sqlite3"
    shutil.copy(template, path)
    bind_database(f"sqlite:///{path}")
    db.connect()
    try:
        yield True
    finally:
        db.close()
        db.initialize(shared)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def held():
    return system_account(FUNDS_ON_HOLD).balance


def set_up_customer(bp, pay_on_account, limit, start, subtotal):
    """A fresh customer in the default group as drawn, with `start` on their account
    (a debt when negative: the limit is raised to cover it). Returns (customer, limit, start)."""
    CustomerGroup.update(funds_discount_bp=bp, pay_on_account=pay_on_account).where(
        CustomerGroup.is_default == True  # noqa: E712
    ).execute()
    customer = create_user(f"prop{next(_names)}-{uuid.uuid4().hex[:8]}@example.com", password=None)
    if isinstance(start, str):
        exact = cost_of(subtotal, bp)
        start = max(0, exact + {"exact": 0, "exact-1": -1, "exact+1": 1}[start])
    limit = max(limit, -start)
    set_credit_limit(customer, limit)
    if start > 0:
        fund(customer, start)
    elif start < 0:  # an earlier purchase on account
        legs = [Leg(account_for(customer), start, "spend"), Leg(system_account(SALES), -start, "spend")]
        transfer(f"earlier-order:{customer.id}", "order", legs)
    assert account_for(customer).balance == start
    return customer, limit, start


def fill_cart(customer, lines):
    category = Category.create(name=f"Cat {next(_names)}", slug=f"cat-{uuid.uuid4().hex[:10]}")
    products = []
    for price, stock, quantity in lines:
        n = next(_names)
        product = Product.create(
            name=f"Thing {n}",
            slug=f"thing-{n}-{uuid.uuid4().hex[:6]}",
            price=price,
            stock=stock,
            category=category,
        )
        add_to_cart(product.id, quantity, user=customer)
        products.append((product, stock, quantity))
    return products, cart_fingerprint(cart_summary(find_cart(customer)))


# The property --------------------------------------------------------------------------------------


@pytest.fixture
def run_examples(app, template_database, tmp_path):
    """Run `body(fresh)` in the app's request context on the example's own database.

    The copies live in /dev/shm when there is one: each commit waits for its fsync
    (synchronous=FULL), which on disk made a failing run shrink for minutes.
    """
    template = template_database if is_sqlite() else None
    shm = Path("/dev/shm")  # noqa: S108 - only a private TemporaryDirectory is made in it
    use_shm = shm.is_dir() and os.access(shm, os.W_OK)
    with tempfile.TemporaryDirectory(dir=shm if use_shm else tmp_path) as workdir:

        def run(body):
            with app.test_request_context(), own_database(template, Path(workdir)) as fresh:
                body(fresh)

        yield run


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(line, min_size=1, max_size=4),
    start=balances,
    limit=st.integers(0, 60_000),
    bp=basis_points,
    pay_on_account=st.booleans(),
    funds_choice=funds_choices,
    use_credit=st.booleans(),
    method=st.sampled_from([CARD, BANK]),
    then=st.sampled_from(["pay", "cancel"]),
)
def test_placing_paying_and_cancelling_orders_keep_the_rules(
    run_examples, lines, start, limit, bp, pay_on_account, funds_choice, use_credit, method, then
):
    run_examples(
        lambda fresh: _example(
            fresh, lines, start, limit, bp, pay_on_account, funds_choice, use_credit, method, then
        )
    )


def _example(fresh, lines, start, limit, bp, pay_on_account, funds_choice, use_credit, method, then):
    subtotal = sum(price * quantity for price, _, quantity in lines)
    customer, limit, start = set_up_customer(bp, pay_on_account, limit, start, subtotal)
    products, seen = fill_cart(customer, lines)
    hold_before, sales_before = held(), system_account(SALES).balance
    assert hold_before == 0 or not fresh

    # The model: what the customer may use, and what they asked for.
    funds_available = max(0, start)
    credit_available = (max(0, start + limit) - funds_available) if pay_on_account else 0
    funds_max = min(funds_available, cost_of(subtotal, bp))
    if funds_choice is None:
        wanted, asked = funds_max, None
    elif isinstance(funds_choice, float):
        wanted = asked = int(funds_max * funds_choice)
    else:
        wanted = asked = funds_choice
    where = address(customer)

    def place():
        return place_order(
            customer, "property-order-key-01", seen, where, where, asked, use_credit, method=method
        )

    if not 0 <= wanted <= funds_max:
        with pytest.raises(OrderError) as refused:
            place()
        assert refused.value.field == "funds"
        # Nothing half done: no order, no hold, the stock and the cart as they were.
        assert not Order.select().where(Order.user == customer).exists()
        assert account_for(customer).balance == start and held() == hold_before
        assert [Product.get_by_id(p.id).stock for p, _, _ in products] == [s for _, s, _ in products]
        assert CartLine.select().where(CartLine.cart == find_cart(customer)).count() == len(lines)
        assert check_ledger() == []
        return

    order = place()

    # The breakdown.
    covered = order.funds_used + order.funds_discount  # the order value the funds paid for
    assert 0 <= covered <= subtotal
    assert cost_of(covered, bp) <= wanted  # the funds pay for it…
    # …and for no more (no funds cover nothing, even a first cent that would round to free)
    assert covered == subtotal or (wanted == 0 and covered == 0) or cost_of(covered + 1, bp) > wanted
    assert order.funds_used == cost_of(covered, bp)
    assert order.funds_discount == discount_of(covered, bp) >= 0
    assert order.funds_used <= funds_available
    assert order.funds_used > 0 or order.funds_discount == 0  # no funds, no discount
    assert order.subtotal == subtotal
    assert order.total == subtotal - order.funds_discount
    rest = order.total - order.funds_used
    assert order.credit_used == (min(rest, credit_available) if use_credit else 0)
    remainder = rest - order.credit_used
    assert (order.card_amount, order.bank_amount) == ((remainder, 0) if method == CARD else (0, remainder))
    assert order.funds_used + order.credit_used + order.card_amount + order.bank_amount == order.total
    assert payments_total(order) == order.total
    assert sum(line.line_total for line in order.lines) == order.total

    # The money: held (or already captured when nothing else is due), never beyond the limit.
    after_placing = start - order.funds_used - order.credit_used
    account = account_for(customer)
    assert account.balance == after_placing >= -limit
    assert order.status == (PAID if remainder == 0 else PENDING_PAYMENT)
    assert held() == hold_before + (order.held if order.status == PENDING_PAYMENT else 0)
    assert [Product.get_by_id(p.id).stock for p, _, _ in products] == [s - q for _, s, q in products]
    assert place().id == order.id and held() == hold_before + (order.held if remainder else 0)  # a resubmit

    # Then paid by card (a bank order switches to card) or cancelled.
    if order.status == PENDING_PAYMENT and then == "pay":
        payment = start_card_payment(order, "property-pay-key-0001")
        assert payment.amount == remainder
        complete_card_payment(payment)
    elif order.status == PENDING_PAYMENT:
        assert cancel_order(order, customer, "changed my mind")
    else:
        assert not cancel_order(order, customer)  # paid is paid
    order = Order.get_by_id(order.id)
    paid = order.status == PAID
    assert order.status == (PAID if remainder == 0 or then == "pay" else CANCELLED)
    assert payments_total(order) == order.total
    assert account_for(customer).balance == (after_placing if paid else start)
    assert system_account(SALES).balance == sales_before + (order.total if paid else 0)
    stocks = [Product.get_by_id(p.id).stock for p, _, _ in products]
    assert stocks == [s - q if paid else s for _, s, q in products]
    assert held() == hold_before == (0 if fresh else hold_before)
    assert check_ledger() == []


# Found by the property: a high discount used to give a discount without funds ---------------------


@pytest.mark.parametrize("bp", [5000, 10000])
def test_no_discount_without_funds_from_half_price_up(app, bp):

    with app.test_request_context():
        customer, _, _ = set_up_customer(bp, False, 0, 0, 1000)
        breakdown = quote(customer, 1000)
    assert breakdown.funds_used == 0
    assert breakdown.discount == 0
