"""Credit-limit requests, personal credit limits and owner adjustments awaiting approval."""

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

    class CreditRequest(Base):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        amount = IntegerField()
        reason = TextField(default="")
        state = CharField(default="pending", index=True)
        approved_amount = IntegerField(null=True)
        note = TextField(default="")
        created_at = DateTimeField(index=True)
        decided_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="credit_decisions")

    class PendingAdjustment(Base):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        amount = IntegerField()
        reason_code = CharField()
        note = TextField(default="")
        message = TextField(default="")
        state = CharField(default="pending", index=True)
        requested_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="adjustment_requests")
        idempotency_key = CharField(unique=True)
        created_at = DateTimeField(index=True)
        decided_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="adjustment_decisions")

    db.create_tables([CreditRequest, PendingAdjustment])
    db.execute_sql(
        'CREATE UNIQUE INDEX "credit_request_one_pending" ON "credit_request" ("user_id") WHERE state = \'pending\''
    )
    migrator.migrate(migrator.add_column("user", "personal_credit_limit", IntegerField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "personal_credit_limit"))
    for table in ("pending_adjustment", "credit_request"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
