"""Customer groups with their settings, group applications, referral links and the admin audit list."""

import datetime

from peewee import BooleanField
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

    class CustomerGroup(Base):
        name = CharField(unique=True)
        perks = TextField(default="")
        is_default = BooleanField(default=False)
        open_to_applications = BooleanField(default=False)
        grants_referral_link = BooleanField(default=False)
        topup_min = IntegerField(default=1000)
        topup_max = IntegerField(default=100000)
        funds_discount_bp = IntegerField(default=0)
        default_credit_limit = IntegerField(default=0)
        pay_on_account = BooleanField(default=False)
        bonus_threshold = IntegerField(default=0)
        bonus_amount = IntegerField(default=0)
        affiliate_reward = IntegerField(default=0)
        reminders_enabled = BooleanField(default=True)
        retired_at = DateTimeField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class GroupApplication(Base):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        group = ForeignKeyField(CustomerGroup, on_delete="CASCADE")
        note = TextField(default="")
        state = CharField(default="pending", index=True)
        reason = TextField(default="")
        created_at = DateTimeField(index=True)
        decided_at = DateTimeField(null=True)
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="decisions")

    class AuditEntry(Base):
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        action = CharField(index=True)
        target = CharField(default="")
        before = TextField(default="")
        after = TextField(default="")
        at = DateTimeField(index=True)

    db.create_tables([CustomerGroup, GroupApplication, AuditEntry])
    # At most one pending application per customer and group, even under a double click.
    db.execute_sql(
        'CREATE UNIQUE INDEX "group_application_one_pending" ON "group_application" ("user_id", "group_id") '
        "WHERE state = 'pending'"
    )
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    basic = CustomerGroup.create(
        name="Basic", is_default=True, perks="Everything the shop offers.", created_at=now
    )
    CustomerGroup.create(
        name="VIP",
        open_to_applications=True,
        perks="2% off when you pay with account funds, and a 5 bonus on every top-up of 100.",
        funds_discount_bp=200,
        bonus_threshold=10000,
        bonus_amount=500,
        created_at=now,
    )
    CustomerGroup.create(
        name="Affiliate",
        open_to_applications=True,
        grants_referral_link=True,
        perks="Your own referral link: a reward in your account funds when someone you refer pays their first order.",
        affiliate_reward=500,
        created_at=now,
    )
    migrator.migrate(
        migrator.add_column(
            "user",
            "group_id",
            ForeignKeyField(CustomerGroup, null=True, field=CustomerGroup.id, on_delete="RESTRICT"),
        ),
        migrator.add_column("user", "referral_code", CharField(null=True, unique=True)),
        migrator.add_column(
            "user", "referred_by_id", ForeignKeyField(User, null=True, field=User.id, on_delete="SET NULL")
        ),
        migrator.add_column("shop_settings", "staff_money_limit", IntegerField(default=5000)),
    )
    db.execute_sql(f'UPDATE "user" SET group_id = {int(basic.id)}')  # noqa: S608 - an integer id


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("shop_settings", "staff_money_limit"),
        migrator.drop_column("user", "referred_by_id"),
        migrator.drop_column("user", "referral_code"),
        migrator.drop_column("user", "group_id"),
    )
    for table in ("audit_entry", "group_application", "customer_group"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
