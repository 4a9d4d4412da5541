"""Three journal indexes no query reads: by kind, by creation time and by shop day.

Journals are found by their idempotency key (UNIQUE) or through their entries;
reports and history read the entries' own indexes. Every index is a page each
money movement writes and waits for at commit (bench/README.md), so these go.
The index on created_by_id stays: deleting a never-confirmed customer checks
that no journal names them, which without it reads every journal.
"""

DROPPED = (("kind",), ("created_at",), ("local_date",))


def up(migrator, db):
    migrator.migrate(*(migrator.drop_index("journal", f"journal_{column}") for (column,) in DROPPED))


def down(migrator, db):
    migrator.migrate(*(migrator.add_index("journal", columns) for columns in DROPPED))
