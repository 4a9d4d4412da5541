"""A customer's own account: their details, a download of their data, deleting the account."""

from models.accounts.addresses import Address
from models.accounts.addresses import addresses_of
from models.base import utcnow
from models.base import write_transaction
from models.funds.customer_accounts import account_for
from models.funds.ledger import LedgerError
from models.shop.audit import audit
from models.users.passwords import verify_password
from models.users.security_log import events_of
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.security_log import SecurityEvent
from models.users.sessions import UserSession
from models.users.tokens import AccountToken
from models.users.user import User


def update_profile(user, first_name, last_name, phone, by=None, client=NO_CLIENT):
    """Save name and phone; `by` is the staff member or owner making the change, if not the customer."""
    with write_transaction():
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
                "what": event.label,
                "detail": event.detail,
                "ip": event.ip,
                "device": event.device,
            }
            for event in events_of(user, limit=10_000)
        ],
    }


def balance_blocking_deletion(user):
    """Why the account can't be deleted yet (money is held or owed), or None."""
    balance = account_for(user).balance
    if balance > 0:
        return (
            "You still have funds in your account. Spend them or ask us for a refund first, then delete it."
        )
    if balance < 0:
        return "You still owe the shop money. Please pay what you owe first, then delete your account."
    return None


def delete_account(user, password):
    """Erase personal data, keep an anonymous shell for financial records. False if the password is wrong.

    Refused (LedgerError) while the balance is not zero.
    """
    if not verify_password(user.password_hash, password):
        return False
    blocker = balance_blocking_deletion(user)
    if blocker:
        raise LedgerError(blocker)
    with write_transaction():
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
            deleted_at=utcnow(),
        ).where(User.id == user.id).execute()
        UserSession.delete().where(UserSession.user == user).execute()  # devices and addresses go too
    return True
