"""Order emails that follow the payment (issue 18).

- `order.placed_email_at`: when the order's first email to its customer was queued (the receipt,
  the bank details, "your card payment didn't go through" or "waiting for payment"; see
  models/orders/messages.py). The UPDATE that sets it where it is NULL is what lets exactly one
  of them go. Orders placed before this migration were emailed when placed, so they get their
  creation time. Indexed with the status: the tick looks for unpaid orders without it.
- `shop_settings.new_order_emails`: the owner's emails about new orders (each | daily | none).
- `new_order_digest`: one row per shop day whose daily digest was dealt with (UNIQUE day), so a
  restart or a second scheduler never sends a digest twice.
"""

import datetime

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class NewOrderDigest(Base):
        day = DateField(unique=True)  # the shop day whose new orders it lists
        orders = IntegerField(default=0)  # how many; 0: nothing was sent
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "new_order_digest"

    db.create_tables([NewOrderDigest])
    migrator.migrate(
        migrator.add_column("order", "placed_email_at", DateTimeField(null=True)),
        migrator.add_column("shop_settings", "new_order_emails", CharField(default="each")),
    )
    db.execute_sql('UPDATE "order" SET placed_email_at = created_at')
    migrator.migrate(migrator.add_index("order", ("placed_email_at", "status"), unique=False))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("order", "order_placed_email_at_status"),
        migrator.drop_column("order", "placed_email_at"),
        migrator.drop_column("shop_settings", "new_order_emails"),
    )
    db.execute_sql('DROP TABLE IF EXISTS "new_order_digest"')
