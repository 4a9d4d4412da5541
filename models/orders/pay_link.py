"""PAYLINKDOC"""

from models.orders.order import Order

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
    from models.shop.mail import absolute_url

    return absolute_url("orders.link", token=pay_link_token(order))
