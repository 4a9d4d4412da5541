"""The nightly ledger check: once per shop day after 03:00 shop time; drift shows on the owner's dashboard."""

from models.base import to_naive_utc
from models.funds.ledger import latest_check
from models.funds.ledger import record_check
from models.shop.settings import load_settings

CHECK_HOUR = 3  # shop time: quiet, and after the day's last payments


def nightly_ledger_check(now):
    local = now.astimezone(load_settings().tz)
    if local.hour < CHECK_HOUR:
        return None
    todays_slot = to_naive_utc(local.replace(hour=CHECK_HOUR, minute=0, second=0, microsecond=0))
    last = latest_check()
    if last is not None and last.at >= todays_slot:
        return None
    return record_check(to_naive_utc(now))
