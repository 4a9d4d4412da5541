"""A customer's own account: their details, a download of their data, deleting the account."""

from dataclasses import dataclass

from flask_babel import gettext

from models.accounts.addresses import Address
from models.accounts.addresses import addresses_of
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import LedgerError
from models.orders.invoice import Invoice
from models.orders.order import ADDRESS_PARTS
from models.orders.order import CANCELLED
from models.orders.order import COMPLETED
from models.orders.order import DISPATCHED
from models.orders.order import Order
from models.orders.order import PENDING_PAYMENT
from models.refunds.forfeits import forfeit_bonus
from models.refunds.forfeits import money_left
from models.shop.audit import audit
from models.shop.language import format_money
from models.users.passwords import verify_password
from models.users.security_log import events_of
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.security_log import SecurityEvent
from models.users.sessions import UserSession
from models.users.tokens import AccountToken
from models.users.user import set_language
from models.users.user import User


def update_profile(user, first_name, last_name, phone, by=None, client=NO_CLIENT, language=None):
    """Save name and phone (and the language of their pages and emails, when given: "en", "fr");
    `by` is the staff member or owner making the change, if not the customer."""
    with write_transaction():
        if language is not None and language != user.language:
            set_language(user, language)
        before = f"{user.first_name} {user.last_name}, {user.phone or 'no phone'}"
        user.first_name, user.last_name, user.phone = first_name, last_name, phone
        user.save(only=[User.first_name, User.last_name, User.phone])
        after = f"{first_name} {last_name}, {phone or 'no phone'}"
        if before != after:
            record_event(
                user,
                "profile_changed",
                f"{before} → {after}",
                actor="shop" if by else "customer",
                client=client,
            )
            if by is not None:
                audit(
                    by,
                    "customer_changed",
                    f"customer {user.id} ({user.email})",
                    before={"details": before},
                    after={"details": after},
                )
    return user


def export_data(user):
    """Everything the shop holds about the customer, as plain data (for the JSON download)."""

    def when(moment):
        return moment.isoformat() + "Z" if moment else None

    return {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "phone": user.phone,
            "created_at": when(user.created_at),
            "email_confirmed_at": when(user.email_confirmed_at),
        },
        "addresses": [
            dict(
                address.as_dict(),
                default_billing=address.id == user.default_billing_id,
                default_shipping=address.id == user.default_shipping_id,
            )
            for address in addresses_of(user)
        ],
        "security_activity": [
            {
                "at": when(event.at),
                "what": str(event.label),
                "detail": event.detail,
                "ip": event.ip,
                "device": event.device,
            }
            for event in events_of(user, limit=10_000)
        ],
    }


@dataclass(frozen=True)
class Deletion:
    """What deleting the account would do with its money, as the deletion page says it."""

    blocker: str | None  # why it can't be deleted yet, for the customer
    blocked_by: str | None  # "orders", "owed", "refund" or "own": where the page sends them
    bonus: int  # bonus money the customer gives up by deleting (refunds/forfeits.py)


def deletion_of(user):
    """Whether the account can be deleted now, and what it gives up.

    Not while an order awaits payment (its hold would come back to a deleted account), money is
    owed, money could still go back to a card (they ask for a refund first), or the balance
    holds money of theirs that is neither (spend it or ask the shop). Bonus money alone doesn't
    stop it: it can't be refunded, so it is given up, and the page says how much.
    """
    if Order.select().where((Order.user == user) & (Order.status == PENDING_PAYMENT)).exists():
        return Deletion(
            gettext(
                "You have an order waiting for payment. Pay for it or cancel it first, then delete your account."
            ),
            "orders",
            0,
        )
    left = money_left(user)
    if left.balance < 0:
        return Deletion(
            gettext("You still owe the shop money. Please pay what you owe first, then delete your account."),
            "owed",
            0,
        )
    if left.refundable:
        return Deletion(
            gettext(
                "%(amount)s of your balance can go back to your card. Ask for a refund on "
                "your funds page first, then delete your account.",
                amount=format_money(left.refundable),
            ),
            "refund",
            0,
        )
    if left.own:
        return Deletion(
            gettext(
                "Your balance holds %(amount)s that can't go back to a card. Spend it in the shop "
                "or contact us about it first, then delete your account.",
                amount=format_money(left.own),
            ),
            "own",
            0,
        )
    return Deletion(None, None, left.bonus)


def delete_account(user, password, bonus_told=0, now=None):
    """Erase personal data, keep an anonymous shell for financial records and the invoices as the
    law asks (`erase_order_contacts`). False if the password is wrong.

    Refused (LedgerError, nothing changed) while `deletion_of` says it can't be deleted, or when
    the bonus it would give up is no longer the `bonus_told` the customer was shown. That bonus
    leaves the balance (refunds/forfeits.py) in the same transaction as the erasure.
    """
    if not verify_password(user.password_hash, password):
        return False
    now = now or utcnow()
    with write_transaction():
        deletion = deletion_of(user)
        if deletion.blocker:
            raise LedgerError(deletion.blocker)
        if deletion.bonus != bonus_told:
            raise LedgerError(
                gettext(
                    "Your balance has just changed: deleting your account now gives up "
                    "%(amount)s of bonus money. Please check and confirm again.",
                    amount=format_money(deletion.bonus),
                )
            )
        if deletion.bonus:
            forfeit_bonus(user, deletion.bonus, now)
            if account_for(user).balance != 0:  # a movement raced this one (PostgreSQL): undo
                raise LedgerError(gettext("Your balance has just changed. Please check and try again."))
        User.update(default_billing=None, default_shipping=None).where(User.id == user.id).execute()
        Address.delete().where(Address.user == user).execute()
        SecurityEvent.delete().where(SecurityEvent.user == user).execute()
        AccountToken.delete().where(AccountToken.user == user).execute()
        User.update(
            email=f"deleted-{user.id}@invalid",
            password_hash=None,
            first_name="",
            last_name="",
            phone="",
            deleted_at=now,
        ).where(User.id == user.id).execute()
        UserSession.delete().where(UserSession.user == user).execute()  # devices and addresses go too
        erase_order_contacts(user)
    return True


def erase_order_contacts(user):
    """What the deleted customer's orders keep: what the law asks, nothing more.

    An invoice keeps its own copy of the buyer's name and billing address for the 10 years the law
    asks (models/orders/invoice.py): the orders behind one, and those never paid, lose theirs once
    they are dispatched, completed or cancelled; an order paid before invoices had their own
    numbers keeps its billing name and address, its invoice then. Phone numbers and delivery
    addresses go from every closed order. Orders still to dispatch keep everything: the shop
    still has to deliver them.
    """
    closed = (Order.user == user.id) & Order.status.in_((DISPATCHED, COMPLETED, CANCELLED))
    delivery = {getattr(Order, f"shipping_{part}"): "" for part in ADDRESS_PARTS}
    Order.update({**delivery, Order.billing_phone: ""}).where(closed).execute()
    invoiced = Order.id.in_(Invoice.select(Invoice.order))
    billing = {getattr(Order, f"billing_{part}"): "" for part in ADDRESS_PARTS}
    Order.update(billing).where(closed & (invoiced | Order.paid_at.is_null())).execute()
