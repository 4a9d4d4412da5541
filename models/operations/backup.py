"""Backups of the shop's database, checked, and restores: SQLite below, PostgreSQL further down.

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

On PostgreSQL `make_backup` runs pg_dump instead (the PostgreSQL part below says how it is
checked) and `restore_pg_dump` loads a dump into a new, empty database.
"""

import datetime
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from peewee import DatabaseError

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
            "This shop runs on PostgreSQL: its backups are pg_dump files (restore --into postgresql://…)."
        )
    return Path(db.obj.database)


def backup_name_format():
    """The dated name of a backup of the bound database: .sqlite3 or, on PostgreSQL, .dump."""
    return NAME_FORMAT if is_sqlite() else PG_DUMP_NAME_FORMAT


def backup_path(target, now):
    """`target` itself, or a file named for `now` inside it when it is a folder (an existing
    one, or any path written with a trailing slash, which is created)."""
    is_folder = str(target).endswith(os.sep) or Path(target).is_dir()
    target = Path(target)
    if is_folder:
        target.mkdir(parents=True, exist_ok=True)
        return target / now.astimezone(datetime.UTC).strftime(backup_name_format())
    return target


@dataclass(frozen=True)
class Backup:
    path: Path
    ledger_problems: list  # empty when the ledger check passes on the copy (a pg_dump: not run)


def make_backup(target, now=None):
    """A consistent copy of the live database at `target` (a file or a folder); returns a
    Backup. Nothing is left at the final name unless the copy is complete and sound."""
    now = now or datetime.datetime.now(datetime.UTC)
    destination = backup_path(target, now)
    if destination.exists():
        raise BackupError(f"{destination} exists already; choose another name.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if not is_sqlite():
        return _make_pg_dump(db.obj, destination)
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
    """Delete all but the newest `keep` backups of the bound database's kind named by
    `make_backup` in `folder` (.sqlite3 or .dump: a shop moved to PostgreSQL keeps its last
    SQLite copies until they are deleted by hand), and copies a killed backup left
    half-written; returns them."""
    suffix = Path(backup_name_format()).suffix
    backups = sorted(Path(folder).glob(f"shop-*{suffix}"))
    removed = (backups[:-keep] if keep > 0 else []) + sorted(Path(folder).glob("shop-*.partial"))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


# PostgreSQL ------------------------------------------------------------------------------------
#
# pg_dump in its custom format (compressed, one file, read back by pg_restore) from one snapshot
# of the database, so the dump is one instant however many payments are written meanwhile. Like
# the SQLite copy it is written under a temporary name and renamed only when pg_restore reads
# it back whole: `pg_restore --list` (its table of contents), then every data block decoded to
# nowhere (a dump cut short keeps a readable table of contents, so the list alone misses it).
# The ledger check runs every night on the live database at 03:00; a dump is not loaded to
# check it again (that needs a database of its own: `flask restore --into` does it by hand).
#
# The password never reaches a command line (`ps` shows those to every user): the programs get
# a libpq connection string without it and the password in PGPASSWORD, in their environment only.

PG_DUMP_NAME_FORMAT = "shop-%Y%m%d-%H%M%S.dump"
PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
LOCK_WAIT = "60s"  # pg_dump gives up instead of waiting behind a migration's lock all night


def pg_program(name):
    """The path of PostgreSQL's client program `name`: the newest of Debian's versions in
    /usr/lib/postgresql/*/bin (a newer pg_dump reads any older server), else the one on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BackupError(
        f"{name} was not found: install PostgreSQL's client programs (apt-get install postgresql-client)."
    )


def _conninfo_value(value):
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def pg_connection(database):
    """(libpq connection string without the password, environment with PGPASSWORD) for a
    Peewee PostgresqlDatabase (`make_database(url)`, or the shop's own `db.obj`)."""
    params = {key: value for key, value in database.connect_params.items() if value is not None}
    password = params.pop("password", None)
    params["dbname"] = database.database
    conninfo = " ".join(f"{key}={_conninfo_value(value)}" for key, value in sorted(params.items()))
    environment = dict(os.environ)
    if password is not None:
        environment["PGPASSWORD"] = str(password)
    return conninfo, environment


def _run(program, arguments, environment, what):
    """Run a PostgreSQL program; BackupError with the end of what it said when it fails."""
    done = subprocess.run(  # noqa: S603 - a list of arguments, no shell; the program is found above
        [pg_program(program), *arguments], env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        said = " ".join(done.stderr.split())[-600:] or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed: {said}")
    return done.stdout


def dump_problems(path):
    """Why pg_restore cannot read the dump at `path` back whole (empty list when it can)."""
    environment = dict(os.environ)
    try:
        listing = _run("pg_restore", ["--list", str(path)], environment, "pg_restore --list")
        if "TABLE DATA" not in listing:
            return ["the dump holds no table data"]
        _run("pg_restore", ["--file", os.devnull, str(path)], environment, "Reading the dump back")
    except BackupError as error:
        return [str(error)]
    return []


def _make_pg_dump(database, destination):
    """pg_dump of `database` into `destination`, under a temporary name until read back whole."""
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    conninfo, environment = pg_connection(database)
    try:
        _run(
            "pg_dump",
            [
                "--format=custom",
                f"--lock-wait-timeout={LOCK_WAIT}",
                "--file",
                str(partial),
                "--dbname",
                conninfo,
            ],
            environment,
            "pg_dump",
        )
        problems = dump_problems(partial)
        if problems:
            raise BackupError(f"The dump cannot be read back, so it was removed: {'; '.join(problems)}")
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(destination, [])


def table_count(database):
    """How many tables the PostgreSQL `database` has in its schema (0: a new, empty database)."""
    return database.execute_sql(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchone()[0]


@dataclass(frozen=True)
class PgRestore:
    tables: int  # how many tables the database has after the restore
    ledger_problems: list


def restore_pg_dump(backup, target_url):
    """Load the pg_dump file `backup` into the empty PostgreSQL database at `target_url`, in one
    transaction (a failure leaves it empty), then run the ledger check on it."""
    backup = Path(backup)
    if file_kind(backup) != "pg_dump":
        raise BackupError(f"{backup} is not a pg_dump file (custom format).")
    target = make_database(target_url)
    try:
        with target.connection_context():
            tables = table_count(target)
    except DatabaseError as error:
        raise BackupError(f"Cannot connect to the target database: {' '.join(str(error).split())}") from error
    if tables:
        raise BackupError(
            f"The target database is not empty ({tables} tables): restore into a new, empty database "
            "(createdb), never over a shop's data."
        )
    problems = dump_problems(backup)
    if problems:
        raise BackupError(f"{backup} cannot be read, nothing was changed: {'; '.join(problems)}")
    conninfo, environment = pg_connection(target)
    _run(
        "pg_restore",
        # No owner or privileges: the tables belong to the user restoring, whatever the old roles.
        [
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            conninfo,
            str(backup),
        ],
        environment,
        "pg_restore",
    )
    with target.connection_context():
        return PgRestore(table_count(target), check_ledger(target))


def file_kind(path):
    """ "sqlite", "pg_dump" or None, from the first bytes of the file at `path`."""
    with open(path, "rb") as handle:
        start = handle.read(len(SQLITE_MAGIC))
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    return None
