"""Top-ups through a payment provider, and the built-in sandbox provider's own state."""

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

    class TopUp(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        amount = IntegerField()
        bonus = IntegerField(default=0)
        currency = CharField(max_length=3)
        state = CharField(default="pending", index=True)
        provider = CharField(default="sandbox")
        provider_payment_id = CharField(null=True, unique=True)
        redirect_url = TextField(default="")
        idempotency_key = CharField(unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "top_up"

    class SandboxPayment(Base):
        public_id = CharField(unique=True)
        amount = IntegerField()
        currency = CharField(max_length=3)
        reference = CharField()
        idempotency_key = CharField(unique=True)
        return_url = TextField()
        status = CharField(default="pending")  # pending | succeeded | failed
        outcome = CharField(default="")  # the payer's choice on the hosted page
        settles_at = DateTimeField(null=True)  # "late": the provider decides at this instant
        refunded = IntegerField(default=0)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "sandbox_payment"

    class SandboxNotification(Base):
        payment = ForeignKeyField(SandboxPayment, on_delete="CASCADE", index=True)
        body = TextField()
        deliver_after = DateTimeField(index=True)
        delivered_at = DateTimeField(null=True, index=True)
        attempts = IntegerField(default=0)
        last_status = IntegerField(null=True)

        class Meta:
            table_name = "sandbox_notification"

    class SandboxRefund(Base):
        payment = ForeignKeyField(SandboxPayment, on_delete="CASCADE", index=True)
        amount = IntegerField()
        idempotency_key = CharField(unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "sandbox_refund"

    db.create_tables([TopUp, SandboxPayment, SandboxNotification, SandboxRefund])


def down(migrator, db):
    for table in ("sandbox_refund", "sandbox_notification", "sandbox_payment", "top_up"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
