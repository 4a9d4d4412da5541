"""The orders' report index also holds the delivery price (issue 21), so the order-value report
(goods: total + funds discount − delivery) still reads a year of orders from the index alone."""

from playhouse.migrate import make_index_name

BEFORE = (
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
AFTER = (*BEFORE, "delivery_price")


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("order", make_index_name("order", BEFORE)),
        migrator.add_index("order", AFTER),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("order", make_index_name("order", AFTER)),
        migrator.add_index("order", BEFORE),
    )
