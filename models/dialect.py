"""The SQL that differs between SQLite and PostgreSQL, in one place with both versions."""

from peewee import fn
from peewee import SqliteDatabase

# Tables whose rows may never change once written (the ledger's history).
APPEND_ONLY_TABLES = ("journal", "entry")


def create_append_only_triggers(db, tables=APPEND_ONLY_TABLES):
    """Make UPDATE and DELETE fail on `tables`. Safe to run again (drops first)."""
    drop_append_only_triggers(db, tables)
    for table in tables:
        if _sqlite(db):
            for action in ("UPDATE", "DELETE"):
                db.execute_sql(
                    f'CREATE TRIGGER "{table}_no_{action.lower()}" BEFORE {action} ON "{table}" '
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"
                )
        else:
            # %% because the PostgreSQL driver reads a lone % as a parameter placeholder.
            # SQLSTATE 23000 makes it an IntegrityError, as RAISE(ABORT) is on SQLite
            # (a plain RAISE EXCEPTION would surface as InternalError).
            db.execute_sql(
                "CREATE OR REPLACE FUNCTION shop_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION '%% rows are append-only', TG_TABLE_NAME "
                "USING ERRCODE = 'integrity_constraint_violation'; END $$ LANGUAGE plpgsql"
            )
            db.execute_sql(
                f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
                "FOR EACH ROW EXECUTE FUNCTION shop_append_only()"
            )


def drop_append_only_triggers(db, tables=APPEND_ONLY_TABLES):
    """For migrations that must rebuild a protected table: drop, change, then create again."""
    for table in tables:
        if _sqlite(db):
            for action in ("update", "delete"):
                db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_no_{action}"')
        else:
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}"')


def _sqlite(db):
    database = getattr(db, "obj", db)  # the shared proxy or a database
    return isinstance(database, SqliteDatabase)


def integers_aggregate(db, expression):
    """An aggregate that collects a group's integers (NULLs left out) in one value, read back
    with `integers_of()`: one value per group instead of a row per integer, for reports that
    need every value (medians) over a year of orders."""
    if _sqlite(db):
        return fn.GROUP_CONCAT(expression)
    return fn.ARRAY_REMOVE(fn.ARRAY_AGG(expression), None)


def integers_of(value):
    """The integers an `integers_aggregate()` collected: text on SQLite, a list on PostgreSQL."""
    if not value:
        return []
    if isinstance(value, str):
        return list(map(int, value.split(",")))
    return list(value)
