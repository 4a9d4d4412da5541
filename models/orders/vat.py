"""The VAT an order records: one row per rate, computed once when the order is placed (issue 24).

Prices are VAT included. Each product line keeps a copy of its product's rate
(OrderLine.vat_rate_bp), so a later change to the shop's rates never rewrites an order.

How an order's total is split by rate (`record_order_vat`):

1. The goods' gross per rate: the product lines' totals grouped by rate.
2. Ancillary amounts take the goods' rates: the order's total minus its goods (delivery, a
   marketplace's shipping, minus the funds discount) is shared over the rates in proportion to
   their goods, by the largest remainder method, so the parts add up exactly to it. So Σ gross
   = order.total, to the cent.
3. Rounding is per rate, never per line: VAT = round_half_up(gross × rate / (10000 + rate)),
   base = gross − VAT. So base + VAT = gross for every rate, and Σ base + Σ VAT = total.

A shop in "VAT not applicable" mode (art. 293 B du CGI) records one row at rate 0 with no VAT,
so every order placed since this change has rows whose gross adds up to its total; orders placed
before have none (`order_vat_lines` is empty for them). Paying an unpaid order from the account
later can grow its funds discount (account_payment.py): the rows are written again from the
order's own lines and copied rates, never from the shop's rates of the day.

A refund or credit note is split the same way (`split_by_rate`): in proportion to the order's
gross per rate, largest remainder, VAT rounded per rate.
"""

from dataclasses import dataclass

from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.orders.order import Order
from models.orders.order import OrderLine
from models.shop.settings import load_settings
from models.shop.settings import VAT_INCLUDED


class OrderVat(BaseModel):
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True, backref="vat_rows")
    rate_bp = IntegerField()  # 2000 = 20 %; 0 in "VAT not applicable" mode
    gross = IntegerField()  # minor units, VAT included
    base = IntegerField()  # gross − vat
    vat = IntegerField()

    class Meta:
        table_name = "order_vat"
        indexes = ((("order", "rate_bp"), True),)


@dataclass(frozen=True)
class VatLine:
    rate_bp: int
    gross: int
    base: int
    vat: int


def vat_applies():
    """Whether the shop charges VAT (else "VAT not applicable, art. 293 B du CGI")."""
    return load_settings().vat_mode == VAT_INCLUDED


def vat_in(gross, rate_bp):
    """The VAT inside a VAT-included amount: round_half_up(gross × rate / (10000 + rate)).
    Half-up away from zero, so a negative amount (a refund) mirrors a positive one."""
    if gross < 0:
        return -vat_in(-gross, rate_bp)
    divisor = 10000 + rate_bp
    return (2 * gross * rate_bp + divisor) // (2 * divisor)


def vat_line(rate_bp, gross):
    vat = vat_in(gross, rate_bp)
    return VatLine(rate_bp=rate_bp, gross=gross, base=gross - vat, vat=vat)


def unit_price_without_vat(unit_price, rate_bp):
    """A VAT-included price without its VAT, rounded like the rows (an invoice line: display
    only; the order's VAT is worked out per rate, not from these)."""
    return unit_price - vat_in(unit_price, rate_bp)


def share(amount, weights):
    """`amount` shared in proportion to `weights` (non-negative, not all zero), in whole units
    that add up to it exactly: each gets its floor, the units left over go to the largest
    remainders (the earlier weight first on a tie)."""
    total = sum(weights)
    sign = -1 if amount < 0 else 1
    amount = abs(amount)
    floors = [amount * weight // total for weight in weights]
    left = amount - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [sign * part for part in floors]


def vat_lines_for(goods_by_rate, total):
    """[VatLine] of an order whose goods are `goods_by_rate` ({rate_bp: gross}) and whose total
    is `total`: the ancillary amounts shared in proportion, highest rate first."""
    rates = sorted(goods_by_rate, reverse=True)
    goods = [goods_by_rate[rate] for rate in rates]
    ancillary = share(total - sum(goods), goods)
    return [vat_line(rate, gross + extra) for rate, gross, extra in zip(rates, goods, ancillary, strict=True)]


def record_order_vat(order):
    """Write the order's VAT rows from its lines (call inside the write transaction that placed
    or changed the order). Lines without a rate are ancillary; goods without any rate (a
    marketplace order of free items) count at the highest rate of the order, else 0."""
    order = Order.get_by_id(order.id)
    goods_by_rate = {}
    for line in OrderLine.select().where(
        (OrderLine.order == order.id) & OrderLine.vat_rate_bp.is_null(False)
    ):
        goods_by_rate[line.vat_rate_bp] = goods_by_rate.get(line.vat_rate_bp, 0) + line.line_total
    rated = {rate: gross for rate, gross in goods_by_rate.items() if gross}
    if rated:
        lines = vat_lines_for(rated, order.total)
    else:  # nothing to weigh by: one rate takes it all
        lines = [vat_line(max(goods_by_rate, default=0), order.total)]
    OrderVat.delete().where(OrderVat.order == order.id).execute()
    OrderVat.insert_many(
        [
            {"order": order.id, "rate_bp": v.rate_bp, "gross": v.gross, "base": v.base, "vat": v.vat}
            for v in lines
        ]
    ).execute()


def line_rate_bp(rate_bp):
    """The rate a new order line copies: the product's, or 0 when VAT does not apply."""
    return rate_bp if vat_applies() else 0


def order_vat_lines(order):
    """[VatLine] the order recorded, highest rate first ([] for orders placed before VAT)."""
    rows = OrderVat.select().where(OrderVat.order == order.id).order_by(OrderVat.rate_bp.desc())
    return [VatLine(rate_bp=r.rate_bp, gross=r.gross, base=r.base, vat=r.vat) for r in rows]


def split_by_rate(order, amount):
    """[VatLine] of `amount` (a refund, a credit note) shared over the order's rates in
    proportion to their gross, exact to the cent, VAT rounded per rate ([] before VAT)."""
    return split_lines(order_vat_lines(order), amount)


def split_lines(lines, amount):
    """`amount` shared over VAT `lines` in proportion to their gross (all of it to the first
    line when none has any); [] without lines."""
    if not lines:
        return []
    weighed = [line for line in lines if line.gross > 0] or lines[:1]
    weights = [max(line.gross, 0) for line in weighed]
    if not any(weights):
        return [vat_line(weighed[0].rate_bp, amount)]
    parts = share(amount, weights)
    return [vat_line(line.rate_bp, part) for line, part in zip(weighed, parts, strict=True)]
