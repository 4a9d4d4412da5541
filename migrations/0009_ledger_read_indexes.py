"""Ledger reads that stay fast however long a customer's history grows, for less writing.

Every entry now carries its journal's shop day (`local_date`, written with it
from now on), so a customer's movements can be filtered by day and paged by
(day, id) along an index instead of walking the whole history: one index per
account by (day, id), one by (category, day, id).

Each index is one more page every movement writes (and waits for at commit),
so two go: the plain (account_id) index, as the (account_id, id) one already
serves every lookup it did; and the index on journal.corrects_id keeps only
the corrections (the column is NULL on nearly every journal).
"""

from peewee import DateField
from peewee import Table

from models.dialect import create_append_only_triggers
from models.dialect import drop_append_only_triggers

NEW_INDEXES = (("account_id", "local_date", "id"), ("account_id", "category", "local_date", "id"))


def up(migrator, db):
    migrator.migrate(migrator.add_column("entry", "local_date", DateField(null=True)))
    # Filling the new column updates entry rows: lift the append-only guard for that only.
    drop_append_only_triggers(db, ("entry",))
    db.execute_sql(
        'UPDATE "entry" SET "local_date" = '
        '(SELECT "journal"."local_date" FROM "journal" WHERE "journal"."id" = "entry"."journal_id")'
    )
    create_append_only_triggers(db)
    migrator.migrate(
        *(migrator.add_index("entry", columns) for columns in NEW_INDEXES),
        migrator.drop_index("entry", "entry_account_id"),
        migrator.drop_index("journal", "journal_corrects_id"),
        migrator.add_index("journal", ("corrects_id",), where=_is_a_correction()),
    )


def _is_a_correction():
    return Table("journal").c.corrects_id.is_null(False)


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("journal", "journal_corrects_id"),
        migrator.add_index("journal", ("corrects_id",)),
        migrator.add_index("entry", ("account_id",)),
        *(migrator.drop_index("entry", "_".join(("entry", *columns))) for columns in NEW_INDEXES),
    )
    drop_append_only_triggers(db, ("entry",))
    migrator.migrate(migrator.drop_column("entry", "local_date"))
    create_append_only_triggers(db)
