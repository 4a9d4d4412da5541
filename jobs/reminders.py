"""Payment reminders on the tick, and the `flask --app shop reminders …` commands.

`reminders plan --at T [--json]` prints what a batch at T would do, writing
nothing; `reminders run --at T` plans and sends what is due at T, as the tick
does. A time without an offset is in the shop's time zone.
"""

import datetime
import json

import click
from flask.cli import AppGroup

from models.base import connection
from models.reminders.batches import run_due
from models.reminders.plan import describe_reason
from models.reminders.plan import plan
from models.shop.settings import load_settings


def send_payment_reminders(now):
    return run_due(now)


reminders_cli = AppGroup("reminders", help="Payment reminders.")


def parse_moment(text):
    """An ISO time; without an offset it is shop time. Returns an aware datetime."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time like 2026-11-23T10:05") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=load_settings().tz)
    return moment


def _at_option(function):
    return click.option(
        "--at",
        "at_text",
        default=None,
        metavar="TIME",
        help="ISO time, e.g. 2026-11-23T10:05 (shop time unless it has an offset); default now.",
    )(function)


def _moment(at_text):
    return parse_moment(at_text) if at_text else datetime.datetime.now(datetime.UTC)


@reminders_cli.command("plan")
@_at_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def plan_command(at_text, as_json):
    """Show who would be reminded at that moment, and why every other unpaid order would not. Sends nothing."""
    with connection():
        at = _moment(at_text)
        the_plan = plan(at)
        tz = load_settings().tz
    if as_json:
        click.echo(json.dumps(the_plan.as_json(tz)))
        return
    window = the_plan.window
    if window is None:
        click.echo(f"At {the_plan.at:%Y-%m-%d %H:%M %Z}: no reminder window is open.")
    else:
        click.echo(
            f"At {the_plan.at:%Y-%m-%d %H:%M %Z}: window {window.start.astimezone(tz):%H:%M}–"
            f"{window.end.astimezone(tz):%H:%M}."
        )
    click.echo(f"{len(the_plan.reminders)} reminder(s):")
    for item in the_plan.reminders:
        held_out = ", held out: never sent" if item.arm == "held_out" else ""
        click.echo(
            f"  order {item.order_number} → {item.email} ({item.segment}, reminder {item.reminder_number}, "
            f"wording {item.variant}{held_out})"
        )
    click.echo(f"{len(the_plan.excluded)} order(s) not reminded:")
    for item in the_plan.excluded:
        click.echo(f"  order {item.order_number}: {describe_reason(item.reason)} ({item.reason})")


@reminders_cli.command("run")
@_at_option
def run_command(at_text):
    """Plan and send the reminders due at that moment (through the outbox, as the scheduler does)."""
    with connection():
        sent = run_due(_moment(at_text))
    click.echo(f"{sent} reminder(s) queued in the outbox.")
