"""French and English (issue 23): each person's language, and the language of each order.

- `user.language`: "en", "fr", or "" (never chosen: the shop's default language).
- `order.language`: the customer's language when the order was placed; its emails and reminders
  are written in it ("" for orders placed before, and marketplace orders: the customer's, else the
  shop's default).
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "language", CharField(max_length=8, default="")),
        migrator.add_column("order", "language", CharField(max_length=8, default="")),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("user", "language"),
        migrator.drop_column("order", "language"),
    )
