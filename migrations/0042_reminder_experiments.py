"""Reminders that prove they work (issue 26): a control group and a second wording.

- `reminder_settings.holdout_percent`: the share of reminder-eligible orders held out at random
  (0 = none, the default); `reminder_settings.experiment_seed`: the shop's own random seed, made
  here once, from which every assignment is derived (models/reminders/experiment.py).
- `reminder.arm`: "reminded" or "held_out", recorded when the row is planned; `reminder.variant`:
  "A" or "B", the wording it was planned with. A held-out row ends in the state "held_out"
  (never sent); rows planned before this migration were all reminded with wording A.
- `reminder_variant`: the owner's wording B of a segment's reminder (its other languages are
  `translated_text` rows of the kind "reminder_variant").
"""

import datetime
import secrets

from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model
from peewee import SQL
from peewee import Table
from peewee import TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("reminder_settings", "holdout_percent", IntegerField(default=0)),
        migrator.add_column("reminder_settings", "experiment_seed", CharField(default="")),
        # With the database's own DEFAULT too: code from before this migration (a worker not yet
        # restarted, the benchmark's earlier revision) still inserts rows without these columns.
        migrator.add_column(
            "reminder", "arm", CharField(default="reminded", constraints=[SQL("DEFAULT 'reminded'")])
        ),
        migrator.add_column(
            "reminder", "variant", CharField(default="A", max_length=1, constraints=[SQL("DEFAULT 'A'")])
        ),
    )
    settings = Table("reminder_settings").bind(db)
    settings.update(experiment_seed=secrets.token_hex(16)).where(settings.c.experiment_seed == "").execute()

    class ReminderVariant(Model):
        segment = CharField(unique=True)
        subject = CharField()
        body = TextField()
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "reminder_variant"

    db.create_tables([ReminderVariant])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "reminder_variant"')
    migrator.migrate(
        migrator.drop_column("reminder", "variant"),
        migrator.drop_column("reminder", "arm"),
        migrator.drop_column("reminder_settings", "experiment_seed"),
        migrator.drop_column("reminder_settings", "holdout_percent"),
    )
