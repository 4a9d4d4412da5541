"""Refunds of deposited funds to the customer's card through the payment provider."""

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
        class Meta:
            table_name = "top_up"

    class Refund(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        top_up = ForeignKeyField(TopUp, on_delete="RESTRICT", index=True)
        amount = IntegerField()
        bonus_reversal = IntegerField(default=0)
        bonus_due = IntegerField(default=0)
        state = CharField(default="pending", index=True)  # pending | succeeded | failed
        provider_refund_id = CharField(null=True)
        failure = TextField(default="")
        note = TextField(default="")
        idempotency_key = CharField(unique=True)
        attempts = IntegerField(default=0)
        last_attempt_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="refunds_made")
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "refund"

    db.create_tables([Refund])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "refund"')
