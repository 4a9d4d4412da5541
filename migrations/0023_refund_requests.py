"""Customers' requests for a refund of their deposited money, decided by the owner in Approvals;
at most one waiting per customer."""

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

    class RefundRequest(Base):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        amount = IntegerField()
        note = TextField(default="")
        state = CharField(default="pending", index=True)
        refunded = IntegerField(default=0)
        reason = TextField(default="")
        created_at = DateTimeField(index=True)
        decided_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="refund_decisions")

        class Meta:
            table_name = "refund_request"

    db.create_tables([RefundRequest])
    db.execute_sql(
        'CREATE UNIQUE INDEX "refund_request_one_pending" ON "refund_request" ("user_id") WHERE state = \'pending\''
    )


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "refund_request"')
