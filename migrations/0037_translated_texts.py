"""The owner's texts in more than one language (issue 23).

`translated_text`: what the owner wrote in a language other than the shop's default for one
field of one row (the shop's tagline, a group's perks, a reminder template's subject and body, a
category's reminder paragraph). The field itself keeps the text in the shop's default language;
a reader in another language gets the text written for it here, else that field
(models/shop/texts.py).
"""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class TranslatedText(Model):
        owner_kind = CharField()
        owner_key = CharField()
        field = CharField()
        language = CharField(max_length=8)
        text = TextField()
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "translated_text"
            indexes = ((("owner_kind", "owner_key", "field", "language"), True),)

    db.create_tables([TranslatedText])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "translated_text"')
