"""The emailed pay link: one signed link per order, in every email that asks for or is about a
payment (order placed, cancelled, payment reminders).

It opens the order's payment page, or a clear "already paid" or "cancelled" page, without
signing in. It never expires: it is only good for paying that order (or ordering the same
again), for as long as the order can be paid. The token is the order id and its customer's
id, signed with the app's SECRET_KEY under its own salt (a link signed before a key rotation
still opens while its key is among SECRET_KEY_FALLBACKS: models/signing.py); anything else
(tampered, truncated, another salt) is no order at all.
"""

from itsdangerous import BadData

from models.orders.order import Order
from models.shop.mail import absolute_url
from models.signing import serializer

PAY_LINK_SALT = "order-pay-link"


def _pay_link_signer():
    return serializer(PAY_LINK_SALT)


def pay_link_token(order):
    return _pay_link_signer().dumps([order.id, order.user_id])


def order_for_pay_link(token):
    """The order a pay-link token names, or None for a token that isn't one of ours."""
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
    return absolute_url("orders.link", token=pay_link_token(order))
