"""Users, shop settings, mail outbox and job heartbeats."""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        email = CharField(unique=True)
        password_hash = CharField(null=True)
        role = CharField(default="customer", index=True)
        first_name = CharField(default="")
        last_name = CharField(default="")
        session_token = CharField(unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        blocked_at = DateTimeField(null=True)

    class ShopSettings(Base):
        shop_name = CharField()
        base_url = CharField()
        contact_email = CharField()
        contact_phone = CharField(default="")
        country = CharField(max_length=2)
        locale = CharField()
        timezone = CharField()
        currency = CharField(max_length=3)
        bank_account_name = CharField(default="")
        bank_iban = CharField(default="")
        bank_bic = CharField(default="")
        bank_details_note = TextField(default="")
        updated_at = DateTimeField()
        revision = IntegerField(default=1)

        class Meta:
            table_name = "shop_settings"

    class OutboxMessage(Base):
        kind = CharField(index=True)
        to_address = CharField()
        subject = CharField()
        text_body = TextField()
        html_body = TextField(default="")
        state = CharField(default="queued", index=True)
        attempts = IntegerField(default=0)
        next_attempt_at = DateTimeField(index=True)
        last_error = TextField(default="")
        created_at = DateTimeField(index=True)
        sending_since = DateTimeField(null=True)
        sent_at = DateTimeField(null=True)
        uid = CharField(unique=True)

        class Meta:
            table_name = "outbox_message"

    class Heartbeat(Base):
        name = CharField(primary_key=True)
        at = DateTimeField()

    db.create_tables([User, ShopSettings, OutboxMessage, Heartbeat])


def down(migrator, db):
    for table in ("heartbeat", "outbox_message", "shop_settings", "user"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
