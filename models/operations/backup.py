"""Backups of the shop's SQLite database: consistent copies of a live file, checked, and restores.

A copy goes through SQLite's online backup API in one step, that is inside one
read transaction, so it is the database as it was at one instant however many
payments are written meanwhile (in WAL mode the read blocks no writer; a copy
in several steps would start over at every write, and a file copy of a WAL
database can be torn). The copy is written next to its final name and renamed
when complete and sound (`PRAGMA integrity_check`), so a backup folder never
holds half a backup; the ledger check runs on it too and its problems are
reported (a backup of a ledger with drift is still better than none). A
restore copies a backup that passes both checks into the database file the
same way, after keeping the file it replaces, and only while no scheduler
runs.

PostgreSQL shops back up with pg_dump; these functions are for SQLite only.
"""

import datetime
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from models.base import db
from models.base import is_sqlite
from models.base import make_database
from models.funds.ledger import check_ledger

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
    """`target` itself, or a file named for `now` inside it when it is a folder (an existing
    one, or any path written with a trailing slash, which is created)."""
    is_folder = str(target).endswith(os.sep) or Path(target).is_dir()
    target = Path(target)
    if is_folder:
        target.mkdir(parents=True, exist_ok=True)
        return target / now.astimezone(datetime.UTC).strftime(NAME_FORMAT)
    return target


@dataclass(frozen=True)
class Backup:
    path: Path
    ledger_problems: list  # empty when the ledger check passes on the copy


def make_backup(target, now=None):
    """A consistent copy of the live database at `target` (a file or a folder); returns a
    Backup. Nothing is left at the final name unless the copy is complete and sound."""
    now = now or datetime.datetime.now(datetime.UTC)
    destination = backup_path(target, now)
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose another name.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(database_file(), partial)
        damage = _integrity_problems(partial)
        if damage:
            raise BackupError(f"The copy is damaged: {'; '.join(damage[:5])}")
        ledger = _ledger_problems(partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(destination, ledger)


def restore_backup(backup, database=None):
    """Put the checked `backup` in place of the database file; returns where the replaced
    file was kept. The shop must be stopped (`flask restore` refuses while the scheduler runs)."""
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
    return _integrity_problems(path) or _ledger_problems(path)


def _integrity_problems(path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        return [f"not a readable SQLite database ({error})"]
    finally:
        connection.close()
    return [] if result == ["ok"] else result


def _ledger_problems(path):
    copy = make_database(f"sqlite:///{path}")
    with copy.connection_context():
        return check_ledger(copy)


def _copy(source, destination):
    """SQLite's online backup of `source` into `destination` (created or overwritten)."""
    reader = sqlite3.connect(str(source))
    writer = sqlite3.connect(str(destination))
    try:
        with writer:
            reader.backup(writer)  # one step: one read transaction, never restarted by writers
        writer.execute("PRAGMA journal_mode = wal")  # as the shop opens it
    finally:
        writer.close()
        reader.close()


def prune_backups(folder, keep):
    """Delete all but the newest `keep` backups named by `make_backup` in `folder`, and copies
    a killed backup left half-written; returns them."""
    backups = sorted(Path(folder).glob("shop-*.sqlite3"))
    removed = (backups[:-keep] if keep > 0 else []) + sorted(Path(folder).glob("shop-*.partial"))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
