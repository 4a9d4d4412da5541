"""Customer accounts: profile fields, address book, registration drafts, emailed tokens,
throttling counters and the security activity log."""

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

    class Address(Base):
        user = ForeignKeyField(User, backref="addresses", on_delete="CASCADE", index=True)
        full_name = CharField()
        company = CharField(default="")
        line1 = CharField()
        line2 = CharField(default="")
        city = CharField()
        region = CharField(default="")
        postal_code = CharField()
        country = CharField(max_length=2)
        phone = CharField(default="")
        created_at = DateTimeField(default=datetime.datetime.utcnow)

    class RegistrationDraft(Base):
        id = CharField(primary_key=True)
        data = TextField(default="{}")
        password_hash = CharField(null=True)
        created_at = DateTimeField()
        expires_at = DateTimeField(index=True)

    class AccountToken(Base):
        id = CharField(primary_key=True)
        purpose = CharField(index=True)
        user = ForeignKeyField(User, null=True, on_delete="CASCADE", index=True)
        email = CharField()
        new_email = CharField(null=True)
        link_hash = CharField(null=True, unique=True)
        link_expires_at = DateTimeField(null=True)
        code_hash = CharField(null=True)
        code_expires_at = DateTimeField(null=True)
        code_attempts = IntegerField(default=0)
        sent_at = DateTimeField()
        used_at = DateTimeField(null=True)
        created_at = DateTimeField()

    class ThrottleCounter(Base):
        key = CharField(primary_key=True)
        failures = IntegerField(default=0)
        last_failure_at = DateTimeField()

    class SecurityEvent(Base):
        user = ForeignKeyField(User, on_delete="CASCADE")
        kind = CharField()
        detail = TextField(default="")
        actor = CharField(default="customer")
        ip = CharField(default="")
        user_agent = CharField(default="")
        at = DateTimeField(index=True)

        class Meta:
            indexes = ((("user", "at"), False),)

    db.create_tables([Address, RegistrationDraft, AccountToken, ThrottleCounter, SecurityEvent])
    migrator.migrate(
        migrator.add_column("user", "phone", CharField(default="")),
        migrator.add_column("user", "source", CharField(default="self")),
        migrator.add_column("user", "email_confirmed_at", DateTimeField(null=True)),
        migrator.add_column("user", "deleted_at", DateTimeField(null=True)),
        migrator.add_column(
            "user",
            "default_billing_id",
            ForeignKeyField(Address, null=True, field=Address.id, on_delete="SET NULL"),
        ),
        migrator.add_column(
            "user",
            "default_shipping_id",
            ForeignKeyField(Address, null=True, field=Address.id, on_delete="SET NULL"),
        ),
    )
    # Accounts that existed before email confirmation was introduced count as confirmed.
    db.execute_sql('UPDATE "user" SET email_confirmed_at = created_at')
    db.execute_sql('CREATE INDEX IF NOT EXISTS "user_created_at" ON "user" ("created_at")')


def down(migrator, db):
    migrator.migrate(
        *[
            migrator.drop_column("user", column)
            for column in (
                "default_shipping_id",
                "default_billing_id",
                "deleted_at",
                "email_confirmed_at",
                "source",
                "phone",
            )
        ]
    )
    for table in ("security_event", "throttle_counter", "account_token", "registration_draft", "address"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
