"""The owner's emails about new shop orders, as the setting `new_order_emails` says.

- "each": one email to the shop's contact address per new shop order, queued in the
  transaction that places it (placing.py), with the number, the customer, the total, how it is
  being paid and a link to the order's admin page. Marketplace imports are not announced.
- "daily": one digest per shop day of the previous shop day's new shop orders, sent by the jobs'
  minute tick once the shop's clock has passed DIGEST_HOUR (jobs/orders.py). The day's row in
  `new_order_digest` (UNIQUE day) is written in the digest's transaction, so a restart, a
  missed tick or a second scheduler never sends it twice. A day without new orders gets its row
  but no email (nothing to read). After the jobs process was down for days, only the latest
  finished day is sent: the orders list has the rest. An order is listed as it is when the
  digest is written (paid, awaiting payment, cancelled).
- "none": nothing.
"""

import datetime

from babel.dates import format_date
from flask_babel import lazy_gettext
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from peewee import DateField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import IntegrityError

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.orders.messages import order_lines
from models.orders.order import Order
from models.orders.order import SHOP_CHANNEL
from models.shop.language import active_locale
from models.shop.language import format_money
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import load_settings
from models.users.user import User

EACH, DAILY, NONE = "each", "daily", "none"

DIGEST_HOUR = 7  # shop time: after the night's backup and ledger check, before the shop day starts

DIGEST_MOST_LISTED = 50  # orders named in one digest; the orders list link shows them all


class NewOrderDigest(BaseModel):
    day = DateField(unique=True)  # the shop day whose new orders it lists
    orders = IntegerField(default=0)  # how many; 0: nothing was sent
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "new_order_digest"


def tell_owner_new_order(order):
    """The owner's email about a new shop order, when they want one each time (inside placing's
    transaction, so the order and its email are saved together)."""
    settings = load_settings()
    if settings.new_order_emails != EACH or not settings.contact_email or order.channel != SHOP_CHANNEL:
        return None
    return send_templated(
        settings.contact_email,
        "new_order_owner",
        lazy_gettext(
            "New order %(number)s: %(total)s",
            number=order.number,
            total=LazyString(format_money, order.total),
        ),
        "new_order_owner",
        order=order,
        customer=User.get_by_id(order.user_id),
        lines=order_lines(order),
        admin_url=absolute_url("admin.orders.show", order_id=order.id),
    )


def send_new_order_digest(now):
    """Send yesterday's digest once, after DIGEST_HOUR shop time, if the owner wants one daily.

    `now` is timezone-aware (the tick's). Returns the day's NewOrderDigest row when this call
    dealt with the day, else None.
    """
    settings = load_settings()
    if settings.new_order_emails != DAILY:
        return None
    local = now.astimezone(settings.tz)
    if local.hour < DIGEST_HOUR:
        return None
    day = local.date() - datetime.timedelta(days=1)
    if NewOrderDigest.select().where(NewOrderDigest.day == day).exists():
        return None
    try:
        with write_transaction():
            if NewOrderDigest.select().where(NewOrderDigest.day == day).exists():
                return None
            orders = list(
                Order.select(Order, User)
                .join(User, on=(Order.user == User.id))
                .where((Order.local_date == day) & (Order.channel == SHOP_CHANNEL))
                .order_by(Order.id)
            )
            digest = NewOrderDigest.create(day=day, orders=len(orders), created_at=to_naive_utc(now))
            if orders and settings.contact_email:
                _send_digest(settings, day, orders)
    except IntegrityError:  # another process wrote the day's row first (PostgreSQL): it sent it
        return None
    return digest


def _send_digest(settings, day, orders):
    # Read when the email is written, in its reader's language (send_templated sets it).
    day_text = LazyString(lambda: _long_date(day, active_locale()))
    subject = LazyString(
        lambda: ngettext(
            "%(num)d new order on %(day)s", "%(num)d new orders on %(day)s", len(orders), day=day_text
        )
    )
    send_templated(
        settings.contact_email,
        "new_orders_digest_owner",
        subject,
        "new_orders_digest_owner",
        day_text=day_text,
        count=len(orders),
        value=sum(order.total for order in orders),
        orders=[(order, absolute_url("admin.orders.show", order_id=order.id)) for order in orders][
            :DIGEST_MOST_LISTED
        ],
        more=max(len(orders) - DIGEST_MOST_LISTED, 0),
        list_url=absolute_url(
            "admin.orders.index",
            period="custom",
            date_from=day.isoformat(),
            date_to=day.isoformat(),
            channel=SHOP_CHANNEL,
        ),
    )


def _long_date(day, locale):
    return format_date(day, format="full", locale=locale)
