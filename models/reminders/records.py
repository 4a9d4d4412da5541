"""What was planned and sent: a batch per window, a row per reminder, each with its state (and
its group and wording); the owner's wording B of a segment."""

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.orders.order import Order
from models.shop.outbox import OutboxMessage
from models.users.user import User

PLANNED, SENT, CANCELLED = "planned", "sent", "cancelled"
# A row of the control group that passed the check before sending: decided like a sent one,
# never sent (models/reminders/experiment.py).
HELD_OUT = "held_out"
# Which group a row was planned in, recorded before anything is sent.
REMINDED = "reminded"
ARMS = (REMINDED, HELD_OUT)
# Rows that were decided for the customer: sent, or held out at the moment they would have been.
DECIDED = (SENT, HELD_OUT)


class ReminderBatch(BaseModel):
    window_key = CharField(unique=True)
    mode = CharField()
    window_start = DateTimeField()
    window_end = DateTimeField()
    dispatch_at = DateTimeField(null=True)
    local_date = DateField(index=True)
    planned_at = DateTimeField(index=True)
    finished_at = DateTimeField(null=True)
    excluded = IntegerField(default=0)

    class Meta:
        table_name = "reminder_batch"


class Reminder(BaseModel):
    batch = ForeignKeyField(ReminderBatch, on_delete="CASCADE", index=True, backref="reminders")
    user = ForeignKeyField(User, on_delete="CASCADE", index=True)
    order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
    segment = CharField()
    template = CharField()
    reminder_number = IntegerField()
    local_date = DateField(index=True)
    state = CharField(default=PLANNED, index=True)
    cancel_reason = CharField(default="")
    arm = CharField(default=REMINDED)  # REMINDED | HELD_OUT, recorded when planned
    variant = CharField(default="A", max_length=1)  # the wording planned: "A", or the owner's "B"
    outbox_message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
    planned_at = DateTimeField()
    decided_at = DateTimeField(null=True)

    class Meta:
        table_name = "reminder"


class ReminderVariant(BaseModel):
    """The owner's wording B of a segment's reminder (messages.py saves and promotes it)."""

    segment = CharField(unique=True)
    subject = CharField()
    body = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reminder_variant"
