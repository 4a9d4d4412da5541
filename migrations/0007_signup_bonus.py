"""The signup bonus: a shop setting, credited once when a new customer confirms their email."""

from peewee import IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column("shop_settings", "signup_bonus", IntegerField(default=0)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("shop_settings", "signup_bonus"))
