"""Reads never write (issue 20, 6): the reminder settings' one row is saved here with its defaults,
so `flask reminders plan`, the owner's pages and the jobs only ever read it (it used to be created
by the first read, which on a fresh database then waited behind any other writer).

The shop's own settings take their first values from the environment, so they are saved by
`flask migrate` itself after the migrations (models/operations/migrate.py), not here.
"""

import datetime

from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

# The defaults as of this migration (models/reminders/settings.py has the same as the model's).
DEFAULTS = {
    "enabled": True,
    "mode": "dispatch",
    "dispatch_times": "",  # "" = the default dispatch times
    "closed_dates": "",
    "window_minutes": 60,
    "hours_after_order": 2,
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "min_age_minutes": 60,
    "cancel_margin_hours": 6,
    "max_per_order": 2,
    "reorder_hours": 24,
}


def up(migrator, db):
    class ReminderSettings(Model):
        enabled = BooleanField()
        mode = CharField()
        dispatch_times = TextField()
        closed_dates = TextField()
        window_minutes = IntegerField()
        hours_after_order = IntegerField()
        quiet_start = CharField()
        quiet_end = CharField()
        min_age_minutes = IntegerField()
        cancel_margin_hours = IntegerField()
        max_per_order = IntegerField()
        reorder_hours = IntegerField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "reminder_settings"

    # A shop that has run before has its row (the first read made it), with the owner's choices.
    if not ReminderSettings.select().exists():
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        ReminderSettings.insert(id=1, updated_at=now, **DEFAULTS).execute()


def down(migrator, db):
    pass  # the row stays: the code before this migration reads it as it is
