"""Indexes the owner's reports read without touching table rows (models/reports.py).

Reports sum a year of ledger entries and orders by shop day. The entry index by
(category, created_at), which only reports were meant to use, becomes one by
(category, local_date) that also holds the account and the amounts, so a
period's sums per category are read from the index alone: the ledger still
writes the same number of index pages per movement. The orders' plain
local_date index becomes one that also holds what the reports add up (the
parts of the payment, the discount, the customer, when it was paid), so a
year of orders is read without their address columns.
"""

from playhouse.migrate import make_index_name

ENTRY_REPORT = ("category", "local_date", "account_id", "amount", "credit_part")
ORDER_REPORT = (
    "local_date",
    "paid_at",
    "user_id",
    "total",
    "funds_used",
    "credit_used",
    "card_amount",
    "bank_amount",
    "marketplace_amount",
    "funds_discount",
)


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("entry", "entry_category_created_at"),
        migrator.add_index("entry", ENTRY_REPORT),
        migrator.drop_index("order", "order_local_date"),
        migrator.add_index("order", ORDER_REPORT),
    )


def down(migrator, db):
    migrator.migrate(
        # The names add_index gave them (long ones end in a digest).
        migrator.drop_index("order", make_index_name("order", ORDER_REPORT)),
        migrator.add_index("order", ("local_date",)),
        migrator.drop_index("entry", make_index_name("entry", ENTRY_REPORT)),
        migrator.add_index("entry", ("category", "created_at")),
    )
