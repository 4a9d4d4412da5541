"""How an order is paid: the funds discount, and the split between funds, credit and the rest.

The funds discount (the group's funds_discount_bp) applies to the part of the
goods covered by positive balance only: covering goods value V costs
V − round_half_up(V × bp / 10000). It is a negative order line, not a ledger
movement.

Delivery (models/storefront/delivery.py) is paid at face value, never discounted: funds pay the
goods first (earning the discount), then the delivery at its price; credit and card or bank
transfer pay what is left. So the discount is at most round_half_up(subtotal × bp / 10000)
whatever the delivery costs, the order total is subtotal + delivery − discount, and funds +
credit + card + bank always add up to that total. Paying an unpaid order from the account later
(account_payment.py) follows the same rule: the goods that funds have not covered yet can earn
the discount, the delivery in what is due cannot.
"""

from dataclasses import dataclass

from flask_babel import gettext

from models.funds.customer_accounts import account_for
from models.groups.group import settings_for
from models.orders.order import OrderError
from models.shop.language import format_money


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
    delivery: int = 0  # the delivery price, paid at face value (part of the total)

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


def quote(user, subtotal, funds_wanted=None, use_credit=False, delivery=0):
    """The breakdown of an order of goods worth `subtotal` and `delivery` when the customer uses
    `funds_wanted` of their balance (None: as much as possible) and credit if `use_credit`.
    Raises OrderError(field=…)."""
    basis_points = settings_for(user).funds_discount_bp
    funds_available, credit_available = available(user)
    goods_cost = funds_cost(subtotal, basis_points)
    funds_max = min(funds_available, goods_cost + delivery)
    if funds_wanted is None:
        funds_wanted = funds_max
    if funds_wanted < 0:
        raise OrderError(gettext("Enter an amount of 0 or more."), "funds")
    if funds_wanted > funds_available:
        raise OrderError(
            gettext(
                "You have %(amount)s of funds to use; enter at most that.",
                amount=format_money(funds_available),
            ),
            "funds",
        )
    if funds_wanted > funds_max:
        raise OrderError(
            gettext("This order needs at most %(amount)s of funds.", amount=format_money(funds_max)), "funds"
        )
    if funds_wanted <= goods_cost:
        covered = value_covered_by(funds_wanted, subtotal, basis_points)
        funds_used = funds_cost(covered, basis_points)
        discount = covered - funds_used
    else:  # every good is covered; the rest of the funds pay delivery at its price
        discount = subtotal - goods_cost
        funds_used = funds_wanted
    total = subtotal + delivery - discount
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
        delivery=delivery,
    )
