"""The nightly backup (once per shop day after 02:00 shop time, a checked copy into BACKUP_DIR,
keeping the newest BACKUP_KEEP; SQLite only, PostgreSQL shops use pg_dump) and the
`flask backup` and `flask restore` commands."""

import datetime
import logging
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from jobs.lock import scheduler_stopped
from models.base import is_sqlite
from models.operations.backup import BackupError
from models.operations.backup import make_backup
from models.operations.backup import NAME_FORMAT
from models.operations.backup import prune_backups
from models.operations.backup import restore_backup
from models.shop.settings import load_settings

BACKUP_HOUR = 2  # shop time: quiet, and before the 03:00 ledger check
log = logging.getLogger("shop.jobs")


def nightly_backup(now):
    """Run by the scheduler as a job of its own (a copy can take a while; the minute tick
    must not wait for it)."""
    folder, keep = current_app.config["BACKUP_DIR"], current_app.config["BACKUP_KEEP"]
    if not folder or keep <= 0 or not is_sqlite():
        return None  # turned off; a PostgreSQL shop backs up with pg_dump (README)
    local = now.astimezone(load_settings().tz)
    if local.hour < BACKUP_HOUR:
        return None
    todays_slot = local.replace(hour=BACKUP_HOUR, minute=0, second=0, microsecond=0)
    newest = newest_backup_time(folder)
    if newest is not None and newest >= todays_slot:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)  # a folder, so each backup gets a dated name
    backup = make_backup(folder, now)
    removed = prune_backups(folder, keep)
    log.info("backup written to %s; %d older removed", backup.path, len(removed))
    if backup.ledger_problems:
        log.warning("the ledger check fails on backup %s: %s", backup.path, backup.ledger_problems[:5])
    return backup.path


def newest_backup_time(folder):
    """When the newest backup in `folder` was made (aware UTC), from its name; None if none."""
    times = []
    for path in Path(folder).glob("shop-*.sqlite3"):
        try:
            times.append(datetime.datetime.strptime(path.name, NAME_FORMAT).replace(tzinfo=datetime.UTC))
        except ValueError:
            continue
    return max(times, default=None)


@click.command("backup")
@click.argument("target", type=click.Path())
@with_appcontext
def backup_command(target):
    """Copy the live SQLite database to TARGET (a file, or a folder for a dated file), checked."""
    try:
        backup = make_backup(target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {backup.path} (integrity check passed).")
    if backup.ledger_problems:
        click.echo("The ledger check fails on it, as on the shop:", err=True)
        for problem in backup.ledger_problems[:20]:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)


@click.command("restore")
@click.argument("backup", type=click.Path())
@click.option("--yes", is_flag=True, help="Do not ask: the web and jobs services are stopped.")
@with_appcontext
def restore_command(backup, yes):
    """Replace the SQLite database with BACKUP (checked first; the old file is kept). Stop the shop first."""
    if not yes:
        click.confirm(
            "Are the shop's web and jobs services stopped? The database will be replaced", abort=True
        )
    with scheduler_stopped():
        try:
            kept = restore_backup(backup)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"Restored {backup}." + (f" The replaced database is kept at {kept}." if kept else ""))
