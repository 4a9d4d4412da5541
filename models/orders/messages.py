"""What the customer (and the shop) are told about an order by email.

Every message here says what is true when it is written, and is queued in the transaction of
the event that makes it true (models/shop/outbox.py).

The order's first email: once, when the payment's outcome is known
    A customer hears about a new shop order exactly once, by whichever of these comes first;
    `claim_first_email` sets `Order.placed_email_at` where it is still NULL, so only one of them
    can win, even with two processes (on SQLite the write lock, on PostgreSQL the row lock).

    - paid when placed (funds, credit) or by a card payment: the receipt, `order_paid`, with
      the items, the totals and how it was paid ("payment received"). It goes whenever an order
      becomes paid by its customer's payment (paid.py), first email or not: every way of paying
      ends with a "payment received" message (a bank transfer's is `order_bank_received`, a
      card payment that reinstated a cancelled order says so in `order_late_payment`).
    - bank transfer chosen at checkout: the bank details, `order_placed`, when the order is
      placed (or when a card order switches to bank transfer before any email went).
    - card: nothing when the order is placed (the customer is on the provider's page that
      minute). A card payment that fails: `order_card_failed`, the order is kept, with the pay
      link (pay again by card or choose bank transfer). No outcome 15 minutes after placing
      (the tab was closed, the provider is slow): `order_awaiting_payment`, sent by the jobs'
      tick (waiting_email.py), which asks the provider first; it says "being confirmed" when a
      card payment may still succeed, else "waiting for payment", with the pay link.

    Whichever it is, the first email confirms the contract (issue 24): it carries the legal
    guarantees in short and the terms of sale the customer accepted at checkout, in full, at the
    end of the message (email/_terms.txt): a durable copy in the customer's mailbox, in both parts,
    with no attachment to lose or block.

    Later messages (a second failed attempt, a payment reminder) never repeat the first one: a
    customer retrying on the pay page sees each outcome there, and unpaid orders get reminders.
    Marketplace orders get nothing: the marketplace talks to its customers.

Language (issue 23)
    An order keeps the language it was placed in (`Order.language`: the customer's account
    language, else the page's; placing.py). Every email to its customer is written in it, whoever
    sends it (the customer, the owner dispatching from an English page, the jobs process):
    `mail_customer` passes it to send_templated, and subjects are lazy strings read in that
    language. An order from before languages ("") follows the customer's account language. The
    shop's own emails about orders (new order, digest, late payment) go to the contact address in
    the shop's default language (or the owner's account language). What the shop stored in English
    (history notes, the funds discount line) is shown in the reader's language (order.py `NOTES`,
    `OrderLine.label`); notes someone typed, and notes with an amount written in them, stay as stored.
"""

from flask_babel import lazy_gettext
from flask_babel.speaklater import LazyString

from models.base import utcnow
from models.orders.order import BANK
from models.orders.order import cancel_reason
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import OrderPayment
from models.orders.order import PENDING_PAYMENT
from models.orders.order import SHOP_CHANNEL
from models.orders.pay_link import pay_link
from models.orders.vat import order_vat_lines
from models.orders.withdrawal_period import withdrawal_link
from models.shop.language import shop_language
from models.shop.language import supported
from models.shop.legal import blocks
from models.shop.legal import page_text
from models.shop.legal import TERMS
from models.shop.mail import absolute_url
from models.shop.mail import send_templated
from models.shop.mail import ShopWords
from models.shop.settings import load_settings
from models.users.user import User
from payments import SUCCEEDED


def mail_customer(order, kind, subject, first=False, **extra):
    """Email the order's customer, in the order's language (the one it was placed in; an order
    from before languages: the customer's account language). `subject`: a lazy string. `first`:
    this is the order's first email, the confirmation of the contract: it carries the legal
    guarantees and the terms of sale the customer accepted (email/_terms.txt)."""
    user = User.get_by_id(order.user_id)
    if first and order.terms_version:
        extra["terms"] = accepted_terms(order, user)
    return send_templated(
        user.email,
        kind,
        subject,
        kind,
        language=order.language or None,
        user=user,
        order=order,
        order_url=_order_url(order),
        pay_url=pay_link(order),  # works without signing in: see pay_link
        withdraw_url=withdrawal_link(order),  # None when nothing can be withdrawn
        lines=order_lines(order),
        **extra,
    )


class OrderLines(list):
    """An order's lines for its emails, with the VAT it recorded per rate (`vat_lines`, shown
    under the total by email/_order_items.*; [] for orders placed before VAT)."""

    vat_lines = ()


def accepted_terms(order, user):
    """The terms of sale as the order's first email carries them, in full, in the order's language:
    the terms as they read now, which is the version the customer accepted at checkout a moment
    ago (Order.terms_version names it). The owner's words: shown as written (ShopWords)."""
    language = supported(order.language) or supported(user.language) or shop_language()
    return [(kind, ShopWords(text)) for kind, text in blocks(page_text(TERMS, language))]


def order_lines(order):
    """The order's lines as its emails list them (email/_order_items.*): the products in the order
    they were added, then any discount and delivery line. These copies are never saved: their
    `name` is what the email shows, the funds discount's in the reader's language (OrderLine.label)."""
    lines = list(order.lines.order_by(OrderLine.id))
    for line in lines:
        line.name = line.label
    ordered = OrderLines(sorted(lines, key=lambda line: line.kind != "product"))  # stable: ids stay in order
    ordered.vat_lines = order_vat_lines(order)
    return ordered


def _order_url(order):
    return absolute_url("orders.show", order_id=order.id)


def claim_first_email(order, now=None):
    """True for exactly one caller per order: the one whose email is the order's first (inside
    the caller's transaction, so the claim and the email are saved together or not at all)."""
    claimed = (
        Order.update(placed_email_at=now or utcnow())
        .where((Order.id == order.id) & Order.placed_email_at.is_null())
        .execute()
    )
    return claimed == 1


