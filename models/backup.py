"""Backups of the shop's SQLite database: consistent copies of a live file, checked, and restores.

A copy goes through SQLite's online backup API, page by page inside one read
transaction, so it is the database as it was at one instant however many
payments are being written meanwhile (a file copy of a WAL database can be
torn). The copy is written next to its final name and renamed when complete
and checked (`PRAGMA integrity_check` and the ledger check), so a backup
folder never holds half a backup. A restore copies a checked backup into the
database file the same way, after keeping the file it replaces.

PostgreSQL shops back up with pg_dump; these functions are for SQLite only.
"""

import datetime
import os
import sqlite3
from pathlib import Path

from models.base import db
from models.base import is_sqlite
from models.base import make_database

PAGES_PER_STEP = 1024  # the backup lets writers in between steps of this many pages
NAME_FORMAT = "shop-%Y%m%d-%H%M%S.sqlite3"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def database_file():
    """The path of the bound SQLite database (BackupError on PostgreSQL)."""
    if not is_sqlite():
        raise BackupError(
            "This shop runs on PostgreSQL: back it up with pg_dump (README, Running in production)."
        )
    return Path(db.obj.database)


def backup_path(target, now):
    """`target` itself, or a file named for `now` inside it when it is a folder."""
    target = Path(target)
    if target.is_dir():
        return target / now.astimezone(datetime.UTC).strftime(NAME_FORMAT)
    return target


def make_backup(target, now=None):
    """A consistent, checked copy of the live database at `target` (a file or a folder);
    returns its path. Nothing is left at the final name unless the copy is complete and sound."""
    now = now or datetime.datetime.now(datetime.UTC)
    destination = backup_path(target, now)
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose another name.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(database_file(), partial)
        problems = check_file(partial)
        if problems:
            raise BackupError(f"The copy failed its checks: {'; '.join(problems[:5])}")
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def restore_backup(backup, database=None):
    """Put the checked `backup` in place of the database file (the shop must be stopped);
    returns where the replaced file was kept."""
    backup = Path(backup)
    if not backup.is_file():
        raise BackupError(f"There is no backup at {backup}.")
    problems = check_file(backup)
    if problems:
        raise BackupError(f"{backup} failed its checks, nothing was changed: {'; '.join(problems[:5])}")
    database = Path(database) if database else database_file()
    kept = database.with_name(f"{database.name}.before-restore-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    if database.exists():
        _copy(database, kept)
    _copy(backup, database)
    return kept if kept.exists() else None


def check_file(path):
    """Problems with the SQLite file at `path`: its integrity, then the ledger's invariants."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [f"not a readable SQLite database ({error})"]
    finally:
        connection.close()
    if result != ["ok"]:
        return result
    return _ledger_problems(path)


def _ledger_problems(path):
    from models.ledger import check_ledger

    copy = make_database(f"sqlite:///{path}")
    with copy.connection_context():
        return check_ledger(copy)


def _copy(source, destination):
    """SQLite's online backup of `source` into `destination` (created or overwritten)."""
    reader = sqlite3.connect(str(source))
    writer = sqlite3.connect(str(destination))
    try:
        with writer:
            reader.backup(writer, pages=PAGES_PER_STEP)
        writer.execute("PRAGMA journal_mode = wal")  # as the shop opens it
    finally:
        writer.close()
        reader.close()


def prune_backups(folder, keep):
    """Delete all but the newest `keep` backups named by `make_backup` in `folder`; returns them."""
    backups = sorted(Path(folder).glob("shop-*.sqlite3"))
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink()
    return removed
