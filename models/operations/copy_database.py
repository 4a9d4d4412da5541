"""Moving a shop from SQLite to PostgreSQL: every row copied, then checked on both sides.

`flask --app shop copy-to-postgres postgresql://…` (README, Running in production). The
target must be a new, empty database: it is migrated with the same migrations, so the
two schemas are the same, the rows the migrations seed are cleared, then every table is
copied, its ids kept, all in one transaction on the target (a failure leaves it empty
again, so the command can be run again) reading one moment of the source. Tables go parents first (foreign
keys are checked row by row); the one cycle (a customer's default addresses point at
addresses that point at the customer) is broken by copying those columns empty and
filling them in afterwards. Then each id
sequence continues after the copied ids, the row counts are compared table by table
and the ledger check runs on the copy. The source is only read.
"""

from dataclasses import dataclass

import psycopg2
from peewee import DatabaseError
from playhouse.migrations import Runner
from psycopg2.extras import execute_values

from models.base import db
from models.base import is_sqlite
from models.base import make_database
from models.dialect import APPEND_ONLY_TABLES
from models.funds.ledger import check_ledger
from models.operations.migrate import MIGRATIONS_DIR

MIGRATIONS_TABLE = "schema_migration"
BATCH = 2000
# Rows with pictures in them (a rendition is up to a few hundred kB) go a few at a time, so the
# copy's memory stays small however many pictures the shop has.
BLOB_BATCH = 20


class CopyError(Exception):
    """The copy cannot start or did not check out; the message says why."""


@dataclass
class CopyReport:
    rows: dict  # table -> rows copied


def copy_to_postgres(target_url, progress=lambda line: None):
    """Copy the bound SQLite database into the empty PostgreSQL database at `target_url`."""
    if not is_sqlite():
        raise CopyError("The shop's database is not SQLite: there is nothing to move.")
    if not target_url.startswith(("postgres://", "postgresql://")):
        raise CopyError("The target must be a postgresql:// URL.")
    problems = check_ledger()
    if problems:
        raise CopyError(f"The SQLite ledger check fails; fix that first: {'; '.join(problems[:3])}")
    source = db.obj
    target = make_database(target_url)
    with target.connection_context():
        _refuse_if_not_empty(target)
        # One transaction on each side: the copy is all or nothing (PostgreSQL rolls back the
        # schema too, so a failed copy can simply be run again), from one moment of the source.
        with target.atomic(), source.atomic():
            Runner(target, str(MIGRATIONS_DIR)).up()
            tables = _source_tables(source)
            order, deferred = _copy_order(target, tables)
            # The migrations seed rows (the default group, system accounts, reminder texts):
            # the source has them too, with their own ids and later changes.
            target.execute_sql(
                "TRUNCATE " + ", ".join(f'"{table}"' for table in tables) + " RESTART IDENTITY"
            )
            rows = {}
            for table in order:
                rows[table] = _copying(
                    table, _copy_table, source, target, table, deferred.get(table, ()), progress
                )
            for table, columns in deferred.items():
                _copying(table, _fill_deferred, source, target, table, columns)
            for table in order:
                _continue_ids(target, table)
            _compare_counts(source, target, rows)
            problems = check_ledger(target)
            if problems:
                raise CopyError(f"The ledger check fails on the copy: {'; '.join(problems[:3])}")
    return CopyReport(rows)


def _copying(table, step, *args):
    """Run one step of the copy; a database error names the table it happened in."""
    try:
        return step(*args)
    except (DatabaseError, psycopg2.Error) as error:  # the copy's fast path uses psycopg2 directly
        raise CopyError(f'Copying "{table}" failed, nothing was written: {str(error).strip()}') from error


def _source_tables(source):
    names = source.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != ?",
        (MIGRATIONS_TABLE,),
    ).fetchall()
    return sorted(name for (name,) in names)


