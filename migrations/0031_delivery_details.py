"""Where and when a pickup is collected (issue 21).

- `delivery_method.details`: for a pickup, the address and opening times the customer reads at
  checkout and on their order ("12 Rue des Lilas, Lyon. Mon–Sat 10:00–18:00").
- `order.delivery_details`: a copy made when the order is placed (the method may change later).
"""

from peewee import TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("delivery_method", "details", TextField(default="")),
        migrator.add_column("order", "delivery_details", TextField(default="")),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("order", "delivery_details"),
        migrator.drop_column("delivery_method", "details"),
    )
