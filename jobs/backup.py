"""The nightly backup (once per shop day after 02:00 shop time, a checked copy into BACKUP_DIR,
keeping the newest BACKUP_KEEP: SQLite's online backup, or pg_dump on PostgreSQL) and the
`flask backup` and `flask restore` commands.

A backup that fails raises: the scheduler logs the error with its message in the jobs
process's log (journalctl -u shop-jobs), and the job tries again five minutes later."""

import contextlib
import datetime
import logging
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from jobs.leadership import scheduler_stopped
from models.base import is_sqlite
from models.base import make_database
from models.operations.backup import backup_name_format
from models.operations.backup import BackupError
from models.operations.backup import file_kind
from models.operations.backup import make_backup
from models.operations.backup import prune_backups
from models.operations.backup import restore_backup
from models.operations.backup import restore_pg_dump
from models.operations.daily_jobs import run_once_for_day
from models.shop.settings import load_settings

BACKUP_HOUR = 2  # shop time: quiet, and before the 03:00 ledger check
# A night's backup whose scheduler died mid-way is made again after this long (a large shop's
# pg_dump may take a while; a second dated file does no harm and is pruned with the others).
BACKUP_RETAKE_AFTER = datetime.timedelta(hours=1)
log = logging.getLogger("shop.jobs")


def nightly_backup(now):
    """Run by the scheduler as a job of its own (a copy can take a while; the minute tick
    must not wait for it). Once per shop day whichever host leads (job_run); the backup files
    are on the host that made them."""
    folder, keep = current_app.config["BACKUP_DIR"], current_app.config["BACKUP_KEEP"]
    if not folder or keep <= 0:
        return None  # turned off
    local = now.astimezone(load_settings().tz)
    if local.hour < BACKUP_HOUR:
        return None
    todays_slot = local.replace(hour=BACKUP_HOUR, minute=0, second=0, microsecond=0)
    newest = newest_backup_time(folder)
    if newest is not None and newest >= todays_slot:
        return None
    return run_once_for_day(
        "nightly_backup", local.date(), now, BACKUP_RETAKE_AFTER, lambda: backup_into(folder, keep, now)
    )


def backup_into(folder, keep, now):
    Path(folder).mkdir(parents=True, exist_ok=True)  # a folder, so each backup gets a dated name
    backup = make_backup(folder, now)
    removed = prune_backups(folder, keep)
    log.info("backup written to %s; %d older removed", backup.path, len(removed))
    if backup.ledger_problems:
        log.warning("the ledger check fails on backup %s: %s", backup.path, backup.ledger_problems[:5])
    return backup.path


def newest_backup_time(folder):
    """When the newest backup of the bound database's kind in `folder` was made (aware UTC),
    from its name; None if none."""
    name_format = backup_name_format()
    times = []
    for path in Path(folder).glob("shop-*" + Path(name_format).suffix):
        try:
            times.append(datetime.datetime.strptime(path.name, name_format).replace(tzinfo=datetime.UTC))
        except ValueError:
            continue
    return max(times, default=None)


@click.command("backup")
@click.argument("target", type=click.Path())
@with_appcontext
def backup_command(target):
    """Back the live database up to TARGET (a file, or a folder for a dated file), checked: a
    SQLite copy, or on PostgreSQL a pg_dump file (custom format)."""
    try:
        backup = make_backup(target)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    checked = "integrity check passed" if is_sqlite() else "pg_dump, read back whole by pg_restore"
    click.echo(f"Backup written to {backup.path} ({checked}).")
    if backup.ledger_problems:
        click.echo("The ledger check fails on it, as on the shop:", err=True)
        for problem in backup.ledger_problems[:20]:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)


POSTGRES_SCHEMES = ("postgres://", "postgresql://")


@click.command("restore")
@click.argument("backup", type=click.Path())
@click.option(
    "--into",
    metavar="DATABASE_URL",
    help="Restore into this database instead of the shop's (a new, empty one for a pg_dump file).",
)
@click.option("--yes", is_flag=True, help="Do not ask: the web and jobs services are stopped.")
@with_appcontext
def restore_command(backup, into, yes):
    """Restore BACKUP: a SQLite copy replaces the SQLite database (checked first; the old file is
    kept; stop the shop first); a pg_dump file is loaded into an empty PostgreSQL database."""
    if not Path(backup).is_file():
        raise click.ClickException(f"There is no backup at {backup}.")
    shops_own = into is None or into == current_app.config["DATABASE_URL"]
    target = into or current_app.config["DATABASE_URL"]
    kind = file_kind(backup)
    if kind == "pg_dump":
        if not target.startswith(POSTGRES_SCHEMES):
            raise click.ClickException(
                f"{backup} is a pg_dump file: it restores only into PostgreSQL (--into postgresql://…)."
            )
        _restore_pg_dump(backup, target, shops_own)
        return
    if target.startswith(POSTGRES_SCHEMES):
        raise click.ClickException(
            f"{backup} is not a pg_dump file; a SQLite database moves to PostgreSQL with "
            "`flask copy-to-postgres` (README, Moving to PostgreSQL)."
        )
    if shops_own and not yes:
        click.confirm(
            "Are the shop's web and jobs services stopped? The database will be replaced", abort=True
        )
    database = None if shops_own else target.removeprefix("sqlite:///")
    with scheduler_stopped() if shops_own else contextlib.nullcontext():
        try:
            kept = restore_backup(backup, database)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
    click.echo(f"Restored {backup}." + (f" The replaced database is kept at {kept}." if kept else ""))


def _restore_pg_dump(backup, target, shops_own):
    with scheduler_stopped() if shops_own else contextlib.nullcontext():
        try:
            restored = restore_pg_dump(backup, target)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
    name = make_database(target).database
    click.echo(f'Restored {backup} into the empty database "{name}": {restored.tables} tables.')
    if restored.ledger_problems:
        click.echo("The ledger check fails on the restored database:", err=True)
        for problem in restored.ledger_problems[:20]:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    then = "start the shop's services" if shops_own else "point DATABASE_URL at it and start the shop"
    click.echo(f"The ledger check passes on it: {then} (the web service migrates it at start).")
