"""A customer's ledger account, opened on first use with the credit limit their group (or the
owner) gives them; every part of the shop reads it through `account_for`.

The limit debits may use is the credit side's rule: 0 where the customer's group does not allow
paying on account, otherwise the personal limit the owner approved, otherwise the group's
default (or the shop's). credit.py lowers it to 0 while debt is overdue and keeps it up to date.
"""

from models.base import write_transaction
from models.funds.ledger import customer_account
from models.funds.ledger import LedgerAccount
from models.funds.ledger import LedgerError
from models.funds.ledger import open_account
from models.groups.group import credit_limit_in
from models.groups.group import group_of
from models.users.user import User


def account_for(user):
    """The customer's ledger account, opened on first use with the credit limit they have."""
    return customer_account(user) or open_account(user, effective_credit_limit)


def balance_of(user):
    return account_for(user).balance


def set_credit_limit(user, limit):
    """The limit new debits read. Lowering it below current debt only blocks new spending."""
    if limit < 0:
        raise LedgerError("A credit limit cannot be negative.")
    account = account_for(user)
    with write_transaction():
        LedgerAccount.update(credit_limit=limit).where(LedgerAccount.id == account.id).execute()


def effective_credit_limit(user):
    """The limit a customer's debits may use: 0 where the group does not allow paying on
    account, else the personal limit the owner approved, else the group's default."""
    fresh = User.get_by_id(user.id)
    return credit_limit_in(group_of(fresh), fresh)