def _refuse_if_not_empty(target):
    tables = target.execute_sql(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchone()[0]
    if tables:
        raise CopyError(f"The target database is not empty ({tables} tables): use a new, empty database.")


def _foreign_keys(target):
    """[(table, column, referenced table, column is nullable)] of the target's schema."""
    return target.execute_sql(
        """
        SELECT kcu.table_name, kcu.column_name, ccu.table_name, col.is_nullable = 'YES'
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
        JOIN information_schema.constraint_column_usage ccu
          ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
        JOIN information_schema.columns col
          ON col.table_schema = kcu.table_schema AND col.table_name = kcu.table_name
         AND col.column_name = kcu.column_name
        WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()
        """
    ).fetchall()


def _copy_order(target, tables):
    """(tables parents first, {table: columns to copy empty and fill in afterwards}).

    A table referencing itself is copied in id order (a row points at an older one);
    where tables reference each other, a nullable column of the cycle waits.
    """
    needs = {table: {} for table in tables}  # table -> {column: (parent, nullable)}
    for table, column, parent, nullable in _foreign_keys(target):
        if table in needs and parent in needs and parent != table:
            needs[table][column] = (parent, nullable)
    order, deferred, placed = [], {}, set()
    while len(order) < len(tables):
        ready = [t for t in tables if t not in placed and all(p in placed for p, _ in needs[t].values())]
        if not ready:  # a cycle: place a table whose waiting references may be empty for a while
            table = next(
                t
                for t in tables
                if t not in placed
                and t not in APPEND_ONLY_TABLES
                and all(nullable or p in placed for p, nullable in needs[t].values())
            )
            deferred[table] = [c for c, (p, _) in needs[table].items() if p not in placed]
            ready = [table]
        for table in ready:
            order.append(table)
            placed.add(table)
    return order, deferred


def _columns(target, table):
    """[(column, is boolean)] of a target table, in order."""
    return target.execute_sql(
        "SELECT column_name, data_type = 'boolean' FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()


def _has_blobs(target, table):
    return bool(
        target.execute_sql(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND data_type = 'bytea'",
            (table,),
        ).fetchone()
    )


def _copy_table(source, target, table, deferred_columns, progress):
    columns = _columns(target, table)
    names = [name for name, _ in columns]
    booleans = [is_boolean for _, is_boolean in columns]
    blank = [name in deferred_columns for name in names]
    column_list = ", ".join(f'"{name}"' for name in names)
    order = ' ORDER BY "id"' if "id" in names else ""
    rows = source.execute_sql(f'SELECT {column_list} FROM "{table}"{order}')
    insert = f'INSERT INTO "{table}" ({column_list}) VALUES %s'
    cursor = target.cursor()
    copied = 0
    size = BLOB_BATCH if _has_blobs(target, table) else BATCH
    while batch := rows.fetchmany(size):
        values = [
            tuple(
                None if empty else (bool(value) if is_bool and value is not None else value)
                for value, is_bool, empty in zip(row, booleans, blank, strict=True)
            )
            for row in batch
        ]
        execute_values(cursor, insert, values, page_size=size)
        copied += len(values)
    progress(f"{table}: {copied} rows")
    return copied


def _fill_deferred(source, target, table, columns):
    selected = ", ".join(f'"{column}"' for column in columns)
    assignments = ", ".join(f'"{column}" = %s' for column in columns)
    rows = source.execute_sql(f'SELECT "id", {selected} FROM "{table}"').fetchall()
    cursor = target.cursor()
    for row_id, *values in rows:
        if any(value is not None for value in values):
            cursor.execute(f'UPDATE "{table}" SET {assignments} WHERE "id" = %s', (*values, row_id))


def _continue_ids(target, table):
    """The table's id sequence continues after the copied ids (new rows must not collide)."""
    if "id" not in {name for name, _ in _columns(target, table)}:
        return
    has_sequence = target.execute_sql("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)).fetchone()[
        0
    ]
    if has_sequence:
        target.execute_sql(
            f'SELECT setval(%s, COALESCE(MAX("id"), 1), MAX("id") IS NOT NULL) FROM "{table}"',
            (has_sequence,),
        )


def _compare_counts(source, target, copied):
    for table, count in copied.items():
        in_source = source.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        in_target = target.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        if not in_source == in_target == count:
            raise CopyError(f'"{table}": {in_source} rows in SQLite, {in_target} in PostgreSQL.')
