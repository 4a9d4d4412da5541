"""Orders from marketplaces: each keeps its channel and the marketplace's own order number
(UNIQUE together, so importing the same order twice can't make two), the amount paid on the
marketplace, the API token the import endpoint accepts (only its hash), and the reports of
past imports."""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

CHANNEL_REF_INDEX = "order_channel_external_ref"


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class MarketplaceToken(Base):
        token_hash = CharField(unique=True)  # sha256 of the token; the token itself is never stored
        hint = CharField(default="")  # its last characters, so the owner can tell tokens apart
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True, index=True)

        class Meta:
            table_name = "marketplace_token"

    class MarketplaceImport(Base):
        source = CharField()  # csv | api
        filename = CharField(default="")
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        imported = IntegerField(default=0)
        already_imported = IntegerField(default=0)
        rejected = IntegerField(default=0)
        report = TextField(default="[]")  # JSON: one entry per order (outcome, lines, reasons)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            table_name = "marketplace_import"

    migrator.migrate(
        migrator.add_column("order", "external_ref", CharField(null=True)),
        migrator.add_column("order", "marketplace_amount", IntegerField(default=0)),
    )
    # NULL external_ref (every shop order) never collides: both SQLite and PostgreSQL allow many NULLs.
    migrator.migrate(migrator.add_index("order", ("channel", "external_ref"), unique=True))
    db.create_tables([MarketplaceToken, MarketplaceImport])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "marketplace_import"')
    db.execute_sql('DROP TABLE IF EXISTS "marketplace_token"')
    migrator.migrate(
        migrator.drop_index("order", CHANNEL_REF_INDEX),
        migrator.drop_column("order", "marketplace_amount"),
        migrator.drop_column("order", "external_ref"),
    )
