"""What the customer (and the shop) are told about an order by email."""

from models.orders.order import BANK
from models.orders.order import cancel_reason
from models.orders.order import CANCELLED
from models.orders.order import OrderPayment
from models.orders.order import PENDING_PAYMENT
from models.orders.pay_link import pay_link
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.settings import load_settings
from models.users.user import User
from payments import SUCCEEDED


def mail_customer(order, kind, subject, **extra):
    user = User.get_by_id(order.user_id)
    send_templated(
        user.email,
        kind,
        subject,
        kind,
        user=user,
        order=order,
        order_url=_order_url(order),
        pay_url=pay_link(order),  # works without signing in: see pay_link
        **extra,
    )


def _order_url(order):
    return absolute_url("orders.show", order_id=order.id)


# What a card payment that didn't simply pay its unpaid order did (the late-payment emails' cases).
LATE_REINSTATED = "reinstated"  # the order was cancelled; it is back and paid


LATE_CANCELLED = "cancelled"  # the order was cancelled and couldn't come back: money to funds


LATE_ALREADY_PAID = "already_paid"  # the order was paid another way meanwhile: money to funds


LATE_MISMATCH = "mismatch"  # the order still waits, for another amount: money to funds


LATE_SUBJECTS = {
    LATE_REINSTATED: ("Order {n} is reinstated and paid", "Late card payment reinstated order {n}"),
    LATE_CANCELLED: (
        "Order {n}: your payment is in your account funds",
        "Late card payment for cancelled order {n} credited to funds",
    ),
    LATE_ALREADY_PAID: (
        "Order {n}: your second payment is in your account funds",
        "Second payment for order {n} credited to funds",
    ),
    LATE_MISMATCH: (
        "Order {n}: your payment is in your account funds",
        "Card payment for order {n} didn't match the amount due: credited to funds",
    ),
}


def late_payment_case(order, outcome):
    """Which of the LATE_* cases a card payment with this outcome is, from the order as it is now."""
    if outcome == "reinstated":
        return LATE_REINSTATED
    if order.status == CANCELLED:
        return LATE_CANCELLED
    if order.status == PENDING_PAYMENT:
        return LATE_MISMATCH
    return LATE_ALREADY_PAID


def _paid_how(order, payment):
    """How an order was paid other than by `payment`, in words ("by bank transfer")."""
    other_card = (
        OrderPayment.select()
        .where(
            (OrderPayment.order == order.id)
            & (OrderPayment.id != payment.id)
            & (OrderPayment.state == SUCCEEDED)
            & (OrderPayment.outcome.in_(("paid_order", "reinstated")))
        )
        .exists()
    )
    if other_card:
        return "by an earlier card payment"
    if order.payment_method == BANK and order.bank_amount:
        return "by bank transfer"
    if getattr(order, "marketplace_amount", 0):
        return "on the marketplace"
    return "from your account"


def tell_about_late_payment(order, payment, outcome):
    """Email the customer (and the shop) what happened to a card payment that didn't simply pay its
    unpaid order: the order reinstated, or the money in the customer's funds (the order was
    cancelled for good, was already paid another way, or waits for a different amount)."""
    settings = load_settings()
    case = late_payment_case(order, outcome)
    customer_subject, owner_subject = (s.format(n=order.number) for s in LATE_SUBJECTS[case])
    details = {
        "payment": payment,
        "outcome": outcome,
        "case": case,
        "reason": cancel_reason(order),
        "paid_how": _paid_how(order, payment) if case == LATE_ALREADY_PAID else "",
    }
    mail_customer(
        order, "order_late_payment", customer_subject, funds_url=absolute_url("funds.overview"), **details
    )
    if settings.contact_email:
        send_templated(
            settings.contact_email,
            "order_late_payment_owner",
            owner_subject,
            "order_late_payment_owner",
            order=order,
            customer_url=absolute_url("admin.customers.show", customer_id=order.user_id),
            **details,
        )
