"""What was planned and sent: a batch per window, a row per reminder, each with its state."""

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField

from models.base import BaseModel
from models.orders.order import Order
from models.shop.outbox import OutboxMessage
from models.users.user import User

PLANNED, SENT, CANCELLED = "planned", "sent", "cancelled"


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
    outbox_message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
    planned_at = DateTimeField()
    decided_at = DateTimeField(null=True)

    class Meta:
        table_name = "reminder"
