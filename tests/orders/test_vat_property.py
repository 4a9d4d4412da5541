"""VAT sums (models/orders/vat.py): an order's VAT lines, net and gross always add up to the cent.

Hypothesis draws carts over mixed rates and quantities, a delivery price and a funds discount (as
breakdown.py works it out: round_half_up of a share of the goods × the group's basis points), and
checks the rows against the rules, with the exact figures worked out here in Fraction:
Σ gross per rate = the order's total, base + VAT = gross per rate, Σ base + Σ VAT = total, every
part ≥ 0, the VAT of each rate within a cent of gross_exact × rate / (10000 + rate) where
gross_exact is the rate's goods plus its exact proportional share of the ancillary amounts, and a
refund split by rate adds up to the refund. The last test places real orders the same way.
"""

import itertools
from fractions import Fraction

from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.orders.breakdown import round_half_up_bp
from models.orders.vat import order_vat_lines
from models.orders.vat import split_by_rate
from models.orders.vat import split_lines
from models.orders.vat import vat_lines_for
from models.storefront.catalog import Product
from models.storefront.vat_rates import VatRate
from tests.factories import make_product
from tests.factories import placed_order

RATES = (2000, 1000, 550, 210, 0)

cart_lines = st.lists(
    st.tuples(st.sampled_from(RATES), st.integers(1, 50_000), st.integers(1, 20)), min_size=1, max_size=8
)


def goods_by_rate(lines):
    goods = {}
    for rate, price, quantity in lines:
        goods[rate] = goods.get(rate, 0) + price * quantity
    return goods


def check_rows(rows, goods, total):
    subtotal = sum(goods.values())
    assert sum(row.gross for row in rows) == total
    assert sum(row.base for row in rows) + sum(row.vat for row in rows) == total
    assert {row.rate_bp for row in rows} == set(goods)
    for row in rows:
        assert row.base + row.vat == row.gross
        assert row.gross >= 0 and row.base >= 0 and row.vat >= 0
        gross_exact = goods[row.rate_bp] + Fraction((total - subtotal) * goods[row.rate_bp], subtotal)
        assert abs(row.gross - gross_exact) < 1
        vat_exact = gross_exact * row.rate_bp / (10000 + row.rate_bp)
        assert abs(row.vat - vat_exact) <= 1


@given(
    lines=cart_lines,
    delivery=st.integers(0, 5_000),
    discount_bp=st.integers(0, 2_000),
    covered=st.fractions(0, 1),
    refund_share=st.fractions(0, 1),
)
def test_vat_lines_add_up_to_the_cent(lines, delivery, discount_bp, covered, refund_share):
    goods = goods_by_rate(lines)
    subtotal = sum(goods.values())
    discount = round_half_up_bp(int(subtotal * covered), discount_bp)  # on the goods funds covered
    total = subtotal + delivery - discount
    rows = vat_lines_for(goods, total)
    check_rows(rows, goods, total)
    assert [row.rate_bp for row in rows] == sorted(goods, reverse=True)

    refund = int(total * refund_share)
    parts = split_lines(rows, refund)
    assert sum(part.gross for part in parts) == refund
    for part in parts:
        assert part.base + part.vat == part.gross >= 0
        assert part.vat <= part.gross


@given(gross=st.integers(0, 10**9), rate=st.integers(0, 9999))
def test_the_vat_of_an_amount_is_the_exact_figure_rounded_half_up(gross, rate):
    (row,) = vat_lines_for({rate: gross or 1}, gross or 1)
    exact = Fraction((gross or 1) * rate, 10000 + rate)
    assert row.vat == int(exact + Fraction(1, 2))


_keys = itertools.count(1)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(st.sampled_from((2000, 1000, 550, 210)), st.integers(1, 20_000), st.integers(1, 4)),
        min_size=1,
        max_size=4,
    ),
    funds=st.integers(0, 30_000),
)
def test_placed_orders_record_rows_that_add_up(buyer, lines, funds):
    rates = {rate.rate_bp: rate for rate in VatRate.select()}
    cart = []
    for rate, price, quantity in lines:
        product = make_product(price=price, stock=100)
        Product.update(vat_rate=rates[rate]).where(Product.id == product.id).execute()
        cart.append((product, quantity))
    order = placed_order(buyer, *cart, key=f"order-key-vat-{next(_keys):08d}", funds=funds)
    rows = order_vat_lines(order)
    check_rows(rows, goods_by_rate([(r, p, q) for (r, p, q) in lines]), order.total)
    refund = order.total // 3
    assert sum(part.gross for part in split_by_rate(order, refund)) == refund
