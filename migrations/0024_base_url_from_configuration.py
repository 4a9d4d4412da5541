"""The shop's public address is configuration only (SHOP_BASE_URL, read on every start).

It used to be copied into shop_settings.base_url on the first run and used from there, so a
shop that moved kept mailing links to its old address. Going down restores the column with the
default address; the owner's settings page no longer edits it.
"""

from peewee import CharField


def up(migrator, db):
    migrator.migrate(migrator.drop_column("shop_settings", "base_url"))


def down(migrator, db):
    migrator.migrate(
        migrator.add_column("shop_settings", "base_url", CharField(default="http://127.0.0.1:5000"))
    )
