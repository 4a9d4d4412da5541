"""Saving checked orders: each all or nothing, once per channel and reference, with its customer.

The customer is the account with the order's email, or a new password-less one. Never a staff
or owner account: an order whose email belongs to one is rejected with the reason (emails are
unique, so there is no second account to make for it, and attaching a stranger's order, its
addresses and its customer history to the people who run the shop is never right). Checked
inside the transaction that saves the order, for the CSV upload and the JSON API alike.
"""

import json

from flask_babel import lazy_gettext
from peewee import Case
from peewee import IntegrityError

from models.base import utcnow
from models.base import write_transaction
from models.groups.group import new_member
from models.marketplace.channels import channel_label
from models.marketplace.channels import MARKETPLACE
from models.marketplace.checking import check_order
from models.marketplace.checking import Context
from models.marketplace.checking import identify
from models.marketplace.results import ALREADY_IMPORTED
from models.marketplace.results import IMPORTED
from models.marketplace.results import ImportReport
from models.marketplace.results import MarketplaceImport
from models.marketplace.results import REJECTED
from models.marketplace.results import Result
from models.orders.order import Order
from models.orders.order import OrderEvent
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.orders.vat import line_rate_bp
from models.orders.vat import record_order_vat
from models.shop.audit import audit
from models.shop.settings import shop_today
from models.storefront.catalog import Product
from models.storefront.vat_rates import default_rate
from models.storefront.vat_rates import rate_bp_of
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.user import CUSTOMER
from models.users.user import FROM_MARKETPLACE
from models.users.user import User


def _existing(channel, order_ref):
    return Order.get_or_none((Order.channel == channel) & (Order.external_ref == order_ref))


def import_order(raw, context, actor=None, via="CSV upload"):
    """Check and save one order; returns its Result. Never raises for bad input."""
    result = Result(outcome=REJECTED, lines=raw.lines, index=raw.index)
    channel, order_ref, _ = identify(raw)
    result.channel, result.order_ref = channel, order_ref
    if channel and order_ref:
        existing = _existing(channel, order_ref)
        if existing is not None:
            return _already(result, existing)
    checked, reasons = check_order(raw, context)
    if checked is None:
        result.reasons = reasons
        return result
    result.warnings = list(checked.warnings)
    for _ in range(2):
        try:
            return _save(checked, result, context, actor, via)
        except StaffEmail:
            result.reasons = [
                lazy_gettext(
                    "%(label)s: “%(email)s” belongs to a staff account; imported orders can't be attached "
                    "to it. Import the order with the customer's own email.",
                    label=raw.labels.get("email", "email"),
                    email=checked.email,
                )
            ]
            result.warnings = []
            return result
        except IntegrityError:
            # Another import saved this order (or created this customer) at the same moment.
            existing = _existing(channel, order_ref)
            if existing is not None:
                return _already(result, existing)
    result.reasons = [
        lazy_gettext("It clashed with another change saved at the same moment. Import it again.")
    ]
    return result


def _already(result, order):
    result.outcome = ALREADY_IMPORTED
    result.order_id, result.number, result.customer_id = order.id, order.number, order.user_id
    result.warnings = []
    return result


