"""The funds ledger: accounts with a cached balance, append-only journals and entries."""

import datetime

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

from models.dialect import create_append_only_triggers

SYSTEM_ACCOUNTS = ("provider_clearing", "sales", "funds_on_hold", "promotions", "refunds", "adjustments")


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class LedgerAccount(Base):
        code = CharField(unique=True)
        user = ForeignKeyField(User, null=True, unique=True, on_delete="RESTRICT")
        balance = IntegerField(default=0)
        credit_limit = IntegerField(default=0)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class Journal(Base):
        idempotency_key = CharField(unique=True)
        kind = CharField(index=True)
        memo = TextField(default="")
        request_hash = CharField(default="")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        corrects = ForeignKeyField("self", null=True, on_delete="RESTRICT")
        created_at = DateTimeField(index=True)
        local_date = DateField(index=True)

    class Entry(Base):
        journal = ForeignKeyField(Journal, on_delete="RESTRICT", index=True)
        account = ForeignKeyField(LedgerAccount, on_delete="RESTRICT")
        amount = IntegerField()
        category = CharField()
        funds_part = IntegerField(default=0)
        credit_part = IntegerField(default=0)
        balance_after = IntegerField()
        credit_limit_at = IntegerField(default=0)
        created_at = DateTimeField()

        class Meta:
            indexes = ((("account", "id"), False), (("category", "created_at"), False))

    class LedgerCheckRun(Base):
        at = DateTimeField(index=True)
        problems = TextField(default="[]")

    db.create_tables([LedgerAccount, Journal, Entry, LedgerCheckRun])
    create_append_only_triggers(db)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for code in SYSTEM_ACCOUNTS:
        LedgerAccount.create(code=code, created_at=now)


def down(migrator, db):
    for table in ("ledger_check_run", "entry", "journal", "ledger_account"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
