"""The nightly ledger check (once per shop day after 03:00 shop time, whichever host leads:
job_run; drift shows on the owner's dashboard) and `flask ledger check`."""

import datetime
import sys

import click
from flask.cli import AppGroup

from models.base import connection
from models.base import to_naive_utc
from models.funds.ledger import check_ledger
from models.funds.ledger import latest_check
from models.funds.ledger import record_check
from models.operations.daily_jobs import run_once_for_day
from models.shop.settings import load_settings

CHECK_HOUR = 3  # shop time: quiet, and after the day's last payments
# A check whose scheduler died mid-way runs again after this long (it takes seconds to a minute;
# a second result on the dashboard does no harm).
LEDGER_CHECK_RETAKE_AFTER = datetime.timedelta(minutes=15)


def nightly_ledger_check(now):
    local = now.astimezone(load_settings().tz)
    if local.hour < CHECK_HOUR:
        return None
    todays_slot = to_naive_utc(local.replace(hour=CHECK_HOUR, minute=0, second=0, microsecond=0))
    last = latest_check()
    if last is not None and last.at >= todays_slot:
        return None
    return run_once_for_day(
        "nightly_ledger_check",
        local.date(),
        now,
        LEDGER_CHECK_RETAKE_AFTER,
        lambda: record_check(to_naive_utc(now)),
    )


ledger_cli = AppGroup("ledger", help="The funds ledger.")


@ledger_cli.command("check")
def ledger_check_command():
    """Verify every ledger invariant; exit 1 with a report when one fails."""
    with connection():
        problems = check_ledger()
    if problems:
        click.echo(f"Ledger check FAILED ({len(problems)} problem(s)):", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo("Ledger check passed: every journal balances and every cached balance matches its entries.")
