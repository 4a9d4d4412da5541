"""Order fulfilment: dispatch and completion times, and refunds of paid orders."""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


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

    class OrderPayment(Base):
        class Meta:
            table_name = "order_payment"

    class OrderRefund(Base):
        order = ForeignKeyField(Order, on_delete="RESTRICT", index=True)
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        amount = IntegerField()
        destination = CharField()  # funds | original
        to_account = IntegerField(default=0)  # back into the customer's account
        to_card = IntegerField(default=0)
        to_bank = IntegerField(default=0)  # the shop pays it back by bank transfer
        funds_part = IntegerField(default=0)
        credit_part = IntegerField(default=0)
        card_part = IntegerField(default=0)
        bank_part = IntegerField(default=0)
        card_payment = ForeignKeyField(OrderPayment, null=True, on_delete="RESTRICT")
        card_state = CharField(default="")  # "" | pending | succeeded | failed
        provider_refund_id = CharField(null=True)
        failure = TextField(default="")
        attempts = IntegerField(default=0)
        last_attempt_at = DateTimeField(null=True)
        note = TextField(default="")
        idempotency_key = CharField(unique=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "order_refund"

    db.create_tables([OrderRefund])
    migrator.migrate(
        migrator.add_column("order", "dispatched_at", DateTimeField(null=True)),
        migrator.add_column("order", "completed_at", DateTimeField(null=True)),
        migrator.add_column("order", "refunded", IntegerField(default=0)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("order", "dispatched_at"),
        migrator.drop_column("order", "completed_at"),
        migrator.drop_column("order", "refunded"),
    )
    db.execute_sql('DROP TABLE IF EXISTS "order_refund"')
