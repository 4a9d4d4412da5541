"""Marketplaces by name: the channel an order came through, and how it is written for people."""

import re

from models.orders.order import Order
from models.orders.order import SHOP_CHANNEL

MARKETPLACE = "marketplace"  # Order.payment_method of every imported order


CHANNEL_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}$")


CHANNEL_NAMES = {
    "amazon": "Amazon",
    "ebay": "eBay",
    "etsy": "Etsy",
    "onbuy": "OnBuy",
    "notonthehighstreet": "notonthehighstreet",
    "bol": "bol.com",
    "cdiscount": "Cdiscount",
    "fruugo": "Fruugo",
    "kaufland": "Kaufland",
    "otto": "OTTO",
    "zalando": "Zalando",
    "walmart": "Walmart",
    "tiktok-shop": "TikTok Shop",
}


def channel_label(channel):
    """How a channel is written for people: 'eBay' for ebay, 'Amazon-de' for amazon-de."""
    return CHANNEL_NAMES.get(channel) or channel.capitalize()


def first_channel(user):
    """How the marketplace of the customer's first imported order is written, or ""."""
    order = (
        Order.select(Order.channel)
        .where((Order.user == user) & (Order.channel != SHOP_CHANNEL))
        .order_by(Order.id)
        .first()
    )
    return channel_label(order.channel) if order is not None else ""
