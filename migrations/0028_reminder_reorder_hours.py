"""Payment reminders skip an unpaid order that the customer followed with a paid order (issue 20).

- `reminder_settings.reorder_hours`: an unpaid order followed by an order of the same customer
  placed within this many hours and paid gets no reminder (models/reminders/plan.py,
  "paid_reorder"); 24 unless the owner changes it, 0 turns the rule off.
"""

from peewee import IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column("reminder_settings", "reorder_hours", IntegerField(default=24)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("reminder_settings", "reorder_hours"))
