"""Tidying that runs on the minute tick: expired drafts, old throttle counters, abandoned sign-ups, old visitor carts."""

from jobs.tick import due_work
from models import throttle
from models.accounts import purge_unconfirmed_accounts
from models.base import to_naive_utc
from models.cart import purge_visitor_carts
from models.registration import purge_expired_drafts


@due_work
def tidy_accounts(now):
    moment = to_naive_utc(now)
    purge_expired_drafts(moment)
    throttle.forget_old(moment)
    purge_unconfirmed_accounts(moment)
    purge_visitor_carts(moment)
