"""Payment reminders: their settings and templates, the batches (one per window) and one small
row per reminder, whose partial UNIQUE indexes make a second reminder of the same number for an
order, or a second message to a customer on the same shop day, impossible. Customers can opt
out; outbox messages can carry extra headers (List-Unsubscribe) and a time after which they are
not delivered; orders are found by payment time (a customer who paid today is not reminded)."""

import datetime

from peewee import BooleanField
from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

ONE_PER_ORDER_NUMBER = "reminder_one_per_order_number"
ONE_PER_CUSTOMER_DAY = "reminder_one_per_customer_day"


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Order(Base):
        class Meta:
            table_name = "order"

    class Category(Base):
        class Meta:
            table_name = "category"

    class OutboxMessage(Base):
        class Meta:
            table_name = "outbox_message"

    class ReminderSettings(Base):
        enabled = BooleanField(default=True)
        mode = CharField(default="dispatch")  # dispatch | after_order
        dispatch_times = TextField(default="")  # JSON {"mon": ["11:00", "17:00"], …}
        closed_dates = TextField(default="")  # one ISO date per line
        window_minutes = IntegerField(default=60)
        hours_after_order = IntegerField(default=2)
        quiet_start = CharField(default="21:00")
        quiet_end = CharField(default="08:00")
        min_age_minutes = IntegerField(default=60)
        cancel_margin_hours = IntegerField(default=6)
        max_per_order = IntegerField(default=2)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "reminder_settings"

    class ReminderTemplate(Base):
        segment = CharField(unique=True)
        subject = CharField()
        body = TextField()
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "reminder_template"

    class CategoryParagraph(Base):
        category = ForeignKeyField(Category, unique=True, on_delete="CASCADE")
        text = TextField()

        class Meta:
            table_name = "reminder_category_paragraph"

    class ReminderBatch(Base):
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

    class Reminder(Base):
        batch = ForeignKeyField(ReminderBatch, on_delete="CASCADE", index=True)
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
        segment = CharField()
        template = CharField()
        reminder_number = IntegerField()
        local_date = DateField(index=True)
        state = CharField(default="planned", index=True)  # planned | sent | cancelled
        cancel_reason = CharField(default="")
        outbox_message = ForeignKeyField(OutboxMessage, null=True, on_delete="SET NULL")
        planned_at = DateTimeField()
        decided_at = DateTimeField(null=True)

        class Meta:
            table_name = "reminder"

    db.create_tables([ReminderSettings, ReminderTemplate, CategoryParagraph, ReminderBatch, Reminder])
    # Cancelled rows (the order was paid meanwhile…) don't count: they were never sent.
    db.execute_sql(
        f'CREATE UNIQUE INDEX "{ONE_PER_ORDER_NUMBER}" ON "reminder" ("order_id", "reminder_number") '
        "WHERE state <> 'cancelled'"
    )
    db.execute_sql(
        f'CREATE UNIQUE INDEX "{ONE_PER_CUSTOMER_DAY}" ON "reminder" ("user_id", "local_date") '
        "WHERE state <> 'cancelled'"
    )
    migrator.migrate(
        migrator.add_column("user", "reminders_opted_out_at", DateTimeField(null=True)),
        migrator.add_column("outbox_message", "headers", TextField(default="")),
        migrator.add_column("outbox_message", "expires_at", DateTimeField(null=True)),
        migrator.add_index("order", ("paid_at",), unique=False),
        # Counting a customer's paid orders (their reminder's segment) without reading the rows.
        migrator.add_index("order", ("user_id", "paid_at"), unique=False),
    )


def down(migrator, db):
    for table in ("reminder", "reminder_batch", "reminder_category_paragraph", "reminder_template"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
    db.execute_sql('DROP TABLE IF EXISTS "reminder_settings"')
    migrator.migrate(
        migrator.drop_index("order", "order_user_id_paid_at"),
        migrator.drop_index("order", "order_paid_at"),
        migrator.drop_column("outbox_message", "expires_at"),
        migrator.drop_column("outbox_message", "headers"),
        migrator.drop_column("user", "reminders_opted_out_at"),
    )
