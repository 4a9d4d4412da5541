"""The shop's legal pages and the terms each order accepted (issue 24).

- `legal_page`: the owner's own text of each legal page (legal notice, terms of sale, privacy
  policy, model withdrawal form) in the shop's default language, its revision (0 until the owner
  first saves it) and when it was last saved. The same page in another language is a
  `translated_text` row (owner_kind "legal_page", owner_key the page's key, field "body"). A page
  without a row shows the shop's default text (models/shop/legal.py).
- `order.terms_version`: the version of the terms of sale the customer accepted at checkout
  ("" for orders placed elsewhere: marketplace imports, orders from before this migration).
"""

from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class LegalPage(Model):
        key = CharField(unique=True)
        body = TextField(default="")
        revision = IntegerField(default=0)
        updated_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "legal_page"

    db.create_tables([LegalPage])
    migrator.migrate(migrator.add_column("order", "terms_version", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("order", "terms_version"))
    db.execute_sql('DROP TABLE IF EXISTS "legal_page"')
