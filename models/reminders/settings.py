"""The owner's reminder settings: dispatch times or hours after the order, quiet hours, limits,
the re-order time, the share held out as a control group."""

import datetime
import json

from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit_changes
from models.shop.settings import SettingsMissing

DISPATCH, AFTER_ORDER = "dispatch", "after_order"


MODES = (DISPATCH, AFTER_ORDER)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


DEFAULT_DISPATCH_TIMES = {day: (["11:00", "17:00"] if day not in ("sat", "sun") else []) for day in WEEKDAYS}


class ReminderSettings(BaseModel):
    enabled = BooleanField(default=True)
    mode = CharField(default=DISPATCH)
    dispatch_times = TextField(default="")  # JSON {"mon": ["11:00", "17:00"], …}; "" = the defaults
    closed_dates = TextField(default="")  # one ISO date per line
    window_minutes = IntegerField(default=60)
    hours_after_order = IntegerField(default=2)
    quiet_start = CharField(default="21:00")
    quiet_end = CharField(default="08:00")
    min_age_minutes = IntegerField(default=60)
    cancel_margin_hours = IntegerField(default=6)
    max_per_order = IntegerField(default=2)
    # An unpaid order followed, within this many hours, by an order of the same customer that is
    # paid gets no reminder: they ordered again and paid that one (plan.py, "paid_reorder"); 0 = off.
    reorder_hours = IntegerField(default=24)
    # The control group (models/reminders/experiment.py): the share of reminder-eligible orders
    # held out at random, and the shop's seed every assignment is derived from (migration 0042).
    holdout_percent = IntegerField(default=0)
    experiment_seed = CharField(default="")
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reminder_settings"

    def times_by_weekday(self):
        """{0 (Monday) … 6: sorted list of datetime.time}."""
        table = json.loads(self.dispatch_times) if self.dispatch_times else DEFAULT_DISPATCH_TIMES
        return {
            index: sorted(datetime.time.fromisoformat(text) for text in table.get(day, []))
            for index, day in enumerate(WEEKDAYS)
        }

    def closed(self):
        return {
            datetime.date.fromisoformat(line.strip()) for line in self.closed_dates.split() if line.strip()
        }


def load_reminder_settings():
    """The settings row (migration 0029 saved it with the defaults). Reads only."""
    settings = ReminderSettings.get_or_none(ReminderSettings.id == 1)
    if settings is None:
        raise SettingsMissing(
            "The reminder settings are not in the database: run `flask --app shop migrate`."
        )
    return settings


def update_reminder_settings(changes, actor=None):
    """Apply the owner's changes to the reminder settings in one write (audited); returns the row."""
    with write_transaction():
        current = ReminderSettings.get_by_id(1)
        changed = audit_changes(actor, "reminder_settings_changed", "payment reminders", current, changes)
        if changed:
            ReminderSettings.update(**changed, updated_at=utcnow()).where(ReminderSettings.id == 1).execute()
    return ReminderSettings.get_by_id(1)