def _save(checked, result, context, actor, via):
    now = context.now
    ordered_at = checked.ordered_at or now
    with write_transaction():
        existing = _existing(checked.channel, checked.order_ref)
        if existing is not None:
            return _already(result, existing)
        user, created = _customer(checked, context)
        order = Order.create(
            user=user,
            status=PAID,
            channel=checked.channel,
            external_ref=checked.order_ref,
            payment_method=MARKETPLACE,
            currency=context.currency,
            subtotal=checked.total,
            funds_discount=0,
            total=checked.total,
            marketplace_amount=checked.total,
            idempotency_key=f"marketplace:{checked.channel}:{checked.order_ref}",
            created_at=ordered_at,
            paid_at=ordered_at,
            auto_cancel_at=None,
            local_date=shop_today(ordered_at),
            **{f"shipping_{part}": value for part, value in checked.shipping.items()},
            **{f"billing_{part}": value for part, value in checked.billing.items()},
        )
        order.number = f"{order.local_date:%y%m}-{order.id:05d}"
        Order.update(number=order.number).where(Order.id == order.id).execute()
        short = []
        for item in checked.items:
            product_id = _take_stock(item, short)
            OrderLine.create(
                order=order,
                product_id=product_id,
                name=item.name,
                unit_price=item.unit_price,
                quantity=item.quantity,
                line_total=item.unit_price * item.quantity,
                vat_rate_bp=line_rate_bp(_rate_bp(item)),
            )
        if checked.shipping_cost:
            OrderLine.create(
                order=order,
                product_id=0,
                name="Shipping",
                unit_price=checked.shipping_cost,
                quantity=1,
                line_total=checked.shipping_cost,
                kind="shipping",
            )
        record_order_vat(order)
        label = channel_label(checked.channel)
        who = f"by {actor.email} ({via})" if actor is not None else f"through the {via}"
        note = f"Imported from {label} (order {checked.order_ref}) {who}."
        if short:  # the order's history keeps what happened in the shop's words (English)
            note += (
                " Stock ran short: "
                + "; ".join(f"{name} (sold {sold}, {stock} in stock; now 0)" for name, sold, stock in short)
                + "."
            )
        OrderEvent.create(
            order=order,
            from_status="",
            to_status=PAID,
            actor=actor.id if actor is not None else None,
            actor_label="staff" if actor is not None else "system",
            note=note,
            at=now,
        )
        if created:
            record_event(
                user,
                "account_created",
                f"with {label} order {checked.order_ref}",
                actor="shop",
                client=context.client,
            )
    result.outcome = IMPORTED
    result.order_id, result.number = order.id, order.number
    result.customer_id, result.new_customer = user.id, created
    result.warnings += [
        lazy_gettext(
            "Stock ran short: %(product)s (sold %(sold)d, %(stock)d in stock; now 0).",
            product=name,
            sold=sold,
            stock=stock,
        )
        for name, sold, stock in short
    ]
    return result


class StaffEmail(Exception):
    """The order's email is a staff or owner account's: the order is rejected, nothing saved."""


def _customer(checked, context):
    """(user, created): the customer account with this email, or a new password-less one.

    Raises StaffEmail for a staff or owner account's email.
    """
    user = User.by_email(checked.email)
    if user is not None and user.is_staff:
        raise StaffEmail(checked.email)
    if user is not None:
        return user, False
    user = new_member(
        email=checked.email,
        password_hash=None,
        role=CUSTOMER,
        first_name=checked.first_name,
        last_name=checked.last_name,
        phone=checked.phone,
        source=FROM_MARKETPLACE,
        email_confirmed_at=None,
        created_at=context.now,
    )
    return user, True


def _rate_bp(item):
    """The VAT rate of a line: its product's, or the shop's default for an item the shop doesn't know."""
    product = Product.get_or_none(Product.id == item.product.id) if item.product is not None else None
    return rate_bp_of(product) if product is not None else default_rate().rate_bp


def _take_stock(item, short):
    """Take the line's quantity from its product's stock, never below zero; the product id or 0."""
    if item.product is None:
        return 0
    product = Product.get_or_none(Product.id == item.product.id)
    if product is None:
        return 0
    if product.stock < item.quantity:
        short.append((product.name, item.quantity, product.stock))
    Product.update(
        stock=Case(None, [(Product.stock >= item.quantity, Product.stock - item.quantity)], 0)
    ).where(Product.id == product.id).execute()
    return product.id


def run_import(raw_orders, actor=None, source="csv", filename="", report=None, now=None, client=NO_CLIENT):
    """Import each order on its own; keeps the report when anything was saved or found."""
    context = Context(now or utcnow(), client)
    report = report or ImportReport()
    via = "CSV upload" if source == "csv" else "marketplace API"
    for raw in raw_orders:
        report.results.append(import_order(raw, context, actor, via))
    keep = report.anything_valid if source == "csv" else (report.imported or report.rejected)
    if keep:
        report.batch_id = _keep_report(report, actor, source, filename, context.now)
    return report


def _keep_report(report, actor, source, filename, now):
    counts = {
        "imported": report.imported,
        "already_imported": report.already_imported,
        "rejected": report.rejected,
    }
    with write_transaction():
        batch = MarketplaceImport.create(
            source=source,
            filename=filename[:200],
            actor=actor,
            report=json.dumps([result.as_dict() for result in report.results]),
            created_at=now,
            **counts,
        )
        audit(actor, "marketplace_import", f"marketplace import {batch.id} ({source})", after=counts)
    return batch.id
