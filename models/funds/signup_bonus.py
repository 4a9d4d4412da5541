"""The shop's welcome bonus: credited once when a self-registered customer confirms their email."""

from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.shop.settings import load_settings
from models.users.user import SELF_REGISTERED


def credit_signup_bonus(user):
    """The shop's welcome bonus, once per account (the key makes a second call a replay)."""
    bonus = load_settings().signup_bonus
    if bonus <= 0 or user.source != SELF_REGISTERED:
        return None
    return transfer(
        f"signup-bonus:{user.id}",
        "signup_bonus",
        [Leg(system_account(PROMOTIONS), -bonus, "bonus"), Leg(account_for(user), bonus, "bonus")],
        memo="Welcome bonus",
    )
