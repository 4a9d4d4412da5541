"""Bonus money given up when a customer deletes their account.

Bonus and reward money can't be refunded (top_ups.py: gifts count as the last money spent and
never go back to a card), so it can't keep an account from being deleted either. The deletion
page tells the customer how much bonus they give up; deleting moves exactly that out of their
balance in the deletion's own transaction: one journal, kind `bonus_forfeited`, key
[bonus-forfeited:<user id>], the customer's account → PROMOTIONS, category `bonus_reversal`
(bonus taken back, as a refund takes a top-up's bonus back), with a memo saying why.

Money that can go back to a card is never forfeited: the customer asks for a refund first
(requests.py). Nor is the customer's own money that can't go back to a card (an adjustment, a
refund of an order into funds): it is spent, or the shop is asked. accounts/profile.py holds the
deletion's rule and calls these.
"""

from dataclasses import dataclass

from models.funds.customer_accounts import account_for
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.refunds.top_ups import refund_summary

KIND = "bonus_forfeited"


@dataclass(frozen=True)
class MoneyLeft:
    """A customer's balance as deleting the account sees it."""

    balance: int
    refundable: int  # can go back to a card: asked for first
    bonus: int  # bonus and reward money: given up on deletion

    @property
    def own(self):
        """The customer's money that is neither refundable to a card nor bonus (adjustments,
        refunds of orders into funds): spent or asked about first."""
        return max(0, self.balance - self.refundable - self.bonus)


def money_left(user):
    summary = refund_summary(user)
    bonus = min(summary.gifts_held, max(0, summary.balance))
    return MoneyLeft(summary.balance, summary.refundable, bonus)


def forfeit_bonus(user, amount, now=None):
    """Move `amount` of bonus money out of the deleted customer's balance, inside the caller's
    (the deletion's) write transaction; returns the journal."""
    return transfer(
        f"bonus-forfeited:{user.id}",
        KIND,
        [
            Leg(account_for(user), -amount, "bonus_reversal"),
            Leg(system_account(PROMOTIONS), amount, "bonus_reversal"),
        ],
        memo="Bonus given up when the account was deleted",
        actor=user,
        now=now,
    )
