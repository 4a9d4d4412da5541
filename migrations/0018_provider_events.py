"""What payment providers told the shop: one append-only row per event, UNIQUE by provider and
event id, so a replayed webhook is recognised and moves nothing twice."""

from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model

from models.dialect import create_append_only_triggers
from models.dialect import drop_append_only_triggers

TABLE = "provider_event"


def up(migrator, db):
    class ProviderEvent(Model):
        provider = CharField()
        event_id = CharField()
        status = CharField()
        provider_payment_id = CharField()
        amount = IntegerField()
        currency = CharField(max_length=3)
        payment = CharField()  # top_up | order_payment | unknown
        received_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = TABLE
            indexes = ((("provider", "event_id"), True),)

    db.create_tables([ProviderEvent])
    create_append_only_triggers(db, (TABLE,))


def down(migrator, db):
    drop_append_only_triggers(db, (TABLE,))
    db.execute_sql(f'DROP TABLE "{TABLE}"')
