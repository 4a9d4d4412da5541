"""Shop-wide funds defaults (groups may override them), credit terms, monthly statements,
repayments through the provider, and a system account for bank transfers."""

import datetime

from peewee import BooleanField
from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model


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
        balance = IntegerField(default=0)
        credit_limit = IntegerField(default=0)
        created_at = DateTimeField()

        class Meta:
            table_name = "ledger_account"

    class CustomerGroup(Base):
        topup_min = IntegerField()
        topup_max = IntegerField()
        default_credit_limit = IntegerField()
        own_limits = BooleanField()

        class Meta:
            table_name = "customer_group"

    class CreditStatement(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        period_start = DateField()
        period_end = DateField()  # exclusive: the first day of the next period
        closed_at = DateTimeField()  # period_end's midnight in shop time, as naive UTC
        opening_balance = IntegerField()
        closing_balance = IntegerField()
        amount_due = IntegerField()
        due_date = DateField(index=True)
        settled_at = DateTimeField(null=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "credit_statement"
            indexes = ((("user", "period_start"), True),)

    migrator.migrate(
        migrator.add_column("shop_settings", "topup_min", IntegerField(default=1000)),
        migrator.add_column("shop_settings", "topup_max", IntegerField(default=100000)),
        migrator.add_column("shop_settings", "default_credit_limit", IntegerField(default=0)),
        migrator.add_column("shop_settings", "credit_terms_days", IntegerField(default=30)),
        # Existing groups keep the limits they have; new ones follow the shop's defaults.
        migrator.add_column("customer_group", "own_limits", BooleanField(default=True)),
        migrator.add_column("top_up", "purpose", CharField(default="top_up")),
    )
    # Groups still at the old built-in limits follow the shop's defaults from now on.
    CustomerGroup.update(own_limits=False).where(
        (CustomerGroup.topup_min == 1000)
        & (CustomerGroup.topup_max == 100000)
        & (CustomerGroup.default_credit_limit == 0)
    ).execute()
    db.create_tables([CreditStatement])
    LedgerAccount.create(
        code="bank_transfers", created_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    )


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "credit_statement"')
    migrator.migrate(
        migrator.drop_column("top_up", "purpose"),
        migrator.drop_column("customer_group", "own_limits"),
        migrator.drop_column("shop_settings", "credit_terms_days"),
        migrator.drop_column("shop_settings", "default_credit_limit"),
        migrator.drop_column("shop_settings", "topup_max"),
        migrator.drop_column("shop_settings", "topup_min"),
    )