def send_receipt(order, now=None):
    """The receipt ("payment received"): the items, the totals and how the order was paid.

    Called by paid.py's `mark_paid` when the customer's payment pays the order (funds or credit at
    checkout, a card payment). It is the first email too when none went before.
    """
    order = Order.get_by_id(order.id)
    if order.channel != SHOP_CHANNEL:
        return None
    first = claim_first_email(order, now)
    return mail_customer(
        order,
        "order_paid",
        lazy_gettext("Order %(number)s: payment received", number=order.number),
        first=first,
    )


def tell_order_placed(order, now=None):
    """At placing, in its transaction: an order waiting for a bank transfer gets the bank details.

    A paid one already got its receipt from `mark_paid`; a card order gets nothing yet (its
    email follows the card payment's outcome, or the 15-minute tick).
    """
    order = Order.get_by_id(order.id)
    if order.channel != SHOP_CHANNEL or not (order.is_unpaid and order.payment_method == BANK):
        return None
    if not claim_first_email(order, now):
        return None
    return mail_customer(
        order,
        "order_placed",
        lazy_gettext("Order %(number)s: thank you, here is how to pay", number=order.number),
        first=True,
    )


def tell_card_failed(payment, now=None):
    """A card payment failed: if the order still waits for it and nothing was sent about the order
    yet, say so, that the order is kept and how to pay (again by card, or by bank transfer)."""
    order = Order.get_by_id(payment.order_id)
    if order.channel != SHOP_CHANNEL or not order.is_unpaid or payment.amount != order.due:
        return None
    if not claim_first_email(order, now):
        return None
    return mail_customer(
        order,
        "order_card_failed",
        lazy_gettext("Order %(number)s: your card payment didn't go through", number=order.number),
        first=True,
        payment=payment,
    )


def tell_still_waiting(order, pending, now=None):
    """No outcome 15 minutes after placing: the order is waiting for payment, with the pay link.

    `pending` is the card payment that may still succeed (the provider was asked just before):
    the email then says it is being confirmed, not that the order is unpaid. None: no payment
    is under way, so the email says the order is waiting for payment.
    """
    if not claim_first_email(order, now):
        return None
    order = Order.get_by_id(order.id)
    subject = (
        lazy_gettext("Order %(number)s: your card payment is being confirmed", number=order.number)
        if pending is not None
        else lazy_gettext("Order %(number)s: waiting for your payment", number=order.number)
    )
    return mail_customer(order, "order_awaiting_payment", subject, first=True, pending=pending)


# What a card payment that didn't simply pay its unpaid order did (the late-payment emails' cases).
LATE_REINSTATED = "reinstated"  # the order was cancelled; it is back and paid


LATE_CANCELLED = "cancelled"  # the order was cancelled and couldn't come back: money to funds


LATE_ALREADY_PAID = "already_paid"  # the order was paid another way meanwhile: money to funds


LATE_MISMATCH = "mismatch"  # the order still waits, for another amount: money to funds


# (the customer's subject, the shop's subject); `number` is the order's number.
LATE_SUBJECTS = {
    LATE_REINSTATED: (
        lazy_gettext("Order %(number)s is reinstated and paid"),
        lazy_gettext("Late card payment reinstated order %(number)s"),
    ),
    LATE_CANCELLED: (
        lazy_gettext("Order %(number)s: your payment is in your account funds"),
        lazy_gettext("Late card payment for cancelled order %(number)s credited to funds"),
    ),
    LATE_ALREADY_PAID: (
        lazy_gettext("Order %(number)s: your second payment is in your account funds"),
        lazy_gettext("Second payment for order %(number)s credited to funds"),
    ),
    LATE_MISMATCH: (
        lazy_gettext("Order %(number)s: your payment is in your account funds"),
        lazy_gettext("Card payment for order %(number)s didn't match the amount due: credited to funds"),
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


def _paid_how(order, payment, for_owner=False):
    """How an order was paid other than by `payment`, in words ("by bank transfer"); the account
    is "your account" to the customer, "the customer's account" to the owner."""
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
        return lazy_gettext("by an earlier card payment")
    if order.payment_method == BANK and order.bank_amount:
        return lazy_gettext("by bank transfer")
    if getattr(order, "marketplace_amount", 0):
        return lazy_gettext("on the marketplace")
    if for_owner:
        return lazy_gettext("from the customer's account")
    return lazy_gettext("from your account")


def tell_about_late_payment(order, payment, outcome):
    """Email the customer (and the shop) what happened to a card payment that didn't simply pay its
    unpaid order: the order reinstated, or the money in the customer's funds (the order was
    cancelled for good, was already paid another way, or waits for a different amount)."""
    settings = load_settings()
    case = late_payment_case(order, outcome)
    customer_subject, owner_subject = (_with_number(s, order.number) for s in LATE_SUBJECTS[case])
    details = {
        "payment": payment,
        "outcome": outcome,
        "case": case,
        "reason": cancel_reason(order),
        "paid_how": _paid_how(order, payment) if case == LATE_ALREADY_PAID else "",
        "paid_how_for_owner": _paid_how(order, payment, for_owner=True) if case == LATE_ALREADY_PAID else "",
    }
    first = claim_first_email(
        order
    )  # the customer now knows of the order; no "waiting for payment" after this
    mail_customer(
        order,
        "order_late_payment",
        customer_subject,
        first=first,
        funds_url=absolute_url("funds.overview"),
        **details,
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


def _with_number(message, number):
    """A lazy message with the order's number filled in when it is read (in the reader's language)."""
    return LazyString(lambda: str(message) % {"number": number})
