"""The reactions that go up the layers, all in this one list.

What follows an event is a plain call wherever the code that follows lives in the same
domain or below it (an order paid -> the affiliate reward; a provider notification -> its
top-up or order payment). Credit limits are the exception: models/funds/credit.py builds on
groups and the shop's settings, yet every change to them must refresh the limits the
ledger enforces, in the same transaction. So those domains announce the change through
`Followers` (models/base.py), and `connect()` says here who follows. create_app() calls it.
"""

from models.funds.credit import refresh_after_settings_change
from models.funds.credit import refresh_credit_limit
from models.funds.credit import refresh_group_limits
from models.groups.group import group_changed
from models.groups.group import member_moved
from models.shop.settings import settings_changed


def connect():
    settings_changed.set(refresh_after_settings_change)
    member_moved.set(refresh_credit_limit)
    group_changed.set(refresh_group_limits)
