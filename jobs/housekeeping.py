"""Tidying that runs on the minute tick: expired drafts, old throttle counters, abandoned sign-ups,
old visitor carts, ended sessions."""

from models.accounts.registration import purge_expired_drafts
from models.accounts.registration import purge_unconfirmed_accounts
from models.base import to_naive_utc
from models.shop import throttle
from models.storefront.cart import purge_visitor_carts
from models.users.sessions import forget_old_sessions


def tidy_accounts(now):
    moment = to_naive_utc(now)
    purge_expired_drafts(moment)
    throttle.forget_old(moment)
    purge_unconfirmed_accounts(moment)
    purge_visitor_carts(moment)
    forget_old_sessions(moment)
